"""Loading the eligibility snapshots on PostgreSQL: one statement, one row per person.

The portable loader (``scheduler.eligibility_load``) reads a batch in seven
queries whose rows (a person times their numbers times their debts, then
every attempt, promise and callback) each become an ORM-typed row before
they become a snapshot: at 500 people a tick that was ~25 ms of Python for
~15 ms of database work. Here the database nests each person's numbers,
debts, recent attempts, promises and callbacks as arrays of records
(``array_agg(ROW(...))``), which the driver decodes in C into plain tuples;
Python only builds the snapshot rows. Each kind is read for the whole batch
at once (``= ANY`` of the ids, grouped by person) rather than by a subquery
per person: at 500 people those 2,000 small executions cost more than the
reads themselves. The claim's lock already read each person's own columns
as it locked them (``scheduler.batch_sql.PG_LOCK``): then only the rest is
read (:func:`snapshot_sql`).

In a claim that skips the per-row foreign-key triggers
(``scheduler.batch_sql.begin_claim``) the read also holds the people's
debts and numbers ``FOR KEY SHARE`` (:func:`snapshot_sql`): the attempts
will refer to some of them, and a delete of one now waits for the claim's
commit, as the triggers would have made it (then its ``ON DELETE`` action
sees the attempt). Holding them here costs little: the read visits those
rows anyway.

What is read is exactly what the portable loader reads (the same filters,
the same look-back, the same order of numbers and debts), so the rules see
the same snapshot on either path; ``tests/integration/test_snapshot_pg.py``
compares the two.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import CallbackStatus, PlanStatus, PromiseStatus
from scheduler.batch_sql import LIVE_SQL, PERSON, pg_fetch, skips_fk_triggers
from scheduler.caps import PastAttempt
from scheduler.snapshot import CallbackRow, DebtorSnapshot, DebtRow, PhoneRow, PromiseRow

_PLAN_HOLDS = ", ".join(f"'{s.value}'" for s in (PlanStatus.OPEN, PlanStatus.BROKEN))


# The look-back of the attempts and of the broken promises depends on the
# campaigns of the batch's debts, as in the portable loader: the attempts of
# the last max(7, quiet days) + 1 days (in exact 24 h days, as a timedelta
# counts them), the promises broken since followup + 2 days before today.
# $1: the debtor ids; $2: now; $3: now's date (the follow-up wait counts days
# from it). {hold}: the row lock on the debts and numbers read, or nothing.
_WITH = f"""
WITH dd AS MATERIALIZED (
    SELECT t.debtor_id, t.id, t.status, t.campaign_id, t.due_date, t.paused_until
    FROM debts t WHERE t.debtor_id = ANY($1::int[]){{hold}}
), pp AS MATERIALIZED (
    SELECT p.debtor_id, p.id, p.e164, p.position, p.wrong_number_at, p.number_country,
        p.number_zones
    FROM phones p WHERE p.debtor_id = ANY($1::int[]){{hold}}
), rules AS (
    SELECT greatest(7, coalesce(max(c.quiet_days_after_rpc), 0)) + 1 AS lookback_days,
           coalesce(max(c.followup_after_broken_days), 0) + 2 AS broken_days
    FROM campaigns c WHERE c.id IN (SELECT campaign_id FROM dd)
), debts AS (
    SELECT debtor_id,
        array_agg(ROW(id, status, campaign_id, due_date, paused_until) ORDER BY id) AS rows
    FROM dd GROUP BY debtor_id
), promises AS (
    SELECT dd.debtor_id,
        array_agg(ROW(q.id, q.debt_id, q.promised_date, q.status, pl.status) ORDER BY q.id)
            AS rows
    FROM dd
    JOIN promises q ON q.debt_id = dd.id
    LEFT JOIN payment_plans pl ON pl.id = q.plan_id
    CROSS JOIN rules r
    WHERE q.status = '{PromiseStatus.OPEN.value}'
       OR (q.status = '{PromiseStatus.BROKEN.value}'
           AND q.promised_date >= $3::date - r.broken_days
           AND (pl.status IS NULL OR pl.status IN ({_PLAN_HOLDS})))
    GROUP BY dd.debtor_id
), dnc AS (
    SELECT n.e164, array_agg(n.list_name::text ORDER BY n.list_name) AS lists
    FROM dnc_numbers n WHERE n.e164 IN (SELECT e164 FROM pp) GROUP BY n.e164
), phones AS (
    SELECT pp.debtor_id,
        array_agg(ROW(pp.id, pp.e164, pp.position, pp.wrong_number_at, o.created_at,
            coalesce(dnc.lists, '{{{{}}}}'::text[]), pp.number_country, pp.number_zones)
            ORDER BY pp.position, pp.id) AS rows
    FROM pp
    LEFT JOIN number_opt_outs o ON o.e164 = pp.e164
    LEFT JOIN dnc ON dnc.e164 = pp.e164
    GROUP BY pp.debtor_id
), attempts AS (
    SELECT a.debtor_id,
        array_agg(ROW(a.claimed_at, a.status, a.outcome, a.ended_at, a.phone_id, a.id,
            a.direction, a.verified_at) ORDER BY a.claimed_at, a.id) AS rows
    FROM call_attempts a CROSS JOIN rules r
    WHERE a.debtor_id = ANY($1::int[])
      AND (a.claimed_at > $2::timestamptz - r.lookback_days * interval '24 hours'
           OR a.ended_at > $2::timestamptz - r.lookback_days * interval '24 hours'
           OR a.status IN ({LIVE_SQL}))
    GROUP BY a.debtor_id
), callbacks AS (
    SELECT c.debtor_id, array_agg(ROW(c.id, c.debt_id, c.due_at) ORDER BY c.id) AS rows
    FROM callbacks c
    WHERE c.debtor_id = ANY($1::int[]) AND c.status = '{CallbackStatus.PENDING.value}'
    GROUP BY c.debtor_id
)"""
_NESTED = "phones.rows, debts.rows, attempts.rows, promises.rows, callbacks.rows"
_JOINS = """
LEFT JOIN phones ON phones.debtor_id = d.id
LEFT JOIN debts ON debts.debtor_id = d.id
LEFT JOIN attempts ON attempts.debtor_id = d.id
LEFT JOIN promises ON promises.debtor_id = d.id
LEFT JOIN callbacks ON callbacks.debtor_id = d.id"""
_PERSON = ", ".join(f"d.{c.strip()}" for c in PERSON.split(","))
_FULL = f"""{_WITH}
SELECT d.id, {_PERSON}, {_NESTED}
FROM debtors d{_JOINS}
WHERE d.id = ANY($1::int[])"""
# The same for people whose own columns the caller already has (the claim's lock).
_LOCKED = f"{_WITH}\nSELECT d.id, {_NESTED}\nFROM unnest($1::int[]) AS d(id){_JOINS}"
# The four statements, built once: (locked, hold_keys) -> SQL.
_STATEMENTS = {
    (locked, hold): (_LOCKED if locked else _FULL).format(
        hold="\n    FOR KEY SHARE" if hold else ""
    )
    for locked in (False, True)
    for hold in (False, True)
}


def snapshot_sql(*, locked: bool, hold_keys: bool) -> str:
    """The statement for people whose own columns the caller has (``locked``) or
    not, holding their debts and numbers ``FOR KEY SHARE`` or not."""
    return _STATEMENTS[locked, hold_keys]


async def load_snapshots_pg(
    session: AsyncSession,
    ids: Sequence[int],
    now: dt.datetime,
    people: dict[int, tuple[Any, ...]] | None = None,
) -> dict[int, DebtorSnapshot]:
    """The snapshots of ``ids`` (without the campaigns' rules: the caller reads them).

    ``people``: the persons' own columns (:data:`PERSON`) where the caller
    read them already, under the lock it holds; then only the rest is read.
    In a transaction that skips the foreign-key triggers the debts and
    numbers read are held (see the module's docstring).
    """
    params = (list(ids), now, now.date())
    hold = skips_fk_triggers(session)
    if people is not None and all(i in people for i in ids):
        sql = snapshot_sql(locked=True, hold_keys=hold)
        rows = await pg_fetch(session, sql, *params)
        return {r[0]: _snapshot(r[0], people[r[0]], r[1:]) for r in rows}
    rows = await pg_fetch(session, snapshot_sql(locked=False, hold_keys=hold), *params)
    return {r[0]: _snapshot(r[0], r[1:8], r[8:]) for r in rows}


def _snapshot(debtor_id: int, person: Sequence[Any], r: Sequence[Any]) -> DebtorSnapshot:
    """One person's snapshot from their own columns and their nested rows.

    Built in one call with every list in place (not filled in afterwards),
    and an empty array (most people have no attempt, promise or callback)
    costs no comprehension: this runs for each of the 500 people of a tick.
    """
    phones, debts, attempts, promises, callbacks = r
    return DebtorSnapshot(
        debtor_id,
        person[0],
        person[1],
        person[2],
        person[3],
        person[4],
        [PhoneRow(p[0], p[1], p[2], p[3], p[4], tuple(p[5]), p[6], p[7]) for p in phones]
        if phones
        else [],
        [DebtRow(*t) for t in debts] if debts else [],
        [PastAttempt(*a) for a in attempts] if attempts else [],
        [PromiseRow(q[0], q[1], q[2], q[3], shields=q[4] != PlanStatus.BROKEN) for q in promises]
        if promises
        else [],
        [CallbackRow(*c) for c in callbacks] if callbacks else [],
        person[5],
        bool(person[6]),
    )
