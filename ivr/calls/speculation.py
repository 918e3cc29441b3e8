"""Replies rendered before the caller has finished answering.

A reply that carries what only this call says (the name, the amount, the date
just promised) cannot come from the shared prompt cache, and rendering it
after the answer puts the speech engine between the caller's last word and
our first. But the dialog is a function of events: asked on a copy "what
would you say to this answer?", it names the reply without anything
happening. So while a question plays, the call renders the replies to the
answers the question is likely to get, and while the caller speaks, the
reply to what has been heard so far. When the answer comes, its reply is in
the cache, or being rendered and promoted to urgent
(:meth:`~ivr.voice.tts.Pyttsx3Synthesizer.render`).

Renders made here go behind every render a caller waits for
(:meth:`~ivr.voice.tts.Pyttsx3Synthesizer.prerender`), only the first prompt
of a reply is rendered (the rest is rendered while it plays), and an answer
whose reply depends on its value ("dia cinco" and "dia seis" get different
read-backs) is left for the partial results.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime as dt
from collections.abc import Sequence

import structlog

from ivr.calls.voice import VoiceStack
from ivr.dialog import events as ev
from ivr.dialog.conversation import Dialog

log = structlog.get_logger(__name__)

Kind = tuple[str, ...]
"""Phrases of one intent."""

MAX_KINDS = 4
"""Kinds of answer (intents) whose replies are rendered while a question plays,
in the order the grammar lists them (the usual answers come first)."""


def trial_copy(dialog: Dialog) -> Dialog:
    """A copy of ``dialog`` to ask questions of; the flow, the prompts and the
    call's context are shared (never changed by a dialog), the rest copied."""
    shared: dict[int, object] = {id(x): x for x in (dialog.flow, dialog.catalog, dialog.ctx)}
    return copy.deepcopy(dialog, shared)


def reply_text(dialog: Dialog, event: ev.Event) -> str | None:
    """The words of the first prompt ``dialog`` would play after ``event``,
    found on a copy (the call's own dialog is not touched); None if none."""
    trial = trial_copy(dialog)
    for action in trial.handle(event):
        if isinstance(action, ev.Play):
            return trial.rendered_text(action)
    return None


def answer_kinds(
    phrases: tuple[str, ...], locale: str, context: str
) -> tuple[tuple[str, ...], ...]:
    """The grammar's phrases (as the NLU reads them) grouped by intent, in the
    order each intent first appears: the first and the last phrase of each
    group (neighbours often say the same thing: "dia primeiro", "dia um")."""
    from ivr.dialog.nlu import understand

    today = dt.date.today()  # an intent never depends on the day
    groups: dict[str, list[str]] = {}
    for phrase in phrases:
        intent = understand(phrase, locale, today, context=context).intent
        if intent != "unknown":
            groups.setdefault(intent, []).append(phrase)
    return tuple(tuple(dict.fromkeys((g[0], g[-1]))) for g in groups.values())


_KINDS: dict[tuple[tuple[str, ...], str, str], tuple[Kind, ...]] = {}
"""answer_kinds per grammar, locale and context: the same for every call."""


async def cached_answer_kinds(
    phrases: tuple[str, ...], locale: str, context: str
) -> tuple[Kind, ...]:
    """:func:`answer_kinds`, worked out once per grammar in a thread (the NLU
    over a long grammar takes a tenth of a second: not on the event loop)."""
    key = (phrases, locale, context)
    kinds = _KINDS.get(key)
    if kinds is None:
        kinds = await asyncio.to_thread(answer_kinds, phrases, locale, context)
        _KINDS[key] = kinds
    return kinds


class ReplyWarmer:
    """One call's renders ahead of need; never raises into the call."""

    def __init__(self, voice: VoiceStack, locale: str) -> None:
        self.voice = voice
        self.locale = locale
        self._question: asyncio.Task[None] | None = None
        self._heard: set[asyncio.Task[None]] = set()
        self.asked = 0  # replies asked for ahead of need (rendered, or found in the cache)

    def question(self, dialog: Dialog, listen: ev.Listen) -> None:
        """A question is asked: render the replies to its usual answers (the same
        question waiting for more keys changes nothing)."""
        if listen.entry_pending:
            return
        if self._question is not None:
            self._question.cancel()  # the last question's answers are moot
        phrases = self.voice.grammar(self.locale, listen.grammar)
        if not phrases:
            return
        understood = tuple(dict.fromkeys(self.voice.to_understood_text(p) for p in phrases))
        try:
            trial = trial_copy(dialog)  # as it is now: later events do not change the question
        except Exception:
            log.debug("speculation.failed", exc_info=True)
            return
        self._question = asyncio.create_task(self._warm_question(trial, understood, listen.grammar))

    def heard(self, dialog: Dialog, text: str) -> None:
        """The caller has said ``text`` so far: render the reply to it as an answer."""
        try:
            reply = reply_text(dialog, ev.Speech(text, 1.0, True))
        except Exception:
            log.debug("speculation.failed", exc_info=True)
            return
        if reply is not None:
            task = asyncio.create_task(self._render([reply]))
            self._heard.add(task)
            task.add_done_callback(self._heard.discard)

    async def settled(self) -> None:
        """Until every render started so far is done (for tests and benchmarks)."""
        tasks = [t for t in (self._question, *self._heard) if t is not None]
        await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self) -> None:
        tasks = [t for t in (self._question, *self._heard) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task

    async def _warm_question(self, dialog: Dialog, phrases: Sequence[str], context: str) -> None:
        try:
            kinds = (await cached_answer_kinds(tuple(phrases), self.locale, context))[:MAX_KINDS]
            for kind in kinds:
                replies = {reply_text(dialog, ev.Speech(p, 1.0, True)) for p in kind}
                if len(replies) == 1 and (reply := replies.pop()) is not None:
                    await self._render([reply])
                await asyncio.sleep(0)  # other calls' audio between dry runs
        except asyncio.CancelledError:
            raise
        except Exception:
            log.debug("speculation.failed", exc_info=True)

    async def _render(self, texts: list[str]) -> None:
        self.asked += len(texts)
        with contextlib.suppress(Exception):
            # One call's guesses: a reply said to many callers becomes common when said.
            await self.voice.synthesizer.prerender(texts, self.locale, personal=True)
