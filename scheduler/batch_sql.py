"""A whole batch in one statement: PostgreSQL's array forms, and the portable fallback.

The claim locks, reads and writes hundreds of people per tick. On
PostgreSQL each of these statements takes the batch as array parameters
(``= ANY``, ``unnest()``) and is sent as plain SQL text straight to the
driver, in the session's transaction (:func:`pg_fetch`): one round trip and
one cached prepared statement whatever the batch size, nothing compiled per
tick, where an ``IN`` list or an executemany would compile or send per row.
SQLite (one in-process writer) gets the plain form. Kept apart from the
claim's logic so that reads as rules, not as dialect details.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Integer, any_, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store import fk_triggers
from ivr.store.models import (
    LIVE_ATTEMPT_STATUSES,
    CallAttempt,
    Callback,
    CallbackStatus,
    Debtor,
)
from ivr.vocab.attempts import AttemptDirection
from scheduler.snapshot import CallbackRow

# A person's own columns, in DebtorSnapshot's order: the claim's lock reads them
# as it locks (PG_LOCK), so the snapshot (scheduler.eligibility_load_pg) need not.
PERSON = "country, region, timezone, opted_out_at, quiet_until, status, calls_allowed"


def is_pg(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def id_in(session: AsyncSession, column: Any, ids: Sequence[int]) -> Any:
    """``column IN ids``; on PostgreSQL one array parameter (``= ANY``), cheap to compile."""
    if is_pg(session):
        return column == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))
    return column.in_(list(ids))


async def pg_fetch(session: AsyncSession, sql: str, *params: Any) -> list[Any]:
    """Plain SQL with ``$n`` parameters in the session's transaction, as the
    driver's rows (PostgreSQL).

    Once the transaction has begun on the server, the statement goes straight
    to the driver (asyncpg), past SQLAlchemy's cursor and result layers, which
    cost more CPU than the round trip itself; the first statement of a
    transaction goes through SQLAlchemy, which begins it.
    """
    tx = session.sync_session.get_transaction()
    known = session.info.get(_DRIVER_KEY)
    if known is not None and known[0] is tx and tx is not None:
        return list(await known[1].fetch(sql, *params))
    conn = await session.connection()
    driver = (await conn.get_raw_connection()).driver_connection
    if driver is not None and driver.is_in_transaction():
        # The same transaction keeps its connection: later statements skip the
        # lookup (two proxies and a greenlet each, a tenth of a claim's calls).
        session.info[_DRIVER_KEY] = (session.sync_session.get_transaction(), driver)
        return list(await driver.fetch(sql, *params))
    result = await conn.exec_driver_sql(sql, params)
    return list(result.all()) if result.returns_rows else []


_DRIVER_KEY = "pg_fetch_driver"  # (the session's transaction, its driver connection)


# The people a claim takes ($1: now, $2: at most this many), each locked with
# SKIP LOCKED (whoever another replica holds is left to it): those whose
# callback is due, then the planner's queue (never-evaluated people first, then
# those whose hint is due, oldest first). One row per locked person; a due
# callback's own columns on its person's rows (several when several are due).
PG_LOCK = f"""
WITH cb AS MATERIALIZED (
    SELECT id, debtor_id, debt_id, due_at FROM callbacks
    WHERE status = '{CallbackStatus.PENDING.value}' AND due_at <= $1
    ORDER BY due_at, id LIMIT $2 FOR UPDATE SKIP LOCKED
), held AS MATERIALIZED (
    SELECT id, {PERSON} FROM debtors WHERE id IN (SELECT debtor_id FROM cb)
    ORDER BY id FOR UPDATE SKIP LOCKED
), fresh AS MATERIALIZED (
    SELECT id, {PERSON} FROM debtors
    WHERE opted_out_at IS NULL AND next_attempt_at IS NULL AND id NOT IN (SELECT id FROM held)
    LIMIT $2 - (SELECT count(*) FROM held) FOR UPDATE SKIP LOCKED
), due AS MATERIALIZED (
    SELECT id, {PERSON} FROM debtors
    WHERE opted_out_at IS NULL AND next_attempt_at <= $1 AND id NOT IN (SELECT id FROM held)
    ORDER BY next_attempt_at
    LIMIT $2 - (SELECT count(*) FROM held) - (SELECT count(*) FROM fresh)
    FOR UPDATE SKIP LOCKED
)
(SELECT held.*, cb.id, cb.debt_id, cb.due_at FROM cb JOIN held ON held.id = cb.debtor_id
 ORDER BY cb.due_at, cb.id)
