"""Carrier status callbacks on PostgreSQL: one statement, outside a transaction block.

Every call sends four or five status callbacks, and each round trip to the
database is a wake-up of the service and of its backend; on a busy machine
each wake-up may wait for a core. So on PostgreSQL a callback is one
autocommit statement (the event's insert as a CTE, the attempt's update
guarded by it) on connections that do not wait for the WAL flush, while
every other connection (promises, opt-outs, claims) keeps full durability.
The statement must decide exactly as the session's two statements do, in
any order of arrival and with repeats.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import delete, event, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine
from twilio.request_validator import RequestValidator

from ivr.keys import ENGINE
from ivr.sandbox.app import Sandbox
from ivr.store.db import make_engine, make_sessionmaker
from ivr.store.models import AttemptStatus, CallAttempt, CallEvent
from ivr.store.queries import StatusUpdate, apply_status
from tests.e2e.harness import PUBLIC, running_service
from tests.support.calls import claimed_attempt

pytestmark = pytest.mark.postgres

SID = "CA" + "5" * 32
# What apply_status may change on the attempt: compared between the two ways.
FIELDS = (
    "status",
    "call_sid",
    "last_sequence",
    "answered_at",
    "ended_at",
    "duration_s",
    "outcome",
    "answered_by",
)


async def test_a_status_callback_is_one_statement_on_a_connection_that_does_not_wait(
    pg_url: str, tmp_path: Path, tts_cache: Path
) -> None:
    async with Sandbox() as sb, running_service(pg_url, sb, tts_cache) as svc:
        attempt_id = await claimed_attempt(svc.sessions, tmp_path)
        engines = [v for v in svc.app.values() if isinstance(v, AsyncEngine)]
        seen: list[tuple[AsyncEngine, str, bool]] = []

        def listen(engine: AsyncEngine) -> Any:
            def before(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
                open_block = conn.connection.driver_connection.is_in_transaction()
                seen.append((engine, statement, open_block))

            return before

        listeners = [(e.sync_engine, listen(e)) for e in engines]
        for target, fn in listeners:
            event.listen(target, "before_cursor_execute", fn)
        try:
            path = f"/twilio/status?attempt={attempt_id}"
            params = {
                "CallSid": SID,
                "AccountSid": sb.account_sid,
                "CallStatus": "in-progress",
                "SequenceNumber": "2",
            }
            sig = RequestValidator(svc.settings.twilio_auth_token).compute_signature(
                PUBLIC + path, params
            )
            async with (
                aiohttp.ClientSession() as http,
                http.post(
                    f"http://127.0.0.1:{svc.port}{path}",
                    data=params,
                    headers={"X-Twilio-Signature": sig},
                ) as r,
            ):
                assert r.status == 204, await r.text()
        finally:
            for target, fn in listeners:
                event.remove(target, "before_cursor_execute", fn)

        # The wallboard's NOTIFY is sent by a task of its own, once per quiet
        # spell whatever the number of changes: not the callback's work.
        work = [s for s in seen if "pg_notify" not in s[1]]
        assert len(work) == 1, [s for _, s, _ in work]
        used, statement, open_block = work[0]
        assert not open_block, "the callback ran inside BEGIN ... COMMIT"
        assert "INSERT INTO call_events" in statement and "UPDATE call_attempts" in statement
        async with used.connect() as conn:
            assert await conn.scalar(text("SHOW synchronous_commit")) == "off"
        async with svc.app[ENGINE].connect() as conn:  # promises, claims: durable
            assert await conn.scalar(text("SHOW synchronous_commit")) == "on"
        async with svc.sessions() as s:
            attempt = await s.get(CallAttempt, attempt_id)
            assert attempt is not None
            assert attempt.status is AttemptStatus.IN_PROGRESS
            assert attempt.answered_at is not None and attempt.last_sequence == 2


def _update(status: str, seq: int | None, **kw: Any) -> StatusUpdate:
    return StatusUpdate(call_sid=SID, status=status, sequence=seq, **kw)


CALLBACKS = [
    _update("initiated", 0),
    _update("ringing", 1),
    _update("in-progress", 2, answered_by="machine_start"),
    _update("completed", 3, duration_s=37, timestamp=dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)),
]
UNSEQUENCED = [_update("ringing", None), _update("no-answer", None), _update("busy", None)]


ORDERS = [
    *(list(p) for p in itertools.permutations(CALLBACKS)),
    CALLBACKS + CALLBACKS[::-1],  # every one delivered twice
    UNSEQUENCED,
    UNSEQUENCED[::-1] + UNSEQUENCED,
]


async def test_the_one_statement_decides_as_the_transaction_does(
    pg_url: str, tmp_path: Path
) -> None:
    """Every order of a call's callbacks, repeats included, both ways on one attempt."""
    from ivr.store.db import make_callback_engine
    from ivr.store.queries import apply_status_at_once

    engine = make_engine(pg_url)
    callbacks = make_callback_engine(pg_url)
    assert callbacks is not None
    sessions = make_sessionmaker(engine)
    t = CallAttempt.__table__
    try:
        attempt_id = await claimed_attempt(sessions, tmp_path)
        async with sessions() as s:
            initial = dict((await s.execute(select(t).where(t.c.id == attempt_id))).one()._mapping)

        async def state() -> tuple[dict[str, Any], list[str | None]]:
            async with sessions() as s:
                row = (await s.execute(select(t).where(t.c.id == attempt_id))).one()._mapping
                keys = await s.scalars(
                    select(CallEvent.dedupe_key)
                    .where(CallEvent.attempt_id == attempt_id)
                    .order_by(CallEvent.id)
                )
                return {f: _comparable(row[f]) for f in FIELDS}, list(keys)

        async def reset() -> None:  # back to the attempt as claimed
            async with sessions() as s, s.begin():
                await s.execute(delete(CallEvent).where(CallEvent.attempt_id == attempt_id))
                await s.execute(update(t).where(t.c.id == attempt_id).values(**initial))

        for order in ORDERS:
            await reset()
            in_session = []
            for upd in order:
                async with sessions() as s, s.begin():
                    in_session.append(await apply_status(s, attempt_id, upd))
            by_session = await state()
            assert by_session[0]["status"] != AttemptStatus.CLAIMED

            await reset()
            at_once = []
            for upd in order:
                async with callbacks.connect() as conn:
                    at_once.append(await apply_status_at_once(conn, attempt_id, upd))
            assert at_once == in_session, order
            assert await state() == by_session, order
    finally:
        await callbacks.dispose()
        await engine.dispose()


def _comparable(value: Any) -> Any:
    """Instants are set from the clock: compare whether they are set, not when."""
    return value is not None if isinstance(value, dt.datetime) else value
