"""Call recordings as the sandbox carrier makes them (Twilio's Recording resource).

A call created with ``Record=true`` is recorded from the moment it is
answered until it ends, as Twilio does: the recording exists (``RE`` + 32
hex) with status ``in-progress`` during the call, then ``completed`` (or
``absent`` when nothing was recorded) once the call has ended. Each event the
call asked for in ``RecordingStatusCallbackEvent`` (default ``completed``) is
one signed POST to ``RecordingStatusCallback`` with Twilio's parameters,
delivered before the call counts as ended for tests.

The audio is what the line really carried: the callee's voice and what the
callee heard (stream audio, the agent once bridged), frame by frame on the
call clock, mixed into one channel (``mono``) or kept apart (``dual``), served
as a 16-bit 8 kHz WAV. A ``<Say>``/``<Play>`` has no samples in the sandbox,
so it is silence in the recording.
"""

from __future__ import annotations

import asyncio
import io
import wave
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from ivr.audio import mulaw
from ivr.sandbox.records import API_VERSION, SandboxCall, rfc2822, utcnow
from ivr.sandbox.webhooks import SignedPoster
from ivr.telephony.media_messages import new_recording_sid

if TYPE_CHECKING:
    from ivr.sandbox.line import Line

SAMPLE_RATE = 8000
DEFAULT_API_BASE = "https://api.twilio.com"


@dataclass
class SandboxRecording:
    """One Recording resource; mutated only by the sandbox."""

    sid: str
    account_sid: str
    call_sid: str
    api_base: str
    channels: int = 1
    source: str = "OutboundAPI"
    status: str = "in-progress"
    date_created: datetime = field(default_factory=utcnow)
    date_updated: datetime = field(default_factory=utcnow)
    start_time: datetime = field(default_factory=utcnow)
    duration: int | None = None
    inbound: bytes = b""  # mu-law 8 kHz: the callee's voice
    outbound: bytes = b""  # mu-law 8 kHz: what the callee heard
    started: asyncio.Task[Any] | None = None  # the in-progress callback, if any

    @property
    def path(self) -> str:
        """The resource path without an extension (media and JSON hang off it)."""
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{self.sid}"

    @property
    def url(self) -> str:
        """``RecordingUrl``: where the media is (``.wav``/``.mp3`` may be appended)."""
        return self.api_base + self.path

    def to_json(self) -> dict[str, Any]:
        """The Recording resource exactly as Twilio's API returns it."""
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "call_sid": self.call_sid,
            "conference_sid": None,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
            "start_time": rfc2822(self.start_time),
            "duration": "-1" if self.duration is None else str(self.duration),
            "sid": self.sid,
            "price": None,
            "price_unit": "USD",
            "status": self.status,
            "channels": self.channels,
            "source": self.source,
            "error_code": None,
            "uri": self.path + ".json",
            "encryption_details": None,
            "subresource_uris": {
                "add_on_results": f"{self.path}/AddOnResults.json",
                "transcriptions": f"{self.path}/Transcriptions.json",
            },
            "media_url": self.url,
        }

    def wav(self) -> bytes:
        """The recording as a 16-bit PCM WAV at 8 kHz (one or two channels)."""
        frames = max(len(self.inbound), len(self.outbound))
        voice = _pcm(self.inbound, frames)
        heard = _pcm(self.outbound, frames)
        if self.channels == 2:
            samples = np.column_stack((voice, heard)).astype(np.int16).ravel()
        else:
            mixed = voice.astype(np.int32) + heard.astype(np.int32)
            samples = np.clip(mixed, -32768, 32767).astype(np.int16)
        out = io.BytesIO()
        with wave.open(out, "wb") as w:
            w.setnchannels(self.channels)
            w.setsampwidth(2)
            w.setframerate(SAMPLE_RATE)
            w.writeframes(samples.astype("<i2").tobytes())
        return out.getvalue()


def _pcm(ulaw: bytes, length: int) -> np.ndarray[Any, np.dtype[np.int16]]:
    """``ulaw`` decoded, padded with silence to ``length`` samples."""
    pcm = np.zeros(length, dtype=np.int16)
    if ulaw:
        decoded = mulaw.decode(ulaw)
        pcm[: len(decoded)] = decoded
    return pcm


def _callback_params(call: SandboxCall, recording: SandboxRecording, status: str) -> dict[str, str]:
    params = {
        "AccountSid": recording.account_sid,
        "CallSid": call.sid,
        "RecordingSid": recording.sid,
        "RecordingUrl": recording.url,
        "RecordingStatus": status,
        "RecordingChannels": str(recording.channels),
        "RecordingSource": recording.source,
        "RecordingStartTime": rfc2822(recording.start_time) or "",
        "ErrorCode": "0",
    }
    if status != "in-progress":
        params["RecordingDuration"] = str(recording.duration or 0)
    return params


def _notify(
    poster: SignedPoster, call: SandboxCall, recording: SandboxRecording, status: str
) -> asyncio.Task[Any] | None:
    """Send the callback for ``status`` if the call asked for that event."""
    request = call.recording
    if request is None or not request.status_callback:
        return None
    if status not in request.status_callback_events:
        return None
    params = _callback_params(call, recording, status)
    call.log("recording-status", sid=recording.sid, status=status)
    return asyncio.ensure_future(
        poster.send(
            "recording",
            request.status_callback,
            params,
            request.status_callback_method,
            call.callbacks,
        )
    )


def start_recording(
    call: SandboxCall,
    line: Line,
    registry: dict[str, SandboxRecording],
    poster: SignedPoster,
    api_base: str | None,
) -> SandboxRecording | None:
    """The call was answered: start recording it if it was created with ``Record=true``."""
    request = call.recording
    if request is None:
        return None
    recording = SandboxRecording(
        sid=new_recording_sid(),
        account_sid=call.account_sid,
        call_sid=call.sid,
        api_base=(api_base or DEFAULT_API_BASE).rstrip("/"),
        channels=request.channels,
    )
    registry[recording.sid] = recording
    call.recording_sids.append(recording.sid)
    line.start_recording()
    recording.started = _notify(poster, call, recording, "in-progress")
    return recording


async def complete_recording(
    call: SandboxCall, line: Line, recording: SandboxRecording, poster: SignedPoster, end_ms: int
) -> None:
    """The call ended at ``end_ms`` of call time: the recording (which began at
    the answer, call time 0) is ``completed``, or ``absent``; tell the service."""
    last = end_ms * SAMPLE_RATE // 1000  # mu-law: one byte per sample
    inbound, outbound = (track[:last] for track in line.recorded_tracks())
    recording.inbound, recording.outbound = inbound, outbound
    samples = max(len(inbound), len(outbound))
    recording.duration = round(samples / SAMPLE_RATE)
    status = "completed" if samples else "absent"
    if recording.status != "deleted":
        recording.status = status
        recording.date_updated = utcnow()
    if recording.started is not None:
        await recording.started
    task = _notify(poster, call, recording, status)
    if task is not None:
        await task