UNION ALL SELECT *, NULL, NULL, NULL FROM fresh
UNION ALL SELECT *, NULL, NULL, NULL FROM due
"""


@dataclass
class Locked:
    """The people one claim holds: those with a due callback (the earliest
    each) and those from the planner's queue, in that order; and (PostgreSQL)
    each one's own columns as the lock read them (``PERSON``)."""

    callbacks: dict[int, CallbackRow] = field(default_factory=dict)
    queue: list[int] = field(default_factory=list)
    people: dict[int, tuple[Any, ...]] = field(default_factory=dict)

    @property
    def ids(self) -> list[int]:
        return [*self.callbacks, *self.queue]


async def lock_batch(session: AsyncSession, now: dt.datetime, limit: int) -> Locked:
    """Lock the people of one claim: those with a due callback, then up to
    ``limit`` in all from the planner's queue."""
    out = Locked()
    if is_pg(session):
        width = 1 + PERSON.count(",") + 1
        for row in await pg_fetch(session, PG_LOCK, now, limit):
            debtor_id, cb = row[0], row[width:]
            out.people[debtor_id] = tuple(row[1:width])
            if cb[0] is None:
                out.queue.append(debtor_id)
            else:
                out.callbacks.setdefault(debtor_id, CallbackRow(*cb))
        return out
    callbacks, queue = out.callbacks, out.queue
    # SQLite: the write lock is the whole database's, nothing to skip.
    for r in (
        await session.execute(
            select(Callback.id, Callback.debtor_id, Callback.debt_id, Callback.due_at)
            .where(Callback.status == CallbackStatus.PENDING, Callback.due_at <= now)
            .order_by(Callback.due_at, Callback.id)
            .limit(limit)
        )
    ).all():
        callbacks.setdefault(r.debtor_id, CallbackRow(r.id, r.debt_id, r.due_at))
    left = limit - len(callbacks)
    if left <= 0:
        return out
    base = select(Debtor.id).where(Debtor.opted_out_at.is_(None))
    if callbacks:
        base = base.where(Debtor.id.not_in(sorted(callbacks)))
    fresh = await session.scalars(base.where(Debtor.next_attempt_at.is_(None)).limit(left))
    queue.extend(fresh.all())
    if len(queue) < left:
        due = await session.scalars(
            base.where(Debtor.next_attempt_at <= now)
            .order_by(Debtor.next_attempt_at)
            .limit(left - len(queue))
        )
        queue.extend(due.all())
    return out


# $1, $2: the hints (debtor ids, instants); then the attempts' columns.
PG_HINTS = (
    "UPDATE debtors SET next_attempt_at = h.t "
    "FROM unnest($1::int[], $2::timestamptz[]) AS h(id, t) WHERE debtors.id = h.id"
)
_INSERT = """
INSERT INTO call_attempts (debtor_id, debt_id, phone_id, campaign_id, callback_id,
    to_number, local_day, status, last_sequence, claimed_by, claimed_at)
SELECT a.*, $10, -1, $11, $12
FROM unnest($3::int[], $4::int[], $5::int[], $6::int[], $7::int[], $8::varchar[],
    $9::date[]) AS a"""
