"""A Media Stream is bound to its call: a replayed upgrade cannot open another.

The upgrade signature covers a URL that never changes, so these tests open
sockets with a perfectly valid upgrade and try ``start`` messages a replaying
attacker could send. Only the ``start`` of the live attempt, with its own
CallSid and the token the answer TwiML gave it, is greeted; every other socket
is closed without a word, with one log line and nothing written.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select, update
from structlog.testing import capture_logs
from twilio.request_validator import RequestValidator

from ivr.sandbox.app import Sandbox
from ivr.store.models import AttemptStatus, CallAttempt, CallEvent
from ivr.telephony import media_codec as mc
from tests.e2e.harness import PUBLIC, running_service
from tests.support.media_stream import (
    answer_parameters,
    claimed_attempt,
    open_media_socket,
    send_start,
)

TEXT = aiohttp.WSMsgType.TEXT


async def _outcome(ws, timeout: float = 10) -> tuple[int, aiohttp.WSMsgType]:  # noqa: ASYNC109
    """How many media messages came before the socket ended, and how it ended."""
    media = 0
    async with asyncio.timeout(timeout):
        while True:
            msg = await ws.receive()
            if msg.type != TEXT:
                return media, msg.type
            media += '"media"' in msg.data


async def _events(svc, attempt_id: int) -> list[str]:
    async with svc.sessions() as s:
        rows = await s.scalars(select(CallEvent.kind).where(CallEvent.attempt_id == attempt_id))
        return list(rows)


@pytest.fixture
def tts_dir(tts_cache: Path) -> Path:
    return tts_cache


@pytest.mark.parametrize("case", ["foreign_attempt", "finished", "wrong_call_sid", "no_token"])
async def test_replayed_upgrade_gets_no_greeting(db_url, tmp_path, tts_dir, case) -> None:
    own_sid, other_sid = mc.new_call_sid(), mc.new_call_sid()
    async with Sandbox() as sb, running_service(db_url, sb, tts_dir) as svc:
        victim = await claimed_attempt(svc, tmp_path, own_sid)
        async with aiohttp.ClientSession() as http:
            # What an attacker could have captured: the answer of another call.
            mine = await answer_parameters(http, svc, sb.auth_token, str(victim + 1000), other_sid)
            own = await answer_parameters(http, svc, sb.auth_token, str(victim), own_sid)
            if case == "foreign_attempt":
                params, sid = dict(mine, attempt_id=str(victim)), other_sid
            elif case == "finished":
                async with svc.sessions() as s, s.begin():
                    await s.execute(
                        update(CallAttempt)
                        .where(CallAttempt.id == victim)
                        .values(status=AttemptStatus.COMPLETED)
                    )
                params, sid = own, own_sid
            elif case == "wrong_call_sid":
                wrong = await answer_parameters(http, svc, sb.auth_token, str(victim), other_sid)
                params, sid = wrong, other_sid
            else:
                params, sid = {"attempt_id": str(victim), "call_sid": own_sid}, own_sid
            before = await _events(svc, victim)
            ws = await open_media_socket(http, svc, sb.auth_token)
            with capture_logs() as logs:
                await send_start(ws, sid, params)
                media, ended = await _outcome(ws)
            await ws.close()
        assert media == 0, "nothing may be said on a socket that is not this call's"
        assert ended in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        refused = [e for e in logs if e["event"] == "media.start_refused"]
        assert len(refused) == 1 and len(logs) == 1, logs
        # The genuine start of a call that has ended is normal (its hang-up
        # crossed its start); anything else is worth a warning.
        expected = (
            ("info", "call_ended") if case == "finished" else ("warning", refused[0]["reason"])
        )
        assert (refused[0]["log_level"], refused[0]["reason"]) == expected
        assert await _events(svc, victim) == before, "a refused start writes nothing"


async def test_start_is_accepted_once(db_url, tmp_path, tts_dir) -> None:
    sid = mc.new_call_sid()
    async with Sandbox() as sb, running_service(db_url, sb, tts_dir) as svc:
        attempt_id = await claimed_attempt(svc, tmp_path, sid)
        async with aiohttp.ClientSession() as http:
            params = await answer_parameters(http, svc, sb.auth_token, str(attempt_id), sid)
            first = await open_media_socket(http, svc, sb.auth_token)
            await send_start(first, sid, params)
            greeting = await first.receive(timeout=20)
            assert greeting.type == TEXT and '"media"' in greeting.data
            # The same start again (a replay of the genuine one): refused.
            second = await open_media_socket(http, svc, sb.auth_token)
            await send_start(second, sid, params)
            media, _ = await _outcome(second)
            assert media == 0
            await second.close()
            await first.close()
        kinds = await _events(svc, attempt_id)
        assert kinds.count("stream_start") == 1


@pytest.mark.parametrize("raw", ["²", "9" * 30, str(2**31), "0", "-1", ""])
async def test_odd_attempt_ids_are_refused_quietly(db_url, tmp_path, tts_dir, raw) -> None:
    sid = mc.new_call_sid()
    async with Sandbox() as sb, running_service(db_url, sb, tts_dir) as svc:
        async with aiohttp.ClientSession() as http:
            ws = await open_media_socket(http, svc, sb.auth_token)
            with capture_logs() as logs:
                await send_start(ws, sid, {"attempt_id": raw, "stream_token": "x"})
                media, _ = await _outcome(ws)
            await ws.close()
        assert media == 0
        assert [e["event"] for e in logs] == ["media.start_refused"]


async def test_unknown_attempt_does_not_block_other_writes(db_url, tmp_path, tts_dir) -> None:
    """A start for an attempt that does not exist (with a token the answer TwiML
    minted for it) must not hold the store: a status callback sent while the
    socket is open completes at once, and PostgreSQL sees no foreign-key error."""
    sid, other = mc.new_call_sid(), mc.new_call_sid()
    async with Sandbox() as sb, running_service(db_url, sb, tts_dir) as svc:
        attempt_id = await claimed_attempt(svc, tmp_path, other)
        validator = RequestValidator(sb.auth_token)
        async with aiohttp.ClientSession() as http:
            params = await answer_parameters(http, svc, sb.auth_token, "999999", sid)
            ws = await open_media_socket(http, svc, sb.auth_token)
            with capture_logs() as logs:
                await send_start(ws, sid, params)
                path = f"/twilio/status?attempt={attempt_id}"
                form = {"CallSid": other, "CallStatus": "completed", "SequenceNumber": "5"}
                sig = validator.compute_signature(PUBLIC + path, form)
                t0 = time.perf_counter()
                async with asyncio.timeout(5):
                    async with http.post(
                        f"http://127.0.0.1:{svc.port}{path}",
                        data=form,
                        headers={"X-Twilio-Signature": sig},
                    ) as r:
                        assert r.status == 204, await r.text()
                elapsed = time.perf_counter() - t0
                media, _ = await _outcome(ws)
            await ws.close()
        assert elapsed < 1.0, f"the status callback waited {elapsed:.1f} s"
        assert media == 0
        assert [e["event"] for e in logs if e.get("log_level") in ("error", "warning")] == [
            "media.start_refused"
        ]
        async with svc.sessions() as s:
            assert (
                await s.scalar(
                    select(func.count())
                    .select_from(CallEvent)
                    .where(CallEvent.attempt_id == 999999)
                )
                == 0
            )
            attempt = await s.get(CallAttempt, attempt_id)
            assert attempt is not None and attempt.status is AttemptStatus.COMPLETED


async def test_idle_socket_is_closed(db_url, tmp_path, tts_dir) -> None:
    async with (
        Sandbox() as sb,
        running_service(db_url, sb, tts_dir, stream_start_timeout_seconds=0.5) as svc,
    ):
        async with aiohttp.ClientSession() as http:
            ws = await open_media_socket(http, svc, sb.auth_token)
            t0 = time.perf_counter()
            with capture_logs() as logs:
                msg = await ws.receive(timeout=5)
            assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            assert time.perf_counter() - t0 < 3
            await ws.close()
        assert [e["event"] for e in logs] == ["media.start_timeout"]
