"""The Media Streams client: the sandbox's side of ``<Connect><Stream>``.

Connects to the service's WebSocket as Twilio does (``X-Twilio-Signature`` on
the upgrade, computed over the ``wss://`` URL with no parameters), sends
``connected`` and ``start``, then one ``media`` frame per 20 ms of call time
carrying the callee's voice (mu-law silence while the callee is quiet), a
``dtmf`` event per key pressed, each ``mark`` once the audio queued before it
has played, and ``stop`` when the callee hangs up or the call leaves the
stream. Every message is written by :func:`ivr.telephony.media_codec.encode_inbound`
and every message from the service is read by ``parse_outbound``: a malformed
one is error ``ERROR_MALFORMED`` (31924), a binary frame ``ERROR_BINARY_FRAME``
(31950), and either ends the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

import aiohttp
from twilio.request_validator import RequestValidator

from ivr.sandbox.line import Line
from ivr.sandbox.records import SandboxCall, rfc2822, utcnow
from ivr.sandbox.webhooks import SignedPoster, rewrite_url
from ivr.telephony.media_codec import (
    ERROR_BINARY_FRAME,
    ERROR_HANDSHAKE,
    Connected,
    Dtmf,
    InboundMessage,
    MalformedMessage,
    Mark,
    Media,
    OutClear,
    OutMark,
    OutMedia,
    Start,
    Stop,
    encode_inbound,
    new_stream_sid,
    parse_outbound,
)

SEND_TIMEOUT_S = 5.0


class StreamSession:
    """One bidirectional Media Stream of one call."""

    def __init__(
        self,
        *,
        call: SandboxCall,
        line: Line,
        url: str,
        parameters: Mapping[str, str],
        session: aiohttp.ClientSession,
        poster: SignedPoster,
        auth_token: str,
        rewrites: Mapping[str, str],
        stream_base: str | None,
        drop_after_frames: int | None = None,
        name: str | None = None,
        status_callback: str | None = None,
        status_callback_method: str = "POST",
    ) -> None:
        self.call = call
        self.line = line
        self.url = url
        self.parameters = dict(parameters)
        self.session = session
        self.poster = poster
        self.auth_token = auth_token
        self.rewrites = rewrites
        self.stream_base = stream_base
        self.drop_after_frames = drop_after_frames
        self.name = name
        self.status_callback = status_callback
        self.status_callback_method = status_callback_method
        self.stream_sid = new_stream_sid()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._seq = 0
        self._chunk = 0
        self._start_ms = 0
        self._lock = asyncio.Lock()
        self._dead = False
        self.dropped = False
        self.end_reason = ""

    # ------------------------------------------------------------------ sending

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    async def _send(self, msg: InboundMessage, kind: str) -> None:
        ws = self._ws
        if ws is None or self._dead or ws.closed:
            return
        async with self._lock:
            try:
                await asyncio.wait_for(ws.send_str(encode_inbound(msg)), SEND_TIMEOUT_S)
            except (ConnectionError, aiohttp.ClientError, RuntimeError, TimeoutError):
                self._dead = True
                return
        self.call.stream_messages_out.append(kind)

    async def send_media(self, frame: bytes) -> None:
        if self._dead:
            return
        self._chunk += 1
        await self._send(
            Media(
                stream_sid=self.stream_sid,
                sequence_number=self._next_seq(),
                chunk=self._chunk,
                timestamp=self.line.media_ms - self._start_ms,
                payload=frame,
            ),
            "media",
        )
        if self.drop_after_frames is not None and self._chunk >= self.drop_after_frames:
            self._drop()

    async def send_mark(self, name: str) -> None:
        await self._send(
            Mark(stream_sid=self.stream_sid, sequence_number=self._next_seq(), name=name), "mark"
        )

    async def send_dtmf(self, digit: str) -> None:
        await self._send(
            Dtmf(stream_sid=self.stream_sid, sequence_number=self._next_seq(), digit=digit),
            "dtmf",
        )

    def _drop(self) -> None:
        """Fault injection: kill the TCP connection without stop or a close frame."""
        self._dead = True
        self.dropped = True
        self.call.log("stream-dropped", stream_sid=self.stream_sid, frames=self._chunk)
        conn = getattr(self._ws, "_conn", None)
        transport = getattr(conn, "transport", None)
        if transport is not None:
            transport.abort()

    # ------------------------------------------------------------------ running

    async def _stream_status(self, event: str, error: str | None = None) -> None:
        if not self.status_callback:
            return
        params = {
            "AccountSid": self.call.account_sid,
            "CallSid": self.call.sid,
            "StreamSid": self.stream_sid,
            "StreamName": self.name or self.stream_sid,
            "StreamEvent": event,
            "Timestamp": rfc2822(utcnow()) or "",
        }
        if error:
            params["StreamError"] = error
        await self.poster.send(
            "stream-status",
            self.status_callback,
            params,
            self.status_callback_method,
            self.call.callbacks,
        )

    async def run(self) -> str:
        """Run the stream until it ends; returns why (``service-closed``, ``error``, ...).

        Cancelling the task (callee hung up, call redirected) sends ``stop``
        and closes the socket, as Twilio does.
        """
        signature = RequestValidator(self.auth_token).compute_signature(self.url, {})
        target = rewrite_url(self.url, self.rewrites, self.stream_base)
        self.call.log("stream-connect", url=self.url, target=target)
        try:
            self._ws = await self.session.ws_connect(
                target,
                headers={"X-Twilio-Signature": signature},
                autoping=True,
                max_msg_size=0,
                timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=2.0),
            )
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            self.call.error(ERROR_HANDSHAKE, f"Stream - WebSocket - Handshake Error: {exc}")
            await self._stream_status("stream-error", str(exc))
            self.end_reason = "connect-failed"
            return self.end_reason
        self.call.stream_sids.append(self.stream_sid)
        self.call.stream_parameters.append(dict(self.parameters))
        self._start_ms = self.line.media_ms
        await self._send(Connected(), "connected")
        await self._send(
            Start(
                stream_sid=self.stream_sid,
                sequence_number=self._next_seq(),
                account_sid=self.call.account_sid,
                call_sid=self.call.sid,
                custom_parameters=dict(self.parameters),
            ),
            "start",
        )
        await self._stream_status("stream-started")
        self.line.stream = self
        send_stop = True
        try:
            self.end_reason = await self._read_loop()
            send_stop = self.end_reason == "error"
        finally:
            self.line.stream = None
            self.line.reset_playback()
            await asyncio.shield(self._finish(send_stop))
        return self.end_reason

    async def _finish(self, send_stop: bool) -> None:
        ws = self._ws
        if ws is None:
            return
        if send_stop and not self._dead and not ws.closed:
            await self._send(
                Stop(
                    stream_sid=self.stream_sid,
                    sequence_number=self._next_seq(),
                    account_sid=self.call.account_sid,
                    call_sid=self.call.sid,
                ),
                "stop",
            )
        self._dead = True
        if not ws.closed:
            with contextlib.suppress(Exception):
                await ws.close()
        self.call.log("stream-end", stream_sid=self.stream_sid, reason=self.end_reason)
        await self._stream_status("stream-stopped")

    async def _read_loop(self) -> str:
        ws = self._ws
        assert ws is not None
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                try:
                    out = parse_outbound(msg.data, expected_stream_sid=self.stream_sid)
                except MalformedMessage as exc:
                    reason = f"Stream - Protocol - Malformed Message: {exc.reason}"
                    self.call.error(exc.code, reason)
                    return "error"
                await self._dispatch(out)
            elif msg.type == aiohttp.WSMsgType.BINARY:
                self.call.error(ERROR_BINARY_FRAME, "Stream - Protocol - Invalid Message Type")
                return "error"
            else:
                break
        if self.dropped:
            return "dropped"
        return "service-closed"

    async def _dispatch(self, out: OutMedia | OutMark | OutClear) -> None:
        if isinstance(out, OutMedia):
            self.call.stream_messages_in.append("media")
            self.line.record_received(out.payload)
            self.line.queue_audio(out.payload)
        elif isinstance(out, OutMark):
            self.call.stream_messages_in.append("mark")
            self.call.marks_received.append(out.name)
            self.call.log("mark", name=out.name)
            self.line.queue_mark(out.name)
        else:
            self.call.stream_messages_in.append("clear")
            await self.line.clear()