PG_CLAIM = f"""
WITH hints AS ({PG_HINTS}){_INSERT}
RETURNING id, debtor_id
"""
# The same where the transaction skips the per-row foreign-key triggers
# (:func:`begin_claim`): the keys they would have checked and held are held
# by the claim itself. The person is already locked FOR UPDATE (PG_LOCK), and
# so is a due callback; the person's debts and numbers were locked FOR KEY
# SHARE as the snapshot read them (``scheduler.eligibility_load_pg``), so
# every one an attempt names is still there and stays until the commit; the
# campaigns are locked FOR KEY SHARE here, as the triggers would have (a
# concurrent delete waits for our commit, then its ON DELETE action sees our
# attempts). A campaign already gone locks one row fewer than asked ($13:
# how many distinct ones there are): then nothing is inserted, and
# :func:`write_claims` fails the claim as a refused key would.
PG_CLAIM_HELD = f"""
WITH hints AS ({PG_HINTS}),
kc AS MATERIALIZED (SELECT 1 FROM campaigns WHERE id = ANY($6::int[]) FOR KEY SHARE)
{_INSERT}
WHERE (SELECT count(*) FROM kc) = $13
RETURNING id, debtor_id
"""


async def write_claims(
    session: AsyncSession,
    rows: Sequence[dict[str, Any]],
    hints: Sequence[tuple[int, dt.datetime]],
) -> dict[int, int]:
    """Insert the claimed attempts and store the planner's hints; debtor id -> attempt id.

    ``rows`` share ``status``, ``claimed_by`` and ``claimed_at``. PostgreSQL:
    one statement for both (the hints as a data-modifying ``WITH``);
    otherwise an executemany each.
    """
    if not rows:
        await set_hints(session, hints)
        return {}
    if is_pg(session):
        first = rows[0]
        columns = [[r[c] for r in rows] for c in _COLUMNS]
        args: list[Any] = [
            [h[0] for h in hints],
            [h[1] for h in hints],
            *columns,
            str(first["status"]),
            first["claimed_by"],
            first["claimed_at"],
        ]
        held = skips_fk_triggers(session)
        if held:  # how many distinct campaigns must be held
            args.append(len({k for k in columns[3] if k is not None}))
        out = await pg_fetch(session, PG_CLAIM_HELD if held else PG_CLAIM, *args)
        if len(out) != len(rows):
            raise KeyGone("a campaign of this claim was deleted meanwhile")
        return {int(r[1]): int(r[0]) for r in out}
    await set_hints(session, hints)
    table = CallAttempt.__table__
    result = await session.execute(
        insert(table).returning(table.c.id, table.c.debtor_id),  # type: ignore[arg-type]
        [{**r, "last_sequence": -1} for r in rows],
    )
    return {int(r.debtor_id): int(r.id) for r in result.all()}


# The attempt's own columns, in the order of PG_CLAIM's unnest().
_COLUMNS = (
    "debtor_id",
    "debt_id",
    "phone_id",
    "campaign_id",
    "callback_id",
    "to_number",
    "local_day",
)


async def set_hints(session: AsyncSession, hints: Sequence[tuple[int, dt.datetime]]) -> None:
    """Store the planner's next-look instants (debtor id, instant).

    PostgreSQL: one ``UPDATE ... FROM unnest()`` for the whole batch; SQLite:
    an executemany (it is in-process anyway). A hint is not an edit of the
    person's record, so ``updated_at`` is left alone.
    """
    if not hints:
        return
    if is_pg(session):
        await pg_fetch(session, PG_HINTS, [h[0] for h in hints], [h[1] for h in hints])
        return
    table = Debtor.__table__
    stmt = (
        update(table)  # type: ignore[arg-type]
        .where(table.c.id == bindparam("b_id"))
        .values(next_attempt_at=bindparam("b_next"), updated_at=table.c.updated_at)
    )
    await session.execute(stmt, [{"b_id": i, "b_next": t} for i, t in hints])


# The live attempt statuses as an SQL list (they change only with a migration:
# see ivr.store.models.calls).
LIVE_SQL = ", ".join(f"'{s.value}'" for s in sorted(LIVE_ATTEMPT_STATUSES))
PG_LIVE = f"""
SELECT campaign_id, count(*) FROM call_attempts
WHERE campaign_id = ANY($1::int[]) AND status IN ({LIVE_SQL})
  AND direction = '{AttemptDirection.OUTBOUND.value}'
GROUP BY campaign_id
"""


