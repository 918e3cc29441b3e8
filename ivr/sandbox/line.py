"""The audio path of one answered call, on a paced 20 ms call clock.

Everything the callee hears and says passes through a :class:`Line`. A ticker
advances call time one 20 ms frame at a time (``speed`` times faster than the
wall clock, in batches when the loop is behind): each frame it plays one
frame of what the service queued (stream audio, or a ``<Say>``/``<Play>``
clip, which has a duration but no samples), echoes the marks whose audio has
now played, and sends one frame of the callee's voice (or mu-law silence) to
the Media Stream. Because playback, marks, prompt detection and the callee's
timing all read the same clock, a test at ``speed=20`` sees exactly what a
caller would at ``speed=1``, only sooner.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from ivr.audio import mulaw
from ivr.sandbox.records import MediaChunk, SandboxCall

FRAME_MS = 20
FRAME_BYTES = mulaw.FRAME_BYTES
SILENCE_FRAME = bytes([mulaw.SILENCE_BYTE]) * FRAME_BYTES
MAX_BATCH = 250  # frames processed per wake-up before yielding to the loop


class StreamLink(Protocol):
    """The Media Stream side of a line (see :mod:`ivr.sandbox.stream`)."""

    async def send_media(self, frame: bytes) -> None: ...
    async def send_mark(self, name: str) -> None: ...
    async def send_dtmf(self, digit: str) -> None: ...


@dataclass(frozen=True)
class SpeechInput:
    """What a speech ``<Gather>`` recognises from a :class:`~ivr.sandbox.callee.Speak` step."""

    transcript: str
    confidence: float


@dataclass
class InputSink:
    """A ``<Gather>`` listening for keys and/or speech."""

    dtmf: bool = True
    speech: bool = False
    queue: asyncio.Queue[str | SpeechInput] = field(default_factory=asyncio.Queue)


@dataclass
class _Clip:
    """A prompt without samples (``<Say>``/``<Play>``): audible for ``frames`` frames."""

    frames: int
    done: asyncio.Future[bool]


class Line:
    """Playback buffer, marks, callee voice and the clock of one call leg."""

    def __init__(self, call: SandboxCall, speed: float, audible_threshold_dbfs: float) -> None:
        self.call = call
        self.speed = speed
        self.threshold = audible_threshold_dbfs
        self.stream: StreamLink | None = None
        self.input_sink: InputSink | None = None
        self.peer: Line | None = None
        self.closed = False
        self.media_ms = 0
        self.audible_ms = 0
        self.silence_run_ms = 0
        self.marks_played = 0
        self._pending = bytearray()
        self._queued_total = 0
        self._played_total = 0
        self._marks: deque[tuple[int, str]] = deque()
        self._clips: deque[_Clip] = deque()
        self._voice = bytearray()
        self._voice_queued = 0
        self._voice_sent = 0
        self._voice_waiters: deque[tuple[int, asyncio.Future[None]]] = deque()
        self._tick: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        # The call recording (Record=true), frame-aligned: callee's voice, what they heard.
        self._rec_in: bytearray | None = None
        self._rec_out: bytearray | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"line-{self.call.sid}")

    async def close(self) -> None:
        """Stop the clock; everything still waiting on this line wakes up."""
        self.closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.stop_clips()
        for _, fut in self._voice_waiters:
            if not fut.done():
                fut.set_result(None)
        self._voice_waiters.clear()
        self._notify()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        frame_s = FRAME_MS / 1000.0 / self.speed
        t0 = loop.time()
        played = 0
        while not self.closed:
            due = int((loop.time() - t0) / frame_s) + 1
            batch = 0
            while played < due and batch < MAX_BATCH and not self.closed:
                await self._frame()
                played += 1
                batch += 1
            self._notify()
            if played < due:
                await asyncio.sleep(0)
                continue
            wake = t0 + played * frame_s
            await asyncio.sleep(max(0.0, wake - loop.time()))

    # ------------------------------------------------------------------ one frame

    async def _frame(self) -> None:
        # Marks first: whatever the previous frame played has now fully played.
        while self._marks and self._marks[0][0] <= self._played_total:
            _, name = self._marks.popleft()
            await self._echo_mark(name)
        audible = False
        played = SILENCE_FRAME  # a <Say>/<Play> clip has no samples
        if self._clips:
            clip = self._clips[0]
            clip.frames -= 1
            audible = True
            if clip.frames <= 0:
                self._clips.popleft()
                if not clip.done.done():
                    clip.done.set_result(True)
        elif self._pending:
            chunk = bytes(self._pending[:FRAME_BYTES])
            del self._pending[:FRAME_BYTES]
            self._played_total += len(chunk)
            self.call.heard.extend(chunk)
            audible = mulaw.rms_dbfs(chunk) > self.threshold
            played = chunk + SILENCE_FRAME[len(chunk) :]
        if self._rec_out is not None:
            self._rec_out.extend(played)
        self.media_ms += FRAME_MS
        self.call.media_ms = self.media_ms
        if audible:
            self.audible_ms += FRAME_MS
            self.silence_run_ms = 0
        else:
            self.silence_run_ms += FRAME_MS
        await self._send_voice_frame()

    async def _send_voice_frame(self) -> None:
        frame = bytes(self._voice[:FRAME_BYTES])
        speaking = bool(frame)
        if speaking:
            del self._voice[:FRAME_BYTES]
            self._voice_sent += len(frame)
            if len(frame) < FRAME_BYTES:
                frame += SILENCE_FRAME[: FRAME_BYTES - len(frame)]
        else:
            frame = SILENCE_FRAME
        if self._rec_in is not None:
            self._rec_in.extend(frame)
        if self.stream is not None:
            await self.stream.send_media(frame)
        if speaking and self.peer is not None and not self.peer.closed:
            self.peer.queue_audio(frame)
        while self._voice_waiters and self._voice_waiters[0][0] <= self._voice_sent:
            _, fut = self._voice_waiters.popleft()
            if not fut.done():
                fut.set_result(None)

    async def _echo_mark(self, name: str) -> None:
        self.marks_played += 1
        self.call.marks_echoed.append(name)
        self.call.log("mark-echo", name=name)
        if self.stream is not None:
            await self.stream.send_mark(name)

    # ------------------------------------------------------------------ service -> callee

    def queue_audio(self, ulaw: bytes) -> None:
        """Queue stream audio for playback (a ``media`` message from the service)."""
        self._pending.extend(ulaw)
        self._queued_total += len(ulaw)

    def queue_mark(self, name: str) -> None:
        """Echo ``name`` once everything queued so far has played."""
        self._marks.append((self._queued_total, name))

    async def clear(self) -> None:
        """Drop unplayed audio and echo every pending mark at once (Twilio's ``clear``)."""
        dropped = len(self._pending)
        self._pending.clear()
        self._queued_total = self._played_total
        self.call.clears.append(self.media_ms)
        self.call.log("clear", dropped_bytes=dropped)
        while self._marks:
            _, name = self._marks.popleft()
            await self._echo_mark(name)
        self._notify()

    def play_clip(self, duration_ms: int) -> asyncio.Future[bool]:
        """Play a sample-less prompt; the future is True when it played out, False if cut."""
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        frames = max(1, duration_ms // FRAME_MS)
        if self.closed:
            fut.set_result(False)
        else:
            self._clips.append(_Clip(frames, fut))
        return fut

    def stop_clips(self) -> None:
        while self._clips:
            clip = self._clips.popleft()
            if not clip.done.done():
                clip.done.set_result(False)

    def reset_playback(self) -> None:
        """Forget queued stream audio and marks (the stream that sent them is gone)."""
        self._pending.clear()
        self._queued_total = self._played_total
        self._marks.clear()

    # ------------------------------------------------------------------ callee -> service

    def speak(self, ulaw: bytes) -> asyncio.Future[None]:
        """Send the callee's voice; the future resolves when the last frame has gone out."""
        self._voice.extend(ulaw)
        self._voice_queued += len(ulaw)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.closed:
            fut.set_result(None)
        else:
            self._voice_waiters.append((self._voice_queued, fut))
        return fut

    @property
    def playback_idle(self) -> bool:
        """Nothing queued by the service is left to play."""
        return not self._pending and not self._clips

    @property
    def voice_pending(self) -> bool:
        """The callee is still speaking (voice frames not yet sent)."""
        return bool(self._voice)

    @property
    def has_listener(self) -> bool:
        return self.stream is not None or (self.input_sink is not None and self.input_sink.dtmf)

    async def wait_for_listener(self, timeout_s: float) -> bool:
        """Wait until a stream or a keypad ``<Gather>`` is listening."""
        return await self.wait_until(lambda: self.has_listener, timeout_s)

    # ------------------------------------------------------------------ waiting on call time

    def _notify(self) -> None:
        if self._tick is not None and not self._tick.done():
            self._tick.set_result(None)
        self._tick = None

    async def next_tick(self) -> None:
        """Wait for the clock to advance (or the line to close)."""
        if self.closed:
            return
        if self._tick is None:
            self._tick = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._tick)

    async def wait_until(self, predicate: Callable[[], bool], timeout_s: float | None) -> bool:
        """Wait until ``predicate()`` holds; False on call-time timeout or a closed line."""
        deadline = None if timeout_s is None else self.media_ms + int(timeout_s * 1000)
        while not predicate():
            if self.closed or (deadline is not None and self.media_ms >= deadline):
                return False
            await self.next_tick()
        return True

    async def sleep(self, seconds: float) -> None:
        """Let ``seconds`` of call time pass."""
        target = self.media_ms + int(seconds * 1000)
        await self.wait_until(lambda: self.media_ms >= target, None)

    # ------------------------------------------------------------------ call recording

    def start_recording(self) -> None:
        """Keep every frame from now on: the callee's voice and what they hear."""
        if self._rec_in is None:
            self._rec_in, self._rec_out = bytearray(), bytearray()

    def recorded_tracks(self) -> tuple[bytes, bytes]:
        """(callee's voice, what the callee heard) since :meth:`start_recording`, mu-law."""
        return bytes(self._rec_in or b""), bytes(self._rec_out or b"")

    def record_received(self, payload: bytes) -> None:
        self.call.received_media.append(MediaChunk(self.media_ms, payload))
