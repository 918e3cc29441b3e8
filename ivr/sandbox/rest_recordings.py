"""The Recordings resource of Twilio's 2010-04-01 REST API, as the sandbox serves it.

Routes (under ``/2010-04-01/Accounts/{AccountSid}``):

* ``GET Recordings.json`` (list, ``CallSid`` filter, paging) and
  ``GET Calls/{CallSid}/Recordings.json`` (one call's);
* ``GET``/``DELETE Recordings/{RecordingSid}.json`` and the same under
  ``Calls/{CallSid}/``: fetch, delete (``204``; afterwards ``404`` with
  Twilio's code 20404, like any unknown resource);
* ``GET Recordings/{RecordingSid}`` with no extension or ``.wav`` (a 16-bit
  8 kHz WAV) or ``.mp3`` (the same audio encoded by ``sox``): the media, public
  as on Twilio by default, and only once the recording is ``completed``.

Authentication, faults and error bodies are those of ivr/sandbox/rest.py.
"""

from __future__ import annotations

import asyncio
import shutil

from aiohttp import web

from ivr.sandbox.recordings import SandboxRecording
from ivr.sandbox.records import API_VERSION
from ivr.sandbox.rest import ENGINE_KEY, paged, twilio_error

_SID = "{recording_sid:RE[0-9a-fA-F]{32}}"


def _not_found(request: web.Request) -> web.Response:
    return twilio_error(404, 20404, f"The requested resource {request.path} was not found")


def _recording(request: web.Request) -> SandboxRecording | None:
    """The recording the path names (and, under a call, only that call's)."""
    engine = request.app[ENGINE_KEY]
    recording = engine.recordings.get(request.match_info["recording_sid"])
    call_sid = request.match_info.get("call_sid")
    if recording is None or (call_sid is not None and recording.call_sid != call_sid):
        return None
    return recording


async def list_recordings(request: web.Request) -> web.Response:
    engine = request.app[ENGINE_KEY]
    call_sid = request.match_info.get("call_sid") or request.query.get("CallSid")
    items = sorted(
        (r for r in engine.recordings.values() if call_sid is None or r.call_sid == call_sid),
        key=lambda r: r.date_created,
        reverse=True,
    )
    base = request.path
    return paged(request.query, items, SandboxRecording.to_json, base, "recordings")


async def fetch_recording(request: web.Request) -> web.Response:
    recording = _recording(request)
    if recording is None:
        return _not_found(request)
    return web.json_response(recording.to_json())


async def delete_recording(request: web.Request) -> web.Response:
    recording = _recording(request)
    if recording is None:
        return _not_found(request)
    engine = request.app[ENGINE_KEY]
    del engine.recordings[recording.sid]
    recording.status = "deleted"
    recording.inbound = recording.outbound = b""
    call = engine.calls.get(recording.call_sid)
    if call is not None:
        call.log("recording-deleted", sid=recording.sid)
    return web.Response(status=204)


async def _mp3(wav: bytes) -> bytes | None:
    """``wav`` encoded as MP3 by sox, or None when sox cannot."""
    sox = shutil.which("sox")
    if sox is None:
        return None
    proc = await asyncio.create_subprocess_exec(
        sox,
        "-t",
        "wav",
        "-",
        "-t",
        "mp3",
        "-",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await proc.communicate(wav)
    return out if proc.returncode == 0 and out else None


async def recording_media(request: web.Request) -> web.Response:
    recording = _recording(request)
    if recording is None or recording.status != "completed":
        return _not_found(request)
    wav = recording.wav()
    if request.match_info.get("ext") != ".mp3":
        return web.Response(body=wav, content_type="audio/x-wav")
    mp3 = await _mp3(wav)
    if mp3 is None:
        return twilio_error(501, 20500, "this sandbox has no MP3 encoder (sox); ask for .wav")
    return web.Response(body=mp3, content_type="audio/mpeg")


def add_recording_routes(app: web.Application) -> None:
    account = f"/{API_VERSION}/Accounts/{{account_sid}}"
    for base in (account, account + "/Calls/{call_sid}"):
        app.router.add_get(f"{base}/Recordings.json", list_recordings)
        app.router.add_get(f"{base}/Recordings/{_SID}.json", fetch_recording)
        app.router.add_delete(f"{base}/Recordings/{_SID}.json", delete_recording)
    app.router.add_get(account + "/Recordings/" + _SID + "{ext:(\\.wav|\\.mp3)?}", recording_media)