async def live_per_campaign(session: AsyncSession, campaign_ids: Sequence[int]) -> dict[int, int]:
    """Our calls not yet ended, per campaign (the person's calls to us use none
    of the campaign's dialing channels)."""
    if not campaign_ids:
        return {}
    if is_pg(session):
        return dict(await pg_fetch(session, PG_LIVE, list(campaign_ids)))
    rows = (
        await session.execute(
            select(CallAttempt.campaign_id, func.count())
            .where(
                CallAttempt.campaign_id.in_(list(campaign_ids)),
                CallAttempt.status.in_([s.value for s in LIVE_ATTEMPT_STATUSES]),
                CallAttempt.direction == AttemptDirection.OUTBOUND,
            )
            .group_by(CallAttempt.campaign_id)
        )
    ).all()
    return {int(cid): int(n) for cid, n in rows if cid is not None}


async def lock_campaigns(session: AsyncSession, campaign_ids: Sequence[int]) -> None:
    """Lock the campaigns' rows, in id order (no deadlock between replicas).

    ``FOR NO KEY UPDATE``: it excludes the other claims' lock on the same
    campaign (so their counts of live calls come one after the other) but not
    the key-share lock a new attempt's foreign key takes, which a claim that
    inserted its attempts before locking already holds. SQLite's write lock
    already serializes.
    """
    if campaign_ids and is_pg(session):
        await pg_fetch(
            session,
            "SELECT id FROM campaigns WHERE id = ANY($1::int[]) ORDER BY id FOR NO KEY UPDATE",
            sorted(campaign_ids),
        )


class KeyGone(Exception):
    """A row an attempt refers to was deleted while the claim ran (what a
    foreign-key check refuses): the claim's transaction is rolled back."""


_UNCHECKED_KEY = "claim_fk_triggers_skipped"


def skips_fk_triggers(session: AsyncSession) -> bool:
    """Whether this transaction skips the foreign-key triggers (:func:`begin_claim`):
    then what they would have held, the claim holds itself."""
    return bool(session.info.get(_UNCHECKED_KEY, False))


_FIRST = "SELECT set_config('synchronous_commit', 'off', true)"
_FIRST_UNCHECKED = _FIRST + ", set_config('session_replication_role', 'replica', true)"


async def begin_claim(session: AsyncSession) -> None:
    """The claim transaction's settings, in its first statement (PostgreSQL).

    * Its commit returns before its WAL reaches the disk
      (``synchronous_commit = off``, this transaction only). What a claim
      writes is only ever acted on after another commit that waits: the
      dialer moves each attempt to ``unknown`` (a synchronous commit, which
      flushes the log up to itself, this claim included) before it asks the
      carrier for the call. A crash before that loses claims no call was
      placed for, and the people are simply planned again; their hints and
      the caps are never ahead of a call that happened. Visibility to other
      replicas is unchanged (it never waits for the flush).
    * Where the database user may (:mod:`ivr.store.fk_triggers`), the
      per-row foreign-key triggers are skipped: the attempts' keys are held
      by the snapshot's read (debts, numbers) and :data:`PG_CLAIM_HELD`
      (campaigns) instead. At 500 claims the triggers were 2,000 queries,
      half of the insert's time. The claim writes no other key (hints,
      callbacks' status: no key column).
    """
    if not is_pg(session):
        return
    unchecked = await fk_triggers.may_skip(session)
    session.info[_UNCHECKED_KEY] = unchecked
    await pg_fetch(session, _FIRST_UNCHECKED if unchecked else _FIRST)


async def drop_attempts(session: AsyncSession, attempt_ids: Sequence[int]) -> None:
    """Delete attempts this transaction inserted and must not keep."""
    if attempt_ids:
        await session.execute(
            delete(CallAttempt).where(id_in(session, CallAttempt.id, attempt_ids))
        )
