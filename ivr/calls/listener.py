"""A live call's ears: caller audio to the recognizer, keys, silence, barge-in.

Turning what the caller does into dialog events is timing-sensitive and
separate from what the dialog decides: audio must reach the recognizer
without ever blocking the socket (a queue, coalesced when the recognizer
falls behind), the silence timer may only run while the service is quiet
and waiting for an answer, and any answer (words or keys) interrupts a
prompt that allows it. The listener owns those rules; it only puts events on
the dialog's queue and asks the transport to stop the audio.

When the caller hangs up, what they were saying is not dropped: the audio
still queued and the utterance in progress are heard out, within
``LAST_WORDS_LIMIT_S``, and kept apart as their last words for the call's
record. The dialog never hears them: the line is gone and nothing said then
was confirmed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence

import structlog

from ivr import metrics
from ivr.calls.transport import MediaTransport
from ivr.dialog import events as ev
from ivr.voice.interfaces import AsrEvent, Recognizer

log = structlog.get_logger(__name__)

SAMPLES_PER_SECOND = 8000
LAST_WORDS_LIMIT_S = 1.0
"""How long the call's end waits for the recognizer to hear out the caller's
last words; what it has not heard by then is lost, the call's end never stalls."""


class CallListener:
    """Listens while the dialog waits for an answer (``Listen``), and only then."""

    def __init__(
        self,
        transport: MediaTransport,
        events: asyncio.Queue[ev.Event | None],
        *,
        grammar: Callable[[str], Sequence[str] | None],
        understood: Callable[[str], str],
        heard: Callable[[str], None] | None = None,
    ) -> None:
        self.transport = transport
        self.events = events
        self.grammar = grammar  # a dialog context's phrases, for this call's locale
        self.understood = understood
        self.heard = heard  # told each new partial result while an answer is awaited
        self.recognizer: Recognizer | None = None
        self.listen: ev.Listen | None = None
        self.silence_timer: asyncio.TimerHandle | None = None
        self.ending = False
        self._speaking = False  # a partial result not yet closed by a final one
        self._last_words: list[AsrEvent] | None = None  # hearing out after a hang-up
        self._last_words_by = 0.0  # loop time
        self._audio: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self, recognizer: Recognizer | None) -> None:
        """Recognize speech with ``recognizer`` (None: keypad only)."""
        self.recognizer = recognizer
        if recognizer is not None:
            self._task = asyncio.create_task(self._recognize(recognizer))

    async def close(self) -> None:
        self.cancel_silence()
        self._audio.put_nowait(None)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        if self.recognizer is not None:
            self.recognizer.close()

    def stop(self) -> None:
        """The call is ending: hear nothing more."""
        self.ending = True
        self.listen = None
        self.cancel_silence()

    def caller_hung_up(self) -> None:
        """The caller hung up. If an answer was awaited or they were speaking,
        what is queued and the utterance in progress are heard out for
        :meth:`last_words`; from now on no result reaches the dialog."""
        awaited = self.listen is not None or self._speaking
        running = not self.ending and self._task is not None and not self._task.done()
        self.stop()
        if running and awaited:
            self._last_words = []
            self._last_words_by = asyncio.get_running_loop().time() + LAST_WORDS_LIMIT_S
            self._audio.put_nowait(None)  # the end of the line's audio

    async def last_words(self) -> AsrEvent | None:
        """What the caller said as they hung up (the dialog's words for it, the
        mean confidence), heard out until ``LAST_WORDS_LIMIT_S`` after the
        hang-up; None when nothing was said."""
        if self._last_words is None or self._task is None:
            return None
        left = self._last_words_by - asyncio.get_running_loop().time()
        await asyncio.wait({self._task}, timeout=max(left, 0.0))
        if not self._task.done():
            log.warning(
                "asr.last_words_cut", limit_s=LAST_WORDS_LIMIT_S, call_sid=self.transport.call_sid
            )
            self._task.cancel()  # close() waits for it
        heard = [r for r in self._last_words if r.text]
        if not heard:
            return None
        text = " ".join(self.understood(r.text) for r in heard)
        log.info("asr.last_words", results=len(heard), call_sid=self.transport.call_sid)
        return AsrEvent(text, sum(r.confidence for r in heard) / len(heard), True)

    # ------------------------------------------------------------ input

    def audio(self, payload: bytes) -> None:
        if self.recognizer is not None and not self.ending:
            self._audio.put_nowait(payload)

    def digit(self, digit: str) -> None:
        """Each key goes to the dialog as it comes; the flow buffers dates and amounts."""
        self.transport.barge()
        if self.listen is None:
            return
        self._input_arrived()
        self.events.put_nowait(ev.Digits(digit))

    async def _recognize(self, recognizer: Recognizer) -> None:
        """Feed the recognizer until the line's audio ends; after a hang-up,
        then ask it for the end of the utterance in progress."""
        ended = False
        while not ended:
            chunk, ended = await self._queued()
            if not chunk:
                continue
            metrics.RECOGNIZER_LAG.observe(len(chunk) / SAMPLES_PER_SECOND)
            try:
                result = await recognizer.accept(chunk)
            except Exception as exc:  # a recognizer failure ends recognition, not the call
                log.error("asr.failed", error=str(exc), call_sid=self.transport.call_sid)
                return
            if result is not None:
                self._result(result)
        if self._last_words is not None:
            try:
                result = await recognizer.finish()
            except Exception as exc:
                log.error("asr.failed", error=str(exc), call_sid=self.transport.call_sid)
                return
            if result is not None:
                self._result(result)

    async def _queued(self) -> tuple[bytes, bool]:
        """The audio queued, coalesced so a slow executor never falls behind,
        and whether the line's audio ended with it."""
        parts: list[bytes] = []
        chunk = await self._audio.get()
        while chunk is not None:
            parts.append(chunk)
            if self._audio.empty():
                return b"".join(parts), False
            chunk = self._audio.get_nowait()
        return b"".join(parts), True

    def _result(self, result: AsrEvent) -> None:
        if self._last_words is not None:  # the caller hung up: for the record only
            if result.final and result.text:
                self._last_words.append(result)
            return
        if not result.final:
            self._speaking = self._speaking or bool(result.text)
            if result.text and self.listen is not None:
                self.transport.barge()
                if self.heard is not None:
                    self.heard(self.understood(result.text))
            return
        self._speaking = False
        if not result.text or self.listen is None:
            return
        text = self.understood(result.text)
        log.debug("asr.final", text=result.text, call_sid=self.transport.call_sid)
        # A short answer can end (150 ms of quiet) within one coalesced chunk,
        # with no partial result before it: it barges in all the same.
        self.transport.barge()
        self._input_arrived()
        self.events.put_nowait(ev.Speech(text, result.confidence, True))

    def _input_arrived(self) -> None:
        self.transport.input_arrived()
        self.cancel_silence()

    # ------------------------------------------------------------ questions

    async def listen_for(self, action: ev.Listen) -> None:
        """A new question: its grammar, and the silence timer once the prompt has played.
        The same question waiting for the rest of a keypad entry only changes the wait."""
        same_question = action.entry_pending and self.listen is not None
        self.listen = action
        self.cancel_silence()
        if self.recognizer is not None and not same_question:
            phrases = self.grammar(action.grammar)
            if phrases:
                # A new question: whatever was heard before belongs to the last one.
                self.recognizer.reset()
                self._speaking = False
                await self.recognizer.set_grammar(phrases)
        self.arm_silence()

    def arm_silence(self) -> None:
        """Start the silence timer if an answer is awaited and nothing is playing."""
        if self.listen is None or not self.transport.idle or self.silence_timer is not None:
            return
        loop = asyncio.get_running_loop()
        self.silence_timer = loop.call_later(self.listen.timeout_s, self._silence)

    def _silence(self) -> None:
        self.silence_timer = None
        if self.listen is None:
            return
        self.listen = None
        self.events.put_nowait(ev.Silence())

    def cancel_silence(self) -> None:
        if self.silence_timer is not None:
            self.silence_timer.cancel()
            self.silence_timer = None
