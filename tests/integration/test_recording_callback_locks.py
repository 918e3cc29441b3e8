"""Two recording callbacks of one call at once must not deadlock on PostgreSQL.

Twilio sends ``in-progress`` when the recording starts and ``completed`` when
it ends, each on its own request; after a short call, or when the service is
busy, the two are handled at the same time. Writing the event row first takes
the foreign key's key-share lock on the attempt; asking for the attempt's row
lock after that, each waited for the other's key-share lock and PostgreSQL
killed one (seen in bench/soak.py: "deadlock detected" in
``apply_recording``, the callback answered 500 and its update was lost).

Here transaction B has written an event row for the attempt (as the other
callback had when the deadlock struck) when A's ``completed`` asks for the
row lock; then B applies ``in-progress``. Both must commit.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select, text

from ivr.store.db import make_engine, make_sessionmaker
from ivr.store.models import CallAttempt, CallEvent
from ivr.store.queries import insert_once
from ivr.store.recordings import RecordingUpdate, apply_recording
from ivr.vocab.recordings import RecordingStatus
from tests.support.calls import claimed_attempt

pytestmark = pytest.mark.postgres

SID = "CA" + "c" * 32
REC = "RE" + "a" * 32
STARTED = dt.datetime(2026, 11, 23, 12, 0, 5, tzinfo=dt.UTC)


async def test_in_progress_and_completed_at_once_both_commit(pg_url: str, tmp_path: Path) -> None:
    engine = make_engine(pg_url)
    sessions = make_sessionmaker(engine)
    try:
        attempt_id = await claimed_attempt(sessions, tmp_path)
        started = RecordingUpdate(SID, REC, RecordingStatus.IN_PROGRESS, started_at=STARTED)
        done = RecordingUpdate(
            SID, REC, RecordingStatus.COMPLETED, duration_s=42, url=f"https://x.test/{REC}"
        )

        async def completed() -> bool:
            async with sessions() as a, a.begin():
                return await apply_recording(a, attempt_id, done)

        async with sessions() as b, b.begin():
            await insert_once(
                b, attempt_id=attempt_id, kind="status", dedupe_key="s:answered", data={}
            )
            task = asyncio.create_task(completed())
            async with engine.connect() as watch:  # until A waits for B
                while not await watch.scalar(
                    text("SELECT count(*) FROM pg_locks WHERE NOT granted")
                ):
                    assert not task.done(), task.result()
                    await asyncio.sleep(0.01)
            assert await apply_recording(b, attempt_id, started)
        assert await asyncio.wait_for(task, 30)

        async with sessions() as s:
            attempt = await s.get(CallAttempt, attempt_id)
            assert attempt is not None
            assert attempt.recording_sid == REC
            assert attempt.recording_status is RecordingStatus.COMPLETED
            assert attempt.recording_duration_s == 42
            assert attempt.recording_started_at == STARTED
            kinds = await s.scalars(
                select(CallEvent.data["status"].as_string()).where(
                    CallEvent.attempt_id == attempt_id, CallEvent.kind == "recording_status"
                )
            )
            assert sorted(kinds) == ["completed", "in-progress"]
    finally:
        await engine.dispose()
