"""A whole batch in one statement: PostgreSQL's array forms, and the portable fallback.

The claim locks, reads and writes hundreds of people per tick. On
PostgreSQL each of these statements takes the batch as array parameters
(``= ANY``, ``unnest()``): one round trip and one cached plan whatever the
batch size, where an ``IN`` list or an executemany would compile or send per
row. SQLite (one in-process writer) gets the plain form. Kept apart from
the claim's logic so that reads as rules, not as dialect details.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Date, DateTime, Integer, String, any_, bindparam, insert, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import CallAttempt, Debtor


def id_in(session: AsyncSession, column: Any, ids: Sequence[int]) -> Any:
    """``column IN ids``; on PostgreSQL one array parameter (``= ANY``), cheap to compile."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))
    return column.in_(list(ids))


_PG_INSERT = text(
    "INSERT INTO call_attempts (debtor_id, debt_id, phone_id, campaign_id, callback_id, "
    "to_number, status, last_sequence, local_day, claimed_by, claimed_at) "
    "SELECT *, :worker, :at FROM unnest(CAST(:debtor_id AS INTEGER[]), "
    "CAST(:debt_id AS INTEGER[]), CAST(:phone_id AS INTEGER[]), CAST(:campaign_id AS INTEGER[]), "
    "CAST(:callback_id AS INTEGER[]), CAST(:to_number AS VARCHAR[]), CAST(:status AS VARCHAR[]), "
    "CAST(:last_sequence AS INTEGER[]), CAST(:local_day AS DATE[])) "
    "RETURNING id, debtor_id"
)


async def insert_attempts(session: AsyncSession, rows: list[dict[str, Any]]) -> dict[int, int]:
    """Insert the claimed attempts; returns debtor id -> attempt id.

    PostgreSQL gets one ``INSERT ... SELECT FROM unnest()`` (a single round
    trip and plan for the whole batch); other backends an executemany.
    """
    if session.get_bind().dialect.name == "postgresql":

        def col(name: str) -> list[Any]:
            return [r[name] for r in rows]

        ints = ARRAY(Integer)
        stmt = _PG_INSERT.bindparams(
            bindparam("debtor_id", col("debtor_id"), type_=ints),
            bindparam("debt_id", col("debt_id"), type_=ints),
            bindparam("phone_id", col("phone_id"), type_=ints),
            bindparam("campaign_id", col("campaign_id"), type_=ints),
            bindparam("callback_id", col("callback_id"), type_=ints),
            bindparam("to_number", col("to_number"), type_=ARRAY(String)),
            bindparam("status", [str(x) for x in col("status")], type_=ARRAY(String)),
            bindparam("last_sequence", [-1] * len(rows), type_=ints),
            bindparam("local_day", col("local_day"), type_=ARRAY(Date)),
            bindparam("worker", rows[0]["claimed_by"], type_=String),
            bindparam("at", rows[0]["claimed_at"], type_=DateTime(timezone=True)),
        )
        result = await session.execute(stmt)
        return {int(r.debtor_id): int(r.id) for r in result.all()}
    table = CallAttempt.__table__
    result = await session.execute(
        insert(table).returning(table.c.id, table.c.debtor_id),  # type: ignore[arg-type]
        rows,
    )
    return {int(r.debtor_id): int(r.id) for r in result.all()}


async def set_hints(session: AsyncSession, hints: Sequence[dict[str, Any]]) -> None:
    """Store the planner's next-look instants (``b_id``, ``b_next``).

    PostgreSQL: one ``UPDATE ... FROM unnest()`` for the whole batch; SQLite:
    an executemany (it is in-process anyway). A hint is not an edit of the
    person's record, so ``updated_at`` is left alone.
    """
    if not hints:
        return
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text(
                "UPDATE debtors SET next_attempt_at = v.t "
                "FROM unnest(:ids, :ts) AS v(id, t) WHERE debtors.id = v.id"
            ).bindparams(
                bindparam("ids", [h["b_id"] for h in hints], type_=ARRAY(Integer)),
                bindparam("ts", [h["b_next"] for h in hints], type_=ARRAY(DateTime(timezone=True))),
            )
        )
        return
    table = Debtor.__table__
    stmt = (
        update(table)  # type: ignore[arg-type]
        .where(table.c.id == bindparam("b_id"))
        .values(next_attempt_at=bindparam("b_next"), updated_at=table.c.updated_at)
    )
    await session.execute(stmt, list(hints))
