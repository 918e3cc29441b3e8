"""A live call whose turn events cannot be written: retried, then a polite end.

The store really refuses the writes: a trigger (SQLite and PostgreSQL alike)
aborts every insert of a ``prompt`` event while a row sits in ``fail_writes``.
Nothing of the service is replaced.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from sqlalchemy import select, text
from structlog.testing import capture_logs

from ivr.sandbox.app import Sandbox
from ivr.store.models import CallAttempt, CallEvent
from ivr.telephony import media_codec as mc
from tests.e2e.harness import running_service
from tests.support.media_stream import (
    answer_parameters,
    claimed_attempt,
    open_media_socket,
    send_start,
)

SQLITE_TRIGGER = [
    "CREATE TABLE fail_writes (n INTEGER)",
    "CREATE TRIGGER refuse_prompts BEFORE INSERT ON call_events "
    "WHEN NEW.kind = 'prompt' AND EXISTS (SELECT 1 FROM fail_writes) "
    "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END",
]
PG_TRIGGER = [
    "CREATE TABLE fail_writes (n INTEGER)",
    "CREATE FUNCTION refuse_prompts() RETURNS trigger AS $$ BEGIN "
    "IF NEW.kind = 'prompt' AND EXISTS (SELECT 1 FROM fail_writes) THEN "
    "RAISE EXCEPTION 'disk I/O error'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER refuse_prompts BEFORE INSERT ON call_events "
    "FOR EACH ROW EXECUTE FUNCTION refuse_prompts()",
]


async def _break_prompt_writes(svc, db_url: str) -> None:
    async with svc.sessions() as s, s.begin():
        for stmt in PG_TRIGGER if db_url.startswith("postgresql") else SQLITE_TRIGGER:
            await s.execute(text(stmt))
        await s.execute(text("INSERT INTO fail_writes VALUES (1)"))


async def _heal(svc) -> None:
    async with svc.sessions() as s, s.begin():
        await s.execute(text("DELETE FROM fail_writes"))


async def _call(svc, sb, http, attempt_id: int, sid: str):
    params = await answer_parameters(http, svc, sb.auth_token, str(attempt_id), sid)
    ws = await open_media_socket(http, svc, sb.auth_token)
    await send_start(ws, sid, params)
    return ws


async def test_failing_turn_write_is_retried_then_the_call_ends_politely(
    db_url: str, tmp_path: Path, tts_cache: Path
) -> None:
    sid = mc.new_call_sid()
    async with Sandbox() as sb, running_service(db_url, sb, tts_cache) as svc:
        attempt_id = await claimed_attempt(svc, tmp_path, sid)
        await _break_prompt_writes(svc, db_url)
        async with aiohttp.ClientSession() as http:
            with capture_logs() as logs:
                ws = await _call(svc, sb, http, attempt_id, sid)
                marks: list[str] = []
                async with asyncio.timeout(60):
                    while True:
                        msg = await ws.receive()
                        if msg.type != aiohttp.WSMsgType.TEXT:
                            break
                        stream_sid, out = mc.parse_outbound_with_sid(msg.data)
                        if isinstance(out, mc.OutMark):
                            marks.append(out.name)
                            # Played out at once, as far as the service can tell.
                            echo = mc.Mark(
                                stream_sid=stream_sid,
                                sequence_number=len(marks) + 1,
                                name=out.name,
                            )
                            await ws.send_str(mc.encode_inbound(echo))
            await ws.close()
            async with http.get(f"http://127.0.0.1:{svc.port}/healthz") as r:
                health = await r.json()
        retries = [e for e in logs if e["event"] == "call.store_write_retry"]
        failed = [e for e in logs if e["event"] == "call.store_write_failed"]
        assert len(retries) == 3, logs
        assert len(failed) == 1 and failed[0]["log_level"] == "error"
        assert "Maria" not in repr(failed) and "10.00" not in repr(failed)
        assert "technical_goodbye" in marks, marks
        assert health["call_store_write_failures"] == 1
        async with svc.sessions() as s:
            attempt = await s.get(CallAttempt, attempt_id)
            assert attempt is not None
            assert attempt.error == "store_write_failed"
            assert attempt.outcome == "error"


async def test_a_write_that_recovers_on_retry_is_not_lost(
    db_url: str, tmp_path: Path, tts_cache: Path
) -> None:
    sid = mc.new_call_sid()
    async with Sandbox() as sb, running_service(db_url, sb, tts_cache) as svc:
        attempt_id = await claimed_attempt(svc, tmp_path, sid)
        await _break_prompt_writes(svc, db_url)
        async with aiohttp.ClientSession() as http:
            with capture_logs() as logs:
                ws = await _call(svc, sb, http, attempt_id, sid)
                async with asyncio.timeout(20):
                    while not any(e["event"] == "call.store_write_retry" for e in logs):  # noqa: ASYNC110
                        await asyncio.sleep(0.02)
                await _heal(svc)
                async with asyncio.timeout(20):
                    while True:
                        async with svc.sessions() as s:
                            greeted = await s.scalar(
                                select(CallEvent.id).where(
                                    CallEvent.attempt_id == attempt_id, CallEvent.kind == "prompt"
                                )
                            )
                        if greeted:
                            break
                        await asyncio.sleep(0.05)
            assert not ws.closed, "the call goes on"
            await ws.close()
        assert not [e for e in logs if e["event"] == "call.store_write_failed"]
