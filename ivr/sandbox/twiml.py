"""The TwiML walker: runs a call's documents verb by verb, as Twilio does.

Supported verbs: ``Say``, ``Play``, ``Pause``, ``Gather`` (dtmf and, from a
:class:`~ivr.sandbox.callee.Speak` step's transcript, speech), ``Redirect``,
``Hangup``, ``Reject``, ``Dial`` (``Number``/``Client``/``Sip``/``Queue``, see
:mod:`ivr.sandbox.dial`), ``Enqueue``/``Leave`` (see :mod:`ivr.sandbox.queues`)
and ``Connect``/``Stream`` (see :mod:`ivr.sandbox.stream`). A verb it does not
know is logged as error 12200 and skipped. A failed fetch is error 11200, an
unparsable document 12100; both end the call, like Twilio's "application
error" message.
"""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit, urlunsplit

from ivr.sandbox.legs import voice_params
from ivr.sandbox.line import InputSink, Line, SpeechInput
from ivr.sandbox.stream import StreamSession

if TYPE_CHECKING:
    from ivr.sandbox.engine import Engine
    from ivr.sandbox.legs import LiveCall

ERROR_HTTP = 11200
ERROR_PARSE = 12100
ERROR_SCHEMA = 12200


class HangupSignal(Exception):
    """The document (or a failure) ended the call."""


class LeaveSignal(Exception):
    """``<Leave>`` in a queue's wait document."""


class TwimlError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message


@dataclass
class Document:
    """A parsed TwiML document and the URL it came from (base for relative URLs)."""

    root: ET.Element
    url: str | None
    method: str = "POST"


def parse_twiml(text: str) -> ET.Element:
    """Parse a TwiML document; its root must be ``<Response>``."""
    try:
        root = ET.fromstring(text.strip())
    except ET.ParseError as exc:
        raise TwimlError(ERROR_PARSE, f"Document parse failure: {exc}") from None
    if root.tag != "Response":
        raise TwimlError(ERROR_PARSE, f"Document parse failure: root is <{root.tag}>")
    return root


def text_of(el: ET.Element) -> str:
    return "".join(el.itertext()).strip()


def as_bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() == "true"


def to_websocket_url(url: str) -> str:
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


Handler = Callable[[ET.Element, Document], Awaitable[Document | None]]


