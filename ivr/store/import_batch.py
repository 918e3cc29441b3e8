"""Storing validated debtor rows, a batch per short transaction, set-based.

One batch is a handful of statements whatever its size: one query finds
the debtors that already exist (and their phones and debts), then bulk
inserts and bulk updates write the rest. Row by row this took 578 s for
100,000 rows and held one SQLite write lock for the whole import. The bulk
statements are executemany calls of values already bound the way Core
binds them: Core's per-row parameter handling was most of a batch's time,
and on SQLite a batch's time is rows lost (the lock is held for a fixed
time). A phone already at its position is not written again.

On SQLite a single writer holds the file, and a waiting writer polls with
growing sleeps (1, 2, 5, 10, 15, 20, 25 ms...). :class:`Pacer` keeps each
batch's transaction near :data:`HOLD_S` and leaves at least :data:`GAP_S`
between batches, so a service writing meanwhile finds the lock free within
its first few polls instead of starving behind back-to-back batches.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, delete, select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.store.channel_columns import CHANNEL_DEFAULTS
from ivr.store.creditors import merge_spoken_forms
from ivr.store.models import Debt, Debtor, DebtorStatus, DebtStatus, Phone, utcnow
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


def _by_keys(rows: list[dict[str, Any]]) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """Rows grouped by the columns they give (one statement per group)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    return groups


def _bound(
    table: Table, keys: tuple[str, ...], dialect: Dialect
) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A row's values as the database takes them, through each column's bind
    processor: what Core's insert and update do per value, without their
    per-row parameter machinery (most of a batch's time on SQLite)."""
    procs = [table.c[k].type._cached_bind_processor(dialect) for k in keys]

    def bound(row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(
            v if proc is None or v is None else proc(v)
            for proc, v in zip(procs, row.values(), strict=True)
        )

    return bound


def _marks(dialect: Dialect, n: int, start: int = 1) -> list[str]:
    """The DBAPI's placeholders for ``n`` positional parameters."""
    if dialect.paramstyle == "qmark":
        return ["?"] * n
    if dialect.paramstyle == "numeric_dollar":
        return [f"${i}" for i in range(start, start + n)]
    return ["%s"] * n


async def _insert_many(s: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """One executemany INSERT per set of columns. Every column with a Python
    default must be given: nothing here would apply it."""
    if not rows:
        return
    conn = await s.connection()
    dialect = conn.dialect
    for keys, group in _by_keys(rows).items():
        missing = {c.name for c in table.c if c.default is not None and not c.primary_key}
        assert missing <= set(keys), f"{table.name}: give {sorted(missing - set(keys))}"
        sql = (
            f"INSERT INTO {table.name} ({', '.join(keys)}) "
            f"VALUES ({', '.join(_marks(dialect, len(keys)))})"
        )
        bound = _bound(table, keys, dialect)
        await conn.exec_driver_sql(sql, [bound(row) for row in group])


async def _update_by_id(s: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """One executemany UPDATE ... WHERE id = ? per set of keys (rows that leave a
    column out, like an empty channel cell, leave it as it is)."""
    if not rows:
        return
    conn = await s.connection()
    dialect = conn.dialect
    for keys, group in _by_keys(rows).items():
        columns = tuple(k for k in keys if k != "id")
        marks = _marks(dialect, len(columns) + 1)
        sets = ", ".join(f"{c} = {m}" for c, m in zip(columns, marks, strict=False))
        sql = f"UPDATE {table.name} SET {sets} WHERE id = {marks[-1]}"
        bound = _bound(table, (*columns, "id"), dialect)
        await conn.exec_driver_sql(
            sql, [bound({**{c: row[c] for c in columns}, "id": row["id"]}) for row in group]
        )


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
        await _insert_many(
            s,
            DEBTORS,
            [
                {
                    **CHANNEL_DEFAULTS,
                    **_person(r),
                    "external_ref": r.external_ref,
                    "status": DebtorStatus.ACTIVE,
                    "created_at": now,
                    "updated_at": now,
                }
                for r in fresh
            ],
        )
        created = await s.execute(
            select(Debtor.external_ref, Debtor.id).where(
                Debtor.external_ref.in_([r.external_ref for r in fresh])
            )
        )
        ids.update({ref: id_ for ref, id_ in created.all()})

    old_ids = list(existing.values())
    phones: dict[int, dict[str, tuple[int, int]]] = {}  # debtor -> e164 -> (id, position)
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
        for pid, did, e164, at in await s.execute(
            select(Phone.id, Phone.debtor_id, Phone.e164, Phone.position).where(
                Phone.debtor_id.in_(old_ids)
            )
        ):
            phones.setdefault(did, {})[e164] = (pid, at)
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
                pid, at = had[e164]
                if at != position:
                    moved_phones.append({"id": pid, "position": position})
            else:
                # The facts the row's check derived (else the column defaults parse again).
                new_phones.append(
                    {
                        "debtor_id": did,
                        "e164": e164,
                        "position": position,
                        "number_country": country,
                        "number_zones": zones,
                        "wrong_number_at": None,
                    }
                )
        gone_phones += [pid for e164, (pid, _) in had.items() if e164 not in r.phones]
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
    await _insert_many(s, PHONES, new_phones)
    await _update_by_id(s, DEBTS, changed_debts)
    await _insert_many(s, DEBTS, new_debts)
    await merge_spoken_forms(
        s, {(r.creditor, r.locale): r.creditor_spoken for r in rows if r.creditor_spoken}
    )
    return len(fresh), len(existing)
