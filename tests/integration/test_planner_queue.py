"""The planner's queue on both backends: hints live in ``planner_queue``, not in the person's row.

``debtors.next_attempt_at`` is the "look at once" mark every writer clears;
the planner fills it the first time it looks at someone after a change and
from then on writes only the queue. A person who opted out leaves the queue;
opting in brings them back.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text, update

from ivr.store.debtors import next_looks
from ivr.store.models import AttemptStatus, CallAttempt, Debtor, PlannerQueue
from scheduler.claim import ClaimStats, claim_batch
from tests.support.claims import every_day, make_campaign, make_debtor

T0 = dt.datetime(2026, 11, 24, 13, 0, tzinfo=dt.UTC)  # Tuesday 10:00 in São Paulo
GAP = dt.timedelta(minutes=60)


async def _finish(sessions, at: dt.datetime) -> None:
    async with sessions() as s, s.begin():
        await s.execute(
            update(CallAttempt)
            .where(CallAttempt.status == AttemptStatus.CLAIMED)
            .values(status=AttemptStatus.COMPLETED, ended_at=at, outcome="no_contact")
        )


async def _person(sessions) -> int:
    async with sessions() as s, s.begin():
        camp = await make_campaign(s, every_day(), min_gap_minutes=60)
        return (await make_debtor(s, camp)).id


async def _row(sessions, debtor_id: int) -> tuple[dt.datetime | None, object]:
    """The mark, and the row version (PostgreSQL's xmin; SQLite: the mark again)."""
    async with sessions() as s:
        mark = await s.scalar(select(Debtor.next_attempt_at).where(Debtor.id == debtor_id))
        if s.get_bind().dialect.name == "postgresql":
            version = await s.scalar(
                text("SELECT xmin::text FROM debtors WHERE id = :i"), {"i": debtor_id}
            )
        else:
            version = mark
    return mark, version


async def test_later_hints_go_to_the_queue_and_leave_the_person_alone(sessions) -> None:
    debtor_id = await _person(sessions)
    assert len(await claim_batch(sessions, T0, 10, "w1")) == 1
    await _finish(sessions, T0 + dt.timedelta(minutes=5))
    mark, version = await _row(sessions, debtor_id)
    assert mark is not None  # marked at the first look
    async with sessions() as s:
        first = (await next_looks(s, [debtor_id]))[debtor_id]
    assert first is not None and first >= T0 + GAP

    # Called again once the hint is due: a new hint, and the person's row is
    # not written again.
    stats = ClaimStats()
    assert await claim_batch(sessions, first, 10, "w1", stats=stats) != []
    assert stats.examined == 1
    await _finish(sessions, first + dt.timedelta(minutes=1))
    async with sessions() as s:
        second = (await next_looks(s, [debtor_id]))[debtor_id]
        queued = await s.scalar(
            select(PlannerQueue.due_at).where(PlannerQueue.debtor_id == debtor_id)
        )
    assert second is not None and second >= first + GAP
    assert queued == second
    assert await _row(sessions, debtor_id) == (mark, version)


async def test_a_woken_person_is_looked_at_once_not_twice(sessions) -> None:
    debtor_id = await _person(sessions)
    await claim_batch(sessions, T0, 10, "w1")
    await _finish(sessions, T0 + dt.timedelta(minutes=5))
    async with sessions() as s, s.begin():  # a change: look at once (the queue row stays)
        await s.execute(update(Debtor).where(Debtor.id == debtor_id).values(next_attempt_at=None))
    later = T0 + dt.timedelta(hours=3)  # the old hint is due as well
    stats = ClaimStats()
    claims = await claim_batch(sessions, later, 10, "w1", stats=stats)
    assert stats.examined == 1
    assert [c.debtor_id for c in claims] == [debtor_id]


async def test_an_opted_out_person_leaves_the_queue_and_opting_in_brings_them_back(
    sessions,
) -> None:
    debtor_id = await _person(sessions)
    await claim_batch(sessions, T0, 10, "w1")
    await _finish(sessions, T0 + dt.timedelta(minutes=5))
    async with sessions() as s, s.begin():  # cleared and opted out before the planner looked
        await s.execute(
            update(Debtor)
            .where(Debtor.id == debtor_id)
            .values(opted_out_at=T0 + dt.timedelta(minutes=6), next_attempt_at=None)
        )
    later = T0 + dt.timedelta(hours=3)
    stats = ClaimStats()
    assert await claim_batch(sessions, later, 10, "w1", stats=stats) == []
    assert stats.examined == 1  # met once, to leave the queue
    async with sessions() as s:
        assert await s.get(PlannerQueue, debtor_id) is None
        assert (await next_looks(s, [debtor_id]))[debtor_id] is None
    stats = ClaimStats()
    assert await claim_batch(sessions, later + dt.timedelta(days=2), 10, "w1", stats=stats) == []
    assert stats.examined == 0  # never again while opted out

    async with sessions() as s, s.begin():  # opted in again (as the API does)
        await s.execute(
            update(Debtor)
            .where(Debtor.id == debtor_id)
            .values(opted_out_at=None, next_attempt_at=None)
        )
    claims = await claim_batch(sessions, later + dt.timedelta(days=2), 10, "w1")
    assert [c.debtor_id for c in claims] == [debtor_id]