class Walker:
    """Runs TwiML for one call leg; returns when the documents run out."""

    def __init__(self, engine: Engine, live: LiveCall) -> None:
        self.engine = engine
        self.live = live
        self.handlers: dict[str, Handler] = {
            "Say": self._say,
            "Play": self._play,
            "Pause": self._pause,
            "Gather": self._gather,
            "Redirect": self._redirect,
            "Hangup": self._hangup,
            "Reject": self._hangup,
            "Leave": self._leave,
            "Connect": self._connect,
            "Start": self._start,
            "Dial": self._dial,
            "Enqueue": self._enqueue,
        }

    @property
    def line(self) -> Line:
        assert self.live.line is not None
        return self.live.line

    # ------------------------------------------------------------------ documents

    async def run(self, doc: Document) -> None:
        current: Document | None = doc
        while current is not None:
            current = await self.run_document(current)

    async def run_document(self, doc: Document) -> Document | None:
        for verb in list(doc.root):
            handler = self.handlers.get(verb.tag)
            if handler is None:
                self.live.record.error(ERROR_SCHEMA, f"unsupported verb <{verb.tag}>")
                continue
            self.live.record.log("verb", verb=verb.tag)
            nxt = await handler(verb, doc)
            if nxt is not None:
                return nxt
        return None

    def resolve(self, url: str | None, doc: Document) -> str | None:
        if not url:
            return doc.url
        base = doc.url or self.live.record.url
        return urljoin(base, url) if base else url

    def resolve_optional(self, url: str | None, doc: Document) -> str | None:
        """Resolve ``url`` against the document if it is given; None stays None."""
        return self.resolve(url, doc) if url else None

    async def fetch(
        self, kind: str, url: str, method: str = "POST", extra: dict[str, str] | None = None
    ) -> Document:
        """Request TwiML; on any failure log it and end the call (HangupSignal)."""
        params = voice_params(self.live)
        params.update(extra or {})
        rec = await self.engine.poster.send(kind, url, params, method, self.live.record.callbacks)
        if rec.error is not None or rec.status is None or not 200 <= rec.status < 300:
            detail = rec.error or f"status {rec.status}"
            self.live.record.error(ERROR_HTTP, f"HTTP retrieval failure: {url}: {detail}")
            raise HangupSignal
        try:
            root = parse_twiml(rec.body)
        except TwimlError as exc:
            self.live.record.error(exc.code, f"{exc.message} ({url})")
            raise HangupSignal from None
        return Document(root, url, method.upper())

    # ------------------------------------------------------------------ prompts

    def _say_ms(self, text: str) -> int:
        cfg = self.engine.config
        return max(cfg.say_min_ms, len(text.split()) * cfg.say_ms_per_word)

    def _loops(self, el: ET.Element) -> int:
        try:
            loops = int(el.get("loop", "1"))
        except ValueError:
            loops = 1
        return 1000 if loops <= 0 else loops

    async def play_prompt(self, el: ET.Element, interrupt: Callable[[], bool] | None) -> bool:
        """Play a Say/Play/Pause; False if ``interrupt()`` cut it short."""
        line = self.line
        stop = interrupt or (lambda: False)
        if el.tag == "Pause":
            target = line.media_ms + int(float(el.get("length", "1")) * 1000)
            await line.wait_until(lambda: line.media_ms >= target or stop(), None)
            return not stop()
        for _ in range(self._loops(el)):
            if el.tag == "Say":
                text = text_of(el)
                self.live.record.heard_text.append(text)
                self.live.record.log("say", text=text, language=el.get("language"))
                duration = self._say_ms(text)
            else:
                digits = el.get("digits")
                if digits:
                    self.live.record.log("play-digits", digits=digits)
                    duration = 100 * len(digits)
                else:
                    url = text_of(el)
                    self.live.record.played_urls.append(url)
                    self.live.record.log("play", url=url)
                    duration = int(self.engine.config.play_seconds * 1000)
            clip = line.play_clip(duration)

            def finished(clip: asyncio.Future[bool] = clip) -> bool:
                return clip.done() or stop()

            await line.wait_until(finished, None)
            if not clip.done() or not clip.result():
                line.stop_clips()
                return False
        return True

    async def _say(self, el: ET.Element, doc: Document) -> Document | None:
        await self.play_prompt(el, None)
        return None

    _play = _say

    async def _pause(self, el: ET.Element, doc: Document) -> Document | None:
        await self.play_prompt(el, None)
        return None

    # ------------------------------------------------------------------ input

    async def _gather(self, el: ET.Element, doc: Document) -> Document | None:
        line = self.line
        inputs = set(el.get("input", "dtmf").split())
        try:
            timeout = float(el.get("timeout", "5"))
        except ValueError:
            timeout = 5.0
        num_digits = int(el.get("numDigits", "0") or 0) or None
        finish = el.get("finishOnKey", "#")
        sink = InputSink(dtmf="dtmf" in inputs, speech="speech" in inputs)
        line.input_sink = sink
        digits = ""
        finished_on = ""
        speech: SpeechInput | None = None
        try:
            for child in el:
                if child.tag not in ("Say", "Play", "Pause"):
                    self.live.record.error(ERROR_SCHEMA, f"<{child.tag}> not allowed in <Gather>")
                    continue
                if not sink.queue.empty():
                    break
                await self.play_prompt(child, lambda: not sink.queue.empty())
            while True:
                got = await line.wait_until(lambda: not sink.queue.empty(), timeout)
                if not got:
                    if sink.speech and line.voice_pending and not line.closed:
                        continue  # the callee is mid-sentence; the timeout counts from silence
                    break
                item = sink.queue.get_nowait()
                if isinstance(item, SpeechInput):
                    speech = item
                    break
                if finish and item == finish:
                    finished_on = item
                    break
                digits += item
                if num_digits is not None and len(digits) >= num_digits:
                    break
        finally:
            line.input_sink = None
        self.live.record.log("gather", digits=digits, speech=speech and speech.transcript)
        got_input = bool(digits) or speech is not None
        if not got_input and not as_bool(el.get("actionOnEmptyResult")):
            return None
        params: dict[str, str] = {}
        if speech is not None:
            params["SpeechResult"] = speech.transcript
            params["Confidence"] = f"{speech.confidence:.8f}"
        elif got_input:
            params["Digits"] = digits
            params["FinishedOnKey"] = finished_on
        target = self.resolve(el.get("action"), doc)
        if target is None:
            return None
        return await self.fetch("action", target, el.get("method", "POST"), params)

    # ------------------------------------------------------------------ flow

    async def _redirect(self, el: ET.Element, doc: Document) -> Document | None:
        target = self.resolve(text_of(el), doc)
        if target is None:
            raise HangupSignal
        return await self.fetch("redirect", target, el.get("method", "POST"))

    async def _hangup(self, el: ET.Element, doc: Document) -> Document | None:
        raise HangupSignal

    async def _leave(self, el: ET.Element, doc: Document) -> Document | None:
        raise LeaveSignal

    async def _start(self, el: ET.Element, doc: Document) -> Document | None:
        self.live.record.log("unsupported", verb="Start")
        return None

    # ------------------------------------------------------------------ streams

    async def _connect(self, el: ET.Element, doc: Document) -> Document | None:
        for noun in el:
            if noun.tag != "Stream":
                self.live.record.error(ERROR_SCHEMA, f"unsupported <Connect> noun <{noun.tag}>")
                continue
            await self.run_stream(noun, doc)
        action = el.get("action")
        if action:
            target = self.resolve(action, doc)
            if target:
                return await self.fetch("action", target, el.get("method", "POST"))
        return None

    async def run_stream(self, el: ET.Element, doc: Document) -> str:
        url = el.get("url", "")
        if doc.url and "://" not in url:
            url = to_websocket_url(urljoin(doc.url, url))
        parameters = {
            p.get("name", ""): p.get("value", "") for p in el.findall("Parameter") if p.get("name")
        }
        cfg = self.engine.config
        session = StreamSession(
            call=self.live.record,
            line=self.line,
            url=url,
            parameters=parameters,
            session=self.engine.session,
            poster=self.engine.poster,
            auth_token=cfg.auth_token,
            rewrites=cfg.rewrite_base,
            stream_base=cfg.rewrite_stream_base,
            drop_after_frames=cfg.faults.drop_stream_after_frames,
            name=el.get("name"),
            status_callback=self.resolve_optional(el.get("statusCallback"), doc),
            status_callback_method=el.get("statusCallbackMethod", "POST"),
        )
        return await session.run()

    # ------------------------------------------------------------------ dial and queues

    async def _dial(self, el: ET.Element, doc: Document) -> Document | None:
        from ivr.sandbox.dial import run_dial

        return await run_dial(self, el, doc)

    async def _enqueue(self, el: ET.Element, doc: Document) -> Document | None:
        from ivr.sandbox.queues import run_enqueue

        return await run_enqueue(self, el, doc)
