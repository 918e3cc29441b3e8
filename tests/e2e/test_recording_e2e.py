"""Call recording end to end through the sandbox carrier.

The notice "this call is recorded" is said exactly when the carrier records
the call: a campaign that records (the default) asks Twilio to record, stores
the recording's sid, duration and URL with the attempt, and the retention job
deletes it at the carrier once the retention period has passed; a campaign
that does not record never asks and never mentions it.
"""

from __future__ import annotations

import datetime as dt
import io
import wave
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import numpy as np
from sqlalchemy import select, update

from ivr import clock
from ivr.calls.dialer import SchedulerPort, dialer_from_app
from ivr.demo import keypad_promise
from ivr.sandbox.app import Sandbox
from ivr.sandbox.config import SandboxConfig
from ivr.store.models import CallAttempt, CallEvent, Campaign
from scheduler.planner import Scheduler
from tests.e2e.harness import PUBLIC, import_rows, place_call, running_service

NUMBER = "+5511987654321"
ROW = f"REC-1,Maria Souza,{NUMBER},150.00,2026-11-01,Loja Estrela,pt-BR,SP,,"


def _promise_day() -> dt.date:
    today = dt.datetime.now(dt.UTC).astimezone(ZoneInfo("America/Sao_Paulo")).date()
    return today + dt.timedelta(days=6)


async def _spoken(svc, sid: str) -> str:
    async with svc.sessions() as s:
        attempt = await s.scalar(select(CallAttempt).where(CallAttempt.call_sid == sid))
        assert attempt is not None
        prompts = (
            await s.scalars(
                select(CallEvent)
                .where(CallEvent.attempt_id == attempt.id, CallEvent.kind == "prompt")
                .order_by(CallEvent.id)
            )
        ).all()
    return " ".join(p.data["text"] for p in prompts)


async def _carrier_recordings(sb: Sandbox, call_sid: str) -> list[dict]:
    """The call's recordings as the carrier's REST API lists them ([] if it has none)."""
    url = f"{sb.url}/2010-04-01/Accounts/{sb.account_sid}/Calls/{call_sid}/Recordings.json"
    auth = {"Authorization": aiohttp.encode_basic_auth(sb.account_sid, sb.auth_token)}
    async with aiohttp.ClientSession() as http, http.get(url, headers=auth) as response:
        if response.status != 200:
            return []
        return list((await response.json())["recordings"])


async def _attempt(svc, sid: str) -> CallAttempt:
    async with svc.sessions() as s:
        attempt = await s.scalar(select(CallAttempt).where(CallAttempt.call_sid == sid))
    assert attempt is not None
    return attempt


def _retention_job(svc) -> Scheduler:
    """The service's scheduler (not started): its ``retention`` job is the purge."""
    return Scheduler(svc.settings, svc.sessions, SchedulerPort(dialer_from_app(svc.app)))


async def test_a_recorded_call_is_kept_then_deleted_at_the_carrier_after_retention(
    db_url: str, tmp_path: Path, tts_cache: Path
) -> None:
    async with (
        Sandbox(SandboxConfig(speed=8.0)) as sb,
        running_service(db_url, sb, tts_cache) as svc,
    ):
        await import_rows(svc, tmp_path, [ROW])
        sb.add_callee(NUMBER, keypad_promise(_promise_day()))
        sid = await place_call(svc, "REC-1")
        call = await sb.wait_for_call_end(sid, timeout=120)

        # The carrier was asked to record, recorded, and said so; the call said so too.
        attempt = await _attempt(svc, sid)
        asked = call.request_params
        assert asked["Record"] == ["true"]
        assert asked["RecordingStatusCallback"] == [
            f"{PUBLIC}/twilio/recording?attempt={attempt.id}"
        ]
        assert asked["RecordingStatusCallbackEvent"] == ["in-progress", "completed", "absent"]
        assert call.recording is not None
        (recording,) = await _carrier_recordings(sb, sid)
        assert recording["status"] == "completed"
        assert "esta ligação é gravada" in (await _spoken(svc, sid)).lower()
        assert attempt.recording_requested is True
        assert attempt.recording_sid == recording["sid"] == call.recording_sids[0]
        assert attempt.recording_status == "completed"
        assert attempt.recording_duration_s == int(recording["duration"]) == call.duration
        assert attempt.recording_url == sb.engine.recordings[attempt.recording_sid].url
        assert attempt.recording_started_at is not None
        async with aiohttp.ClientSession() as http, http.get(attempt.recording_url) as media:
            assert media.status == 200 and media.content_type == "audio/x-wav"
            with wave.open(io.BytesIO(await media.read())) as w:
                assert round(w.getnframes() / w.getframerate()) == call.duration
                pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        assert np.abs(pcm.astype(np.int32)).max() > 3000  # the prompts the debtor heard

        job = _retention_job(svc)
        await job.retention()  # within the retention period: nothing to delete
        assert attempt.recording_sid in sb.engine.recordings

        days = svc.settings.recording_retention_days
        clock.set_offset((days + 1) * 86400)
        try:
            sb.faults.fail_next(1, 503)  # the carrier fails once: keep it, retry later
            await job.retention()
            assert attempt.recording_sid in sb.engine.recordings
            assert (await _attempt(svc, sid)).recording_deleted_at is None
            await job.retention()
            deleted_at = clock.utcnow()
        finally:
            clock.set_offset(0)
        assert attempt.recording_sid not in sb.engine.recordings
        assert await _carrier_recordings(sb, sid) == []
        url = f"{sb.url}/2010-04-01/Accounts/{sb.account_sid}"
        auth = {"Authorization": aiohttp.encode_basic_auth(sb.account_sid, sb.auth_token)}
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{url}/Recordings/{attempt.recording_sid}.json", headers=auth) as fetched,
        ):
            assert fetched.status == 404 and (await fetched.json())["code"] == 20404
        gone = await _attempt(svc, sid)
        assert gone.recording_status == "deleted"
        assert gone.recording_deleted_at is not None and gone.recording_deleted_at <= deleted_at
        assert gone.recording_sid == attempt.recording_sid  # kept, for the record
        assert gone.recording_url is None
        await job.retention()  # nothing left to delete, nothing deleted twice
        assert (await _attempt(svc, sid)).recording_deleted_at == gone.recording_deleted_at


async def test_a_campaign_that_does_not_record_never_says_it_does(
    tmp_path: Path, tts_cache: Path
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'ivr.db'}"
    from ivr.store.migrate import upgrade_async

    await upgrade_async(db)
    async with Sandbox(SandboxConfig(speed=8.0)) as sb, running_service(db, sb, tts_cache) as svc:
        await import_rows(svc, tmp_path, [ROW])
        async with svc.sessions() as s, s.begin():
            await s.execute(update(Campaign).values(record_calls=False))
        sb.add_callee(NUMBER, keypad_promise(_promise_day()))
        sid = await place_call(svc, "REC-1")
        call = await sb.wait_for_call_end(sid, timeout=120)
        spoken = await _spoken(svc, sid)
        recordings = await _carrier_recordings(sb, sid)
        attempt = await _attempt(svc, sid)
    # No Record parameter reached the carrier, nothing was recorded...
    assert not [p for p in call.request_params if p.startswith("Record")], call.request_params
    assert call.recording is None and call.recording_sids == [] and recordings == []
    assert call.callbacks_of("recording") == []
    assert attempt.recording_requested is False and attempt.recording_sid is None
    # ...and no prompt of the turn log mentions a recording, while the notice was said.
    assert "Lei Geral de Proteção de Dados" in spoken
    assert "gravad" not in spoken.lower(), spoken
