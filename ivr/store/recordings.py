"""Call recordings in the store: asked for before dialing, reported by the carrier,
deleted at the carrier when the retention period ends.

Whether a call is recorded is decided once per attempt, before the request
to the carrier (:func:`decide_recording`), and kept on the attempt: the
request asks the carrier to record exactly then, and the call says "this call
is recorded" exactly then. The carrier's recording status callbacks
(:func:`apply_recording`) are idempotent and order-independent like call
status callbacks. The retention job (``scheduler.jobs.purge_recordings``)
lists what is due (:func:`recordings_due`) and marks a recording deleted
(:func:`mark_recording_deleted`) only after the carrier confirmed it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

import structlog
from sqlalchemy import Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import CallAttempt, Campaign, utcnow
from ivr.store.queries import insert_once
from ivr.vocab.recordings import FINAL_RECORDING_STATUSES, RecordingStatus

log = structlog.get_logger(__name__)


async def decide_recording(session: AsyncSession, attempt_id: int) -> bool | None:
    """Whether this attempt's call is recorded: its campaign's ``record_calls``
    (recording is on without a campaign), fixed on the attempt the first time.

    One statement; None when the attempt does not exist.
    """
    t = cast(Table, CallAttempt.__table__)
    setting = select(Campaign.record_calls).where(Campaign.id == t.c.campaign_id).scalar_subquery()
    decided = func.coalesce(t.c.recording_requested, setting, True)
    result = await session.execute(
        update(t)
        .where(t.c.id == attempt_id)
        .values(recording_requested=decided)
        .returning(t.c.recording_requested)
    )
    value = result.scalar_one_or_none()
    return None if value is None else bool(value)


@dataclass(frozen=True)
class RecordingUpdate:
    """One recording status callback, as validated from the carrier's form."""

    call_sid: str
    recording_sid: str
    status: RecordingStatus
    duration_s: int | None = None
    url: str | None = None
    started_at: dt.datetime | None = None

    @property
    def dedupe_key(self) -> str:
        # A sid and a status: a callback delivered twice is stored once.
        return f"{self.recording_sid}:{self.status.value[0]}"


async def apply_recording(session: AsyncSession, attempt_id: int, upd: RecordingUpdate) -> bool:
    """Store what a recording status callback says; True when it was new.

    Statuses move forward only (``in-progress`` never replaces a final one,
    nothing replaces ``deleted``), but an earlier callback may still fill a
    field that is missing. A second recording of the same attempt is not
    stored over the first: it is logged (we ask for one per call).

    The attempt's row lock comes first: writing the event row first would take
    the foreign key's key-share lock, and two callbacks of one call (``in-progress``
    and ``completed`` at once) would each wait for the other's to lock the row
    (a deadlock on PostgreSQL).
    """
    attempt = await session.get(
        CallAttempt, attempt_id, with_for_update=True, populate_existing=True
    )
    if attempt is None:
        return False
    inserted = await insert_once(
        session,
        attempt_id=attempt_id,
        kind="recording_status",
        dedupe_key=upd.dedupe_key,
        data={
            "recording_sid": upd.recording_sid,
            "status": upd.status.value,
            "duration": upd.duration_s,
        },
    )
    if not inserted:
        return False
    if attempt.recording_sid not in (None, upd.recording_sid):
        log.warning(
            "recording.second_recording_ignored",
            attempt_id=attempt_id,
            kept=attempt.recording_sid,
            ignored=upd.recording_sid,
        )
        return False
    attempt.recording_sid = upd.recording_sid
    current = attempt.recording_status
    if current is not RecordingStatus.DELETED:
        if current is None or current not in FINAL_RECORDING_STATUSES:
            attempt.recording_status = upd.status
        if upd.url and attempt.recording_url is None:
            attempt.recording_url = upd.url
    if upd.duration_s is not None and upd.status is not RecordingStatus.IN_PROGRESS:
        attempt.recording_duration_s = upd.duration_s
    if attempt.recording_started_at is None:
        attempt.recording_started_at = upd.started_at or utcnow()
    return True


async def recordings_due(
    session: AsyncSession, cutoff: dt.datetime, limit: int
) -> list[tuple[int, str]]:
    """(attempt id, recording sid) of recordings still at the carrier, started before ``cutoff``."""
    rows = await session.execute(
        select(CallAttempt.id, CallAttempt.recording_sid)
        .where(
            CallAttempt.recording_sid.is_not(None),
            CallAttempt.recording_deleted_at.is_(None),
            CallAttempt.recording_started_at < cutoff,
        )
        .order_by(CallAttempt.recording_started_at, CallAttempt.id)
        .limit(limit)
    )
    return [(int(r.id), str(r.recording_sid)) for r in rows]


async def mark_recording_deleted(
    session: AsyncSession, attempt_id: int, recording_sid: str, now: dt.datetime
) -> bool:
    """The carrier confirmed the deletion: keep the sid and duration, drop the URL."""
    values: dict[str, Any] = {
        "recording_status": RecordingStatus.DELETED,
        "recording_deleted_at": now,
        "recording_url": None,
    }
    result = await session.execute(
        update(CallAttempt)
        .where(
            CallAttempt.id == attempt_id,
            CallAttempt.recording_sid == recording_sid,
            CallAttempt.recording_deleted_at.is_(None),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1
