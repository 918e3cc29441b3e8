"""Storing validated debtor rows on PostgreSQL: COPY into staging, merge set-based.

The rows were checked in Python (``ivr.store.import_rows.validate_row`` is the
only rule for a row); here they are only written. A chunk is one short
transaction of a fixed number of statements whatever its size:

1. binary COPY of the chunk into two temporary tables (debtors with their
   debt, and their phones), private to the connection and emptied at commit;
2. an UPDATE ... FROM of the debtors that exist, then an INSERT ... ON
   CONFLICT DO NOTHING of the rest (a debtor another import created meanwhile
   is updated on a second pass), both recording ids in a third temporary table;
3. phones: the ones a re-imported debtor no longer lists are deleted, the
   file's are inserted or moved to their position (ON CONFLICT);
4. debts: the debtor's first debt with the same creditor is updated, others
   are inserted; then the creditors' spoken forms.

Only row locks are taken, on the chunk's own debtors, so the running service
keeps answering; a chunk of :data:`CHUNK_ROWS` commits in a fraction of a
second. A chunk the database refuses (a value a column cannot hold) is
written again through :func:`ivr.store.import_batch.store_rows`, which
narrows it down to the row at fault: the report stays row-level.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.store.creditors import merge_spoken_forms
from ivr.store.import_batch import BatchResult, store_rows
from ivr.store.models import DebtStatus, utcnow
from ivr.store.payment_columns import PAYMENT_COLUMNS

if TYPE_CHECKING:
    from ivr.store.import_rows import DebtorRow

CHUNK_ROWS = 10_000  # about 0.3 s of one transaction on 2 cores

STAGE = "import_debtor_stage"
PHONE_STAGE = "import_phone_stage"
IDS = "import_debtor_ids"

_STAGE_COLUMNS = (
    "line",
    "external_ref",
    "name",
    "locale",
    "country",
    "region",
    "timezone",
    "birth_year",
    "document_digits",
    "calls_allowed",
    "sms_allowed",
    "preferred_channel",
    "creditor",
    "amount_cents",
    "currency",
    "due_date",
    *PAYMENT_COLUMNS,
)

# Temporary: invisible to other sessions, no WAL, emptied by every commit.
_CREATE = ";".join(
    (
        f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} ("
        " line integer PRIMARY KEY, external_ref text NOT NULL, name text, locale text,"
        " country text, region text, timezone text, birth_year integer, document_digits text,"
        " calls_allowed boolean, sms_allowed boolean, preferred_channel text, creditor text,"
        " amount_cents bigint, currency text, due_date date,"
        " payment_url text, pix_code text, boleto_line text) ON COMMIT DELETE ROWS",
        f"CREATE TEMP TABLE IF NOT EXISTS {PHONE_STAGE} ("
        " line integer, e164 text, position integer) ON COMMIT DELETE ROWS",
        f"CREATE TEMP TABLE IF NOT EXISTS {IDS} ("
        " line integer PRIMARY KEY, debtor_id integer, fresh boolean) ON COMMIT DELETE ROWS",
    )
)
_EXISTS = f"SELECT to_regclass('pg_temp.{IDS}') IS NOT NULL"

# An empty channel cell (NULL here) leaves what the debtor has.
_UPDATE_DEBTORS = f"""
WITH up AS (
  UPDATE debtors d SET
    name = s.name, locale = s.locale, country = s.country, region = s.region,
    timezone = s.timezone, birth_year = s.birth_year, document_digits = s.document_digits,
    calls_allowed = COALESCE(s.calls_allowed, d.calls_allowed),
    sms_allowed = COALESCE(s.sms_allowed, d.sms_allowed),
    preferred_channel = COALESCE(s.preferred_channel, d.preferred_channel),
    updated_at = :now, next_attempt_at = NULL
  FROM {STAGE} s
  WHERE d.external_ref = s.external_ref
    AND NOT EXISTS (SELECT 1 FROM {IDS} i WHERE i.line = s.line)
  RETURNING d.id, s.line
)
INSERT INTO {IDS} (line, debtor_id, fresh) SELECT line, id, false FROM up
"""

_INSERT_DEBTORS = f"""
WITH ins AS (
  INSERT INTO debtors (external_ref, name, locale, country, region, timezone, birth_year,
                       document_digits, calls_allowed, sms_allowed, preferred_channel,
                       created_at, updated_at)
  SELECT external_ref, name, locale, country, region, timezone, birth_year, document_digits,
         COALESCE(calls_allowed, true), COALESCE(sms_allowed, true), preferred_channel,
         CAST(:now AS timestamptz), CAST(:now AS timestamptz)
  FROM {STAGE} s
  WHERE NOT EXISTS (SELECT 1 FROM {IDS} i WHERE i.line = s.line)
  ON CONFLICT (external_ref) DO NOTHING
  RETURNING id, external_ref
)
INSERT INTO {IDS} (line, debtor_id, fresh)
SELECT s.line, ins.id, true FROM ins JOIN {STAGE} s ON s.external_ref = ins.external_ref
"""

_DELETE_PHONES = f"""
DELETE FROM phones p USING {IDS} i
WHERE NOT i.fresh AND p.debtor_id = i.debtor_id
  AND NOT EXISTS (SELECT 1 FROM {PHONE_STAGE} sp WHERE sp.line = i.line AND sp.e164 = p.e164)
