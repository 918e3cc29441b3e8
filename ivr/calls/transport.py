"""A live call's Media Streams socket: messages in, prompts, marks and clears out.

Only this module touches the WebSocket and the Media Streams codec for a
call, so the rest of the call sees parsed messages and "play this audio",
"stop the audio", "wait until it has played". It keeps what is playing (by
mark name) because only the carrier's echoed marks say when a prompt has
really reached the caller's ear, and a prompt that may not be interrupted
must never be cleared by the caller's input.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator
from dataclasses import dataclass

import structlog
from aiohttp import WSCloseCode, WSMsgType, web

from ivr import metrics
from ivr.audio import mulaw
from ivr.telephony import media_codec as mc

log = structlog.get_logger(__name__)

FRAMES_PER_MESSAGE = 10
"""20 ms frames sent in one media message after the first (see :meth:`MediaTransport.play`)."""


class StreamClosed(Exception):
    """The socket closed or failed: the call ends without a word."""


@dataclass
class Playing:
    play_id: str
    prompt_id: str
    barge_in: bool


class MediaTransport:
    """One call's socket, with the prompts sent on it that have not played yet."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.seq = mc.StreamSequence()
        self.stream_sid: str | None = None
        self.call_sid: str | None = None  # for log lines only
        self.playing: OrderedDict[str, Playing] = OrderedDict()
        self.drained = asyncio.Event()
        self.drained.set()
        self.input_at: float | None = None
        self.ended = False

    @property
    def closed(self) -> bool:
        return self.ended or self.ws.closed

    def line_ended(self) -> None:
        """The call is over: nothing sent now would be heard, so nothing is
        played any more and whoever waits for a prompt to play stops waiting."""
        self.ended = True
        self.playing.clear()
        self.drained.set()

    @property
    def idle(self) -> bool:
        """Nothing sent is still playing."""
        return not self.playing

    # ------------------------------------------------------------ inbound

    async def messages(self, start_timeout_s: float) -> AsyncGenerator[mc.InboundMessage, None]:
        """Inbound messages, in sequence, until the socket ends.

        A stream not bound to its call (:meth:`bind`) within ``start_timeout_s``
        ends here with one log line. Raises
        :class:`~ivr.telephony.media_codec.MalformedMessage` for anything
        Twilio would never send.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + start_timeout_s
        while True:
            within_s = None if self.stream_sid else max(0.0, deadline - loop.time())
            try:
                msg = await self._receive(within_s)
            except TimeoutError:
                log.warning("media.start_timeout", timeout_s=start_timeout_s)
                return
            except StreamClosed:
                return
            if msg is not None:
                yield msg

    async def _receive(self, within_s: float | None) -> mc.InboundMessage | None:
        """The next message; None for a frame that carries none."""
        msg = await self.ws.receive(timeout=within_s)
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
            raise StreamClosed
        if msg.type == WSMsgType.TEXT:
            parsed = mc.parse_inbound(msg.data)
            self.seq.feed(parsed)
            return parsed
        if msg.type == WSMsgType.BINARY:
            raise mc.MalformedMessage(mc.ERROR_BINARY_FRAME, "binary frame")
        if msg.type == WSMsgType.ERROR:
            log.warning("media.ws_error", error=str(self.ws.exception()))
            raise StreamClosed
        return None

    def mark_played(self, name: str) -> bool:
        """The carrier echoed a mark; True when it ended one of our prompts."""
        if self.playing.pop(name, None) is None:
            return False
        if not self.playing:
            self.drained.set()
        return True

    def input_arrived(self) -> None:
        """The caller answered: the next prompt's first frame measures the turn."""
        self.input_at = time.perf_counter()

    # ------------------------------------------------------------ outbound

    async def play(self, audio: bytes, play_id: str, prompt_id: str, barge_in: bool) -> None:
        """Send a prompt as 20 ms frames, grouped ten to a message after the first.

        The first frame goes alone so the caller hears the reply as soon as
        possible; grouping the rest (Twilio accepts chunks longer than 20 ms)
        cuts the messages per prompt tenfold, which keeps the event loop free
        for the other calls' audio. A final mark says when it has played.
        """
        if self.ended:
            return
        self.playing[play_id] = Playing(play_id, prompt_id, barge_in)
        self.drained.clear()
        if self.stream_sid is None or self.ws.closed:
            return
        frames = list(mulaw.frames(audio))
        n = FRAMES_PER_MESSAGE
        chunks = [frames[:1]] + [frames[i : i + n] for i in range(1, len(frames), n)]
        for index, group in enumerate(chunks):
            if not group:
                continue
            payload = b"".join(group)
            await self.send(mc.OutMedia(payload=payload))
            if index == 0 and self.input_at is not None:
                latency = (time.perf_counter() - self.input_at) * 1000
                metrics.TURN_SECONDS.observe(latency / 1000)
                log.debug("turn.first_frame", latency_ms=round(latency, 1), call_sid=self.call_sid)
                self.input_at = None
        await self.send(mc.OutMark(name=play_id))

    def barge(self, force: bool = False) -> None:
        """Caller input during a prompt: stop the audio (Twilio returns the marks).

        Without ``force`` only when every prompt playing may be interrupted.
        """
        if not self.playing or self.stream_sid is None:
            return
        if not force and not all(p.barge_in for p in self.playing.values()):
            return
        asyncio.get_running_loop().create_task(self.send(mc.OutClear()))

    async def wait_drained(self, within_s: float) -> None:
        """Wait (at most ``within_s``) until everything sent has played."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drained.wait(), within_s)

    async def send(self, msg: mc.OutboundMessage) -> None:
        if self.closed or self.stream_sid is None:
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.send_str(mc.encode_outbound(self.stream_sid, msg))

    def bind(self, start: mc.Start) -> None:
        """The stream is this call's: prompts may go out on it."""
        self.stream_sid, self.call_sid = start.stream_sid, start.call_sid

    async def close(self) -> None:
        if not self.ws.closed:
            await self.ws.close()

    async def refuse(self) -> None:
        """Close a stream that is not this call's, saying nothing."""
        await self.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"stream refused")

    def close_soon(self) -> None:
        """Close from synchronous code (a webhook saw the call end)."""
        if not self.ws.closed:
            asyncio.get_running_loop().create_task(self.ws.close())
