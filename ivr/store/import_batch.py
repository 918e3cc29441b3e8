"""Storing validated debtor rows, a batch per short transaction, set-based.

One batch is a handful of statements whatever its size: one query finds
the debtors that already exist (and their phones and debts), then bulk
inserts and bulk updates write the rest. Row by row this took 578 s for
100,000 rows and held one SQLite write lock for the whole import.

On SQLite a single writer holds the file, and a waiting writer polls with
growing sleeps (1, 2, 5, 10, 15, 20, 25 ms...). :class:`Pacer` keeps each
batch's transaction near :data:`HOLD_S` and leaves at least :data:`GAP_S`
between batches, so a service writing meanwhile finds the lock free within
its first few polls instead of starving behind back-to-back batches.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.store.channel_columns import CHANNEL_DEFAULTS
from ivr.store.creditors import merge_spoken_forms
from ivr.store.models import Debt, Debtor, DebtStatus, Phone, utcnow
from ivr.store.name_key import fold_name

if TYPE_CHECKING:
    from ivr.store.import_rows import DebtorRow

HOLD_S = 0.04  # SQLite: aim for batches that hold the write lock this long
GAP_S = 0.05  # SQLite: and leave the lock free at least this long between them
SQLITE_ROWS = (50, 500, 2000)  # smallest, first, largest batch on SQLite
POSTGRES_ROWS = 2000  # row locks only: bigger batches, no gaps


class Pacer:
    """How many rows the next batch takes, and when it may start."""

    def __init__(self, backend: str) -> None:
        self.sqlite = backend == "sqlite"
        self.size = SQLITE_ROWS[1] if self.sqlite else POSTGRES_ROWS
        self._last_commit = 0.0

    async def wait_turn(self) -> None:
        if not self.sqlite:
            return
        gap = GAP_S - (time.perf_counter() - self._last_commit)
        if gap > 0:
            await asyncio.sleep(gap)

    def done(self, rows: int, seconds: float) -> None:
        """Record a committed batch; resize so the next one holds the lock ~HOLD_S."""
        self._last_commit = time.perf_counter()
        if self.sqlite and rows >= self.size and seconds > 0:
            low, _, high = SQLITE_ROWS
            self.size = max(low, min(high, int(self.size * HOLD_S / seconds)))


@dataclass
class BatchResult:
    """Debtors inserted and updated, and the lines the database refused:
    (line, external_ref, the database's reason)."""

    inserted: int = 0
    updated: int = 0
    failed: list[tuple[int, str, str]] = field(default_factory=list)

    def add(self, other: BatchResult) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.failed.extend(other.failed)


async def store_rows(
    sessions: async_sessionmaker[AsyncSession], rows: list[DebtorRow], campaign_id: int
) -> BatchResult:
    """Store a batch in one transaction; if the database refuses it, row by row.

    Only a row the database itself refuses (a constraint, a value it cannot
    hold) is lost, and it is reported; the retry keeps the report row-level.
    """
    try:
        async with sessions() as s, s.begin():
            inserted, updated = await _write(s, rows, campaign_id)
        return BatchResult(inserted, updated)
    except DBAPIError as exc:
        if isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated:
            raise  # the database is unavailable or locked: not about any one row
        if len(rows) == 1:
            return BatchResult(failed=[(rows[0].line, rows[0].external_ref, db_reason(exc))])
    result = BatchResult()
    for row in rows:
        result.add(await store_rows(sessions, [row], campaign_id))
    return result


def db_reason(exc: DBAPIError) -> str:
    """The database's own words, first line only: never the statement's parameters."""
    text = str(exc.orig) if exc.orig is not None else type(exc).__name__
    return text.splitlines()[0] if text else type(exc).__name__


# Core tables: the ORM's per-row bookkeeping was a third of a batch's time.
DEBTORS: Table = Debtor.__table__  # type: ignore[assignment]
PHONES: Table = Phone.__table__  # type: ignore[assignment]
DEBTS: Table = Debt.__table__  # type: ignore[assignment]


async def _update_by_id(s: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """One executemany UPDATE ... WHERE id = ? per set of keys (rows that leave a
    column out, like an empty channel cell, leave it as it is)."""
    by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        by_keys.setdefault(tuple(row), []).append(row)
    for keys, group in by_keys.items():
        columns = [k for k in keys if k != "id"]
        stmt = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({c: bindparam(f"b_{c}") for c in columns})
        )
        await s.execute(stmt, [{f"b_{k}": v for k, v in row.items()} for row in group])


def _person(row: DebtorRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "name_key": fold_name(row.name),
        "locale": row.locale,
        "country": row.country,
        "region": row.region,
        "timezone": row.timezone,
        "birth_year": row.birth_year,
        "document_digits": row.document_digits,
        **dict(row.channels),
    }


async def _write(s: AsyncSession, rows: list[DebtorRow], campaign_id: int) -> tuple[int, int]:
    now = utcnow()
    refs = [r.external_ref for r in rows]
    found = await s.execute(
        select(Debtor.external_ref, Debtor.id).where(Debtor.external_ref.in_(refs))
    )
    existing: dict[str, int] = {ref: id_ for ref, id_ in found.all()}
    fresh = [r for r in rows if r.external_ref not in existing]
    ids = dict(existing)
    if fresh:
        created = await s.execute(
            # Rows come back in any order: each carries its external_ref.
            insert(DEBTORS).returning(DEBTORS.c.external_ref, DEBTORS.c.id),
            [
                {
                    **CHANNEL_DEFAULTS,
                    **_person(r),
                    "external_ref": r.external_ref,
                    "created_at": now,
                    "updated_at": now,
                }
                for r in fresh
            ],
        )
        ids.update({ref: id_ for ref, id_ in created.all()})

    old_ids = list(existing.values())
    phones: dict[int, dict[str, int]] = {}
    debts: dict[tuple[int, str], int] = {}
    if old_ids:
        await _update_by_id(
            s,
            DEBTORS,
            [
                # next_attempt_at: wake the planner, the phones or the debt may have changed
                {**_person(r), "id": existing[r.external_ref], "updated_at": now}
                | {"next_attempt_at": None}
                for r in rows
                if r.external_ref in existing
            ],
        )
        for pid, did, e164 in await s.execute(
            select(Phone.id, Phone.debtor_id, Phone.e164).where(Phone.debtor_id.in_(old_ids))
        ):
            phones.setdefault(did, {})[e164] = pid
        for debt_id, did, creditor in await s.execute(
            select(Debt.id, Debt.debtor_id, Debt.creditor)
            .where(Debt.debtor_id.in_(old_ids))
            .order_by(Debt.id)
        ):
            debts.setdefault((did, creditor), debt_id)

    new_phones: list[dict[str, Any]] = []
    moved_phones: list[dict[str, Any]] = []
    gone_phones: list[int] = []
    new_debts: list[dict[str, Any]] = []
    changed_debts: list[dict[str, Any]] = []
    for r in rows:
        did = ids[r.external_ref]
        had = phones.get(did, {})
        for position, (e164, (country, zones)) in enumerate(
            zip(r.phones, r.phone_facts, strict=True)
        ):
            if e164 in had:
                moved_phones.append({"id": had[e164], "position": position})
            else:
                # The facts the row's check derived (else the column defaults parse again).
                new_phones.append(
                    {
                        "debtor_id": did,
                        "e164": e164,
                        "position": position,
                        "number_country": country,
                        "number_zones": zones,
                    }
                )
        gone_phones += [pid for e164, pid in had.items() if e164 not in r.phones]
        terms = {
            "amount_cents": r.amount_cents,
            "currency": r.currency,
            "due_date": r.due_date,
            "campaign_id": campaign_id,
            **r.payment,
        }
        known = debts.get((did, r.creditor))
        if known is None:
            new_debts.append(
                {
                    **terms,
                    "debtor_id": did,
                    "creditor": r.creditor,
                    "status": DebtStatus.OPEN,
                    "created_at": now,
                }
            )
        else:
            changed_debts.append({**terms, "id": known})

    if gone_phones:
        await s.execute(delete(Phone).where(Phone.id.in_(gone_phones)))
    await _update_by_id(s, PHONES, moved_phones)
    if new_phones:
        await s.execute(insert(PHONES), new_phones)
    await _update_by_id(s, DEBTS, changed_debts)
    if new_debts:
        await s.execute(insert(DEBTS), new_debts)
    await merge_spoken_forms(
        s, {(r.creditor, r.locale): r.creditor_spoken for r in rows if r.creditor_spoken}
    )
    return len(fresh), len(existing)