"""

# A new debtor's phones are plain inserts; a known one's may exist already.
_INSERT_PHONES = f"""
INSERT INTO phones (debtor_id, e164, position)
SELECT i.debtor_id, sp.e164, sp.position FROM {PHONE_STAGE} sp JOIN {IDS} i USING (line)
WHERE i.fresh
"""

_UPSERT_PHONES = f"""
INSERT INTO phones (debtor_id, e164, position)
SELECT i.debtor_id, sp.e164, sp.position FROM {PHONE_STAGE} sp JOIN {IDS} i USING (line)
WHERE NOT i.fresh
ON CONFLICT (debtor_id, e164) DO UPDATE SET position = EXCLUDED.position
WHERE phones.position IS DISTINCT FROM EXCLUDED.position
"""


def _debt_statements(payment: tuple[str, ...]) -> tuple[str, str]:
    """UPDATE and INSERT of debts; only the payment columns the file has are written."""
    sets = "".join(f", {c} = m.{c}" for c in payment)
    update = f"""
UPDATE debts d SET amount_cents = m.amount_cents, currency = m.currency,
  due_date = m.due_date, campaign_id = :campaign{sets}
FROM (
  SELECT DISTINCT ON (x.debtor_id, x.creditor) x.id, s.*
  FROM {IDS} i JOIN {STAGE} s USING (line)
  JOIN debts x ON x.debtor_id = i.debtor_id AND x.creditor = s.creditor
  WHERE NOT i.fresh
  ORDER BY x.debtor_id, x.creditor, x.id
) m
WHERE d.id = m.id
"""
    cols = "".join(f", {c}" for c in payment)
    values = "".join(f", s.{c}" for c in payment)
    insert = f"""
INSERT INTO debts (debtor_id, campaign_id, creditor, amount_cents, currency, due_date,
                   status, created_at{cols})
SELECT i.debtor_id, CAST(:campaign AS integer), s.creditor, s.amount_cents, s.currency,
       s.due_date, CAST(:status AS text), CAST(:now AS timestamptz){values}
FROM {IDS} i JOIN {STAGE} s USING (line)
WHERE i.fresh OR NOT EXISTS (
  SELECT 1 FROM debts x WHERE x.debtor_id = i.debtor_id AND x.creditor = s.creditor)
"""
    return update, insert


def _records(rows: list[DebtorRow]) -> tuple[list[tuple[Any, ...]], list[tuple[int, str, int]]]:
    debtors: list[tuple[Any, ...]] = []
    phones: list[tuple[int, str, int]] = []
    for r in rows:
        channels = dict(r.channels)
        preferred = channels.get("preferred_channel")
        debtors.append(
            (
                r.line,
                r.external_ref,
                r.name,
                str(r.locale),
                r.country,
                r.region,
                r.timezone,
                r.birth_year,
                r.document_digits,
                channels.get("calls_allowed"),
                channels.get("sms_allowed"),
                None if preferred is None else str(preferred),
                r.creditor,
                r.amount_cents,
                r.currency,
                r.due_date,
                *(r.payment.get(c) for c in PAYMENT_COLUMNS),
            )
        )
        phones.extend((r.line, e164, position) for position, e164 in enumerate(r.phones))
    return debtors, phones


async def copy_rows(
    sessions: async_sessionmaker[AsyncSession],
    rows: list[DebtorRow],
    campaign_id: int,
    payment: tuple[str, ...],
) -> BatchResult:
    """Store one chunk; if the database refuses it, through the narrowing batch path.

    ``payment``: the payment columns the file has (the same for every row).
    """
    try:
        async with sessions() as s, s.begin():
            inserted, updated = await _merge(s, rows, campaign_id, payment)
        return BatchResult(inserted, updated)
    except DBAPIError as exc:
        if isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated:
            raise  # the database is unavailable: not about any one row
    except _Raced:
        pass  # rolled back; the batch path finds each debtor as it is now
    return await store_rows(sessions, rows, campaign_id)


class _Raced(Exception):
    """A debtor of the chunk was neither updated nor inserted (deleted meanwhile)."""


async def _merge(
    s: AsyncSession, rows: list[DebtorRow], campaign_id: int, payment: tuple[str, ...]
) -> tuple[int, int]:
    now: dt.datetime = utcnow()
    # The first statement also opens the transaction the COPY joins.
    exists = await s.scalar(text(_EXISTS))
    raw = await (await s.connection()).get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    if not exists:  # once per connection: the tables outlive the transaction
        await driver.execute(_CREATE)
    debtors, phones = _records(rows)
    await driver.copy_records_to_table(STAGE, records=debtors, columns=_STAGE_COLUMNS)
    await driver.copy_records_to_table(
        PHONE_STAGE, records=phones, columns=("line", "e164", "position")
    )
    # The chunk's lines hold distinct external_refs (the file's repeats were
    # reported before), so a line maps to one debtor.
    updated = await _count(s, _UPDATE_DEBTORS, now=now)
    inserted = await _count(s, _INSERT_DEBTORS, now=now)
    if updated + inserted < len(rows):  # created by another import since the UPDATE
        updated += await _count(s, _UPDATE_DEBTORS, now=now)
        if updated + inserted < len(rows):
            raise _Raced
    if inserted:
        await s.execute(text(_INSERT_PHONES))
    if updated:
        await s.execute(text(_DELETE_PHONES))
        await s.execute(text(_UPSERT_PHONES))
    update_debts, insert_debts = _debt_statements(payment)
    if updated:
        await s.execute(text(update_debts), {"campaign": campaign_id})
    await s.execute(
        text(insert_debts),
        {"campaign": campaign_id, "status": DebtStatus.OPEN.value, "now": now},
    )
    await merge_spoken_forms(
        s, {(r.creditor, r.locale): r.creditor_spoken for r in rows if r.creditor_spoken}
    )
    return inserted, updated


async def _count(s: AsyncSession, sql: str, **params: Any) -> int:
    """Run a statement; the number of rows it wrote."""
    result = cast("CursorResult[Any]", await s.execute(text(sql), params))
    return int(result.rowcount)
