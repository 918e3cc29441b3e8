"""Storing a debtor file on PostgreSQL: COPY into staging, merge set-based.

The rows were checked where they were read (``ivr.store.import_rows``, maybe
in another process) and arrive as COPY text (``ivr.store.import_stage``);
here they are only written, on one connection held for the whole import,
each chunk one short transaction of a fixed number of statements:

1. COPY of the chunk into two temporary tables (debtors with their debt, and
   their phones), private to the connection and emptied at commit;
2. the rules across rows (``ivr.store.import_sequence``): one query finds the
   few rows they can touch (a reference kept by an earlier chunk, which a
   temporary table of the import's references answers by its key, or twice
   in the chunk, or a spoken form); the refused ones leave the staging and
   the rest's references join the table. Memory does not grow with the file;
3. an UPDATE ... FROM of the debtors that exist, then an INSERT ... ON
   CONFLICT DO NOTHING of the rest (one another writer created meanwhile is
   merged again), both recording ids in a third temporary table;
4. phones: a new debtor's are inserted with their stored facts
   (``ivr.number_facts``); a known debtor's are compared with the file's
   and, if they differ, the ones no longer listed are deleted and the
   file's inserted or moved to their position;
5. debts: the debtor's first debt with the same creditor is updated (if
   anything changed), others are inserted; then the creditors' spoken forms.

The statements that find rows of the store (a chunk's few thousand among
millions) are planned as index lookups (``import_stage.BY_INDEX``); the
merge's plans were checked with EXPLAIN against a million debtors.

Only row locks are taken, on the chunk's own debtors, so the running service
keeps answering; a chunk commits in a fraction of a second. The commits but
the last do not wait for the disk (``synchronous_commit = off``): the last
one does, and makes every one before it durable, before the import reports.
A chunk the database refuses (a value a column cannot hold) is merged again
by halves under savepoints until the line at fault is found: only that line
is lost, and reported.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import CursorResult, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ivr.store import fk_triggers
from ivr.store import import_stage as sql
from ivr.store.creditors import merge_spoken_forms
from ivr.store.import_batch import BatchResult, db_reason
from ivr.store.import_report import RowError
from ivr.store.import_sequence import Candidate, Sequencer
from ivr.store.models import DebtStatus, utcnow

MERGE_PASSES = 5  # a debtor created or removed by another writer each time: give up
# The merge's inserts skip the per-row foreign-key triggers (a third of their
# time) where the database lets this session (ivr.store.fk_triggers): every
# key they write is one the chunk's transaction holds. A debtor it inserted
# (invisible to anyone else) or updated (locked until commit), and the
# campaign (locked FOR KEY SHARE, as the trigger would). Deleting phones runs
# with the triggers: a deleted phone's calls must lose their phone_id.
_UNCHECKED = fk_triggers.UNCHECKED
_CHECKED = fk_triggers.CHECKED


class CopyWriter:
    """One import's writes to PostgreSQL, chunk by chunk, on one connection."""

    def __init__(self, conn: AsyncConnection, campaign_id: int, payment: tuple[str, ...]) -> None:
        # payment: the payment columns the file has (the same for every row).
        self.conn = conn
        self.campaign_id = campaign_id
        self.debt_fresh, self.debt_known = sql.debt_statements(payment)
        self.sequencer = Sequencer(remember=False)  # the kept references: table KEPT
        self.unchecked = False  # may the inserts skip the per-row foreign-key triggers?

    async def open(self) -> None:
        """The import's temporary tables (a connection from the pool may hold
        an earlier import's: they are made anew)."""
        try:  # refused once the session has used a temporary table: it keeps its size
            await self.conn.exec_driver_sql("SET temp_buffers = '64MB'")
            await self.conn.commit()
        except DBAPIError:
            await self.conn.rollback()
        self.unchecked = await fk_triggers.may_skip(self.conn)
        await self.conn.rollback()
        for statement in sql.CREATE:
            await self.conn.exec_driver_sql(statement)
        await self.conn.commit()

    async def close(self) -> None:
        """Drop the tables, in a transaction that waits for the disk: every
        chunk committed before is durable once this returns."""
        await self.conn.exec_driver_sql(sql.DROP)
        await self.conn.commit()

    async def write(self, debtors: bytes, phones: bytes) -> tuple[BatchResult, list[RowError]]:
        """Store one chunk (COPY text): what was written, and the rows the
        rules across rows refused."""
        await self.conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
        driver = await self._driver()
        if debtors:
            await driver.copy_to_table(
                sql.STAGE, source=memoryview(debtors), columns=sql.STAGE_COLUMNS, format="text"
            )
        if phones:
            await driver.copy_to_table(
                sql.PHONE_STAGE, source=memoryview(phones), columns=sql.PHONE_COLUMNS, format="text"
            )
        refused, forms = await self._sift(driver)
        lo, hi, count = await driver.fetchrow(sql.KEEP)
        result = await self._merge_lines(driver, lo, hi, count) if count else BatchResult()
        failed = {line for line, _, _ in result.failed}
        stored = {k: said for k, (said, line) in forms.items() if line not in failed}
        if stored:
            async with AsyncSession(bind=self.conn) as s:
                await merge_spoken_forms(s, stored)
        await self.conn.commit()
        return result, refused

    async def _driver(self) -> Any:
        """The asyncpg connection under this one, inside its transaction."""
        raw = await self.conn.get_raw_connection()
        return raw.driver_connection

    async def _sift(
        self, driver: Any
    ) -> tuple[list[RowError], dict[tuple[str, str], tuple[str, int]]]:
        """Apply the rules across rows; drop the refused lines from the staging."""
        found = await driver.fetch(sql.CANDIDATES)
        candidates = [Candidate(*r) for r in found]
        if not candidates:
            return [], {}
        refused = self.sequencer.sift(candidates)
        gone = {e.line for e in refused}
        if gone:
            for statement in sql.DROP_LINES:
                await driver.execute(statement, sorted(gone))
        forms = {
            (c.creditor, c.locale): (c.spoken, c.line)
            for c in candidates
            if c.spoken is not None and c.line not in gone
        }
        return refused, forms

    async def _merge_lines(self, driver: Any, lo: int, hi: int, count: int) -> BatchResult:
        """Merge the ``count`` staged lines ``lo``..``hi``; if the database
        refuses them, by halves."""
        savepoint = await self.conn.begin_nested()
        try:
            inserted, updated = await self._merge(lo, hi, count)
        except DBAPIError as exc:
            if isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated:
                raise  # the database is unavailable: not about any one row
            await savepoint.rollback()
            if count == 1:
                ref = await driver.fetchval(sql.REF_OF, lo)
                return BatchResult(failed=[(lo, ref, db_reason(exc))])
            lines = [r[0] for r in await driver.fetch(sql.LINES, lo, hi)]
            half = count // 2
            result = await self._merge_lines(driver, lines[0], lines[half - 1], half)
            result.add(await self._merge_lines(driver, lines[half], lines[-1], count - half))
            return result
        await savepoint.commit()
        return BatchResult(inserted, updated)

    async def _merge(self, lo: int, hi: int, count: int) -> tuple[int, int]:
        """The set-based merge of the ``count`` staged lines ``lo``..``hi``."""
        now: dt.datetime = utcnow()
        span = {"lo": lo, "hi": hi}
        debt = {"campaign": self.campaign_id, "status": DebtStatus.OPEN.value, "now": now, **span}
        unchecked = self.unchecked and await self._hold_campaign()
        if unchecked:
            await self.conn.exec_driver_sql(f"SET LOCAL {_UNCHECKED}")
        inserted = updated = 0
        for _ in range(MERGE_PASSES):  # each line's reference is the chunk's alone
            await self.conn.exec_driver_sql(sql.BY_INDEX)
            updated += await self._count(sql.UPDATE_DEBTORS, now=now, **span)
            await self.conn.exec_driver_sql(sql.BY_HASH)
            inserted += await self._count(sql.INSERT_DEBTORS, now=now, **span)
            if inserted + updated == count:
                break
        else:
            raise RuntimeError("debtors of the file keep changing under the import")
        if inserted:
            await self.conn.execute(text(sql.INSERT_PHONES), span)
            await self.conn.execute(text(self.debt_fresh), debt)
        if updated:
            await self.conn.exec_driver_sql(sql.BY_INDEX)
            if await self.conn.scalar(text(sql.PHONES_CHANGED), span):
                if unchecked:  # a phone's deletion sets its calls' phone_id to NULL
                    await self.conn.exec_driver_sql(f"SET LOCAL {_CHECKED}")
                await self.conn.execute(text(sql.DELETE_PHONES), span)
                if unchecked:
                    await self.conn.exec_driver_sql(f"SET LOCAL {_UNCHECKED}")
                await self.conn.execute(text(sql.UPSERT_PHONES), span)
            await self.conn.execute(text(self.debt_known), debt)
            await self.conn.exec_driver_sql(sql.BY_HASH)
        if unchecked:
            await self.conn.exec_driver_sql(f"SET LOCAL {_CHECKED}")
        return inserted, updated

    async def _hold_campaign(self) -> bool:
        """Lock the campaign against deletion until commit, as the debts'
        foreign-key trigger would; False if it is gone (then the triggers run
        and refuse the debts)."""
        found = await self.conn.scalar(
            text("SELECT id FROM campaigns WHERE id = :c FOR KEY SHARE"), {"c": self.campaign_id}
        )
        return found is not None

    async def _count(self, statement: str, **params: Any) -> int:
        """Run a statement; the number of rows it wrote."""
        result = cast("CursorResult[Any]", await self.conn.execute(text(statement), params))
        return int(result.rowcount)
