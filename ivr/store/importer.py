"""Portfolio import: a debtor CSV into the store, checked row by row.

Every row is validated on its own (phone, amount, date, locale, zone, plain
text); a bad row is reported with its line number and reason while the good
rows land. A file that cannot be read as it is (not UTF-8 unless another
encoding is named, no header, a required column missing) is refused whole
and nothing is imported. The same ``external_ref`` imported again updates
the debtor, never duplicates; its phone list becomes the file's, in order.
A ``document`` column (CPF, Social Security number) is reduced at once to a
salted hash of its last digits, the identity check a call may ask for: the
whole number is never stored, nor repeated in a row's error.

Rows are written in chunks, each its own short transaction: COPY and a
set-based merge on PostgreSQL (``ivr.store.import_copy``), paced batches on
SQLite (``ivr.store.import_batch``) so a service sharing the file keeps
writing meanwhile.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr import metrics
from ivr.calling_hours import default_hours
from ivr.store.csvfile import CsvRefused, Record, Table, read_table
from ivr.store.import_batch import Pacer, store_rows
from ivr.store.import_copy import CHUNK_ROWS, copy_rows
from ivr.store.import_report import ImportReport, RowError, RowRejected
from ivr.store.import_rows import (
    LOCALE_HOME,
    OPTIONAL,
    REQUIRED,
    DebtorRow,
    validate_row,
)
from ivr.store.models import CallWindow, Campaign
from ivr.store.payment_columns import PAYMENT_COLUMNS
from ivr.vocab.locales import DEFAULT_LOCALE, LOCALES
from ivr.vocab.row_errors import RowErrorCode

ImportRefused = CsvRefused  # the whole file is refused; nothing was imported


@dataclass
class DebtorImportReport(ImportReport):
    """Debtors inserted and updated, and every rejected line."""

    inserted: int = 0
    updated: int = 0

    @property
    def ok(self) -> int:
        return self.inserted + self.updated


def open_debtor_table(path: Path, encoding: str | None = None) -> Table:
    """Read and check a debtor file as a whole; its rows are validated later, lazily."""
    table = read_table(path, encoding)
    missing = table.missing(REQUIRED)
    if missing:
        raise ImportRefused(
            f"{path}: not a debtor CSV: missing required column(s) {', '.join(missing)} "
            f"(expected {','.join(REQUIRED)} and optionally {','.join(OPTIONAL)})"
        )
    return table


def validated(
    records: Iterator[Record], default_locale: str, errors: list[RowError]
) -> Iterator[DebtorRow]:
    """Good rows in file order; every bad one goes to ``errors`` with its line and reason.

    A creditor's spoken form is one per locale: a row that gives another one
    than an earlier row of the file is refused rather than guessed between.
    """
    seen: dict[str, int] = {}
    spoken: dict[tuple[str, str], tuple[str, int]] = {}
    for rec in records:
        ref = (rec.values.get("external_ref") or "").strip()
        if rec.error is not None:
            errors.append(rec.row_error(ref))
            continue
        if not any(v.strip() for v in rec.values.values()):
            continue
        try:
            row = validate_row(rec.line, rec.values, default_locale)
        except RowRejected as exc:  # RowInvalid, AmountInvalid, ChannelInvalid, payment details
            errors.append(RowError.of(rec.line, exc, ref))
            continue
        if row.external_ref in seen:
            first = seen[row.external_ref]
            why = f"external_ref repeats line {first}; first kept"
            params = {"first_line": str(first)}
            errors.append(
                RowError(rec.line, why, row.external_ref, RowErrorCode.DUPLICATE_REF, params)
            )
            continue
        if row.creditor_spoken is not None:
            key = (row.creditor, row.locale)
            said, line = spoken.setdefault(key, (row.creditor_spoken, rec.line))
            if said != row.creditor_spoken:
                why = f"creditor_spoken differs from line {line} ({said!r}) for {row.creditor!r}"
                code = RowErrorCode.SPOKEN_FORM_CONFLICT
                params = {"creditor": row.creditor, "first_line": str(line)}
                errors.append(RowError(rec.line, why, row.external_ref, code, params))
                continue
        seen[row.external_ref] = rec.line
        yield row


def read_rows(
    path: Path, default_locale: str, encoding: str | None = None
) -> tuple[list[DebtorRow], list[RowError]]:
    """Parse and validate a whole file (refused whole if it is not a usable CSV)."""
    errors: list[RowError] = []
    table = open_debtor_table(path, encoding)
    rows = list(validated(table.records, default_locale, errors))
    return rows, errors


async def ensure_campaign(session: AsyncSession, name: str, locale: str) -> Campaign:
    """Find a campaign by name or create it with the country's default windows."""
    camp = await session.scalar(select(Campaign).where(Campaign.name == name))
    if camp is not None:
        return camp
    country = LOCALE_HOME.get(locale, LOCALE_HOME[DEFAULT_LOCALE])[0]
    camp = Campaign(
        name=name,
        locale=locale,
        country=country,
        quiet_days_after_rpc=7 if country == "US" else 0,
    )
    for weekday, start, end in default_hours(country):
        camp.windows.append(CallWindow(weekday=weekday, start=start, end=end))
    session.add(camp)
    await session.flush()
    return camp


async def import_debtors(
    sessions: async_sessionmaker[AsyncSession],
    path: Path,
    *,
    campaign: str = "default",
    campaign_id: int | None = None,
    default_locale: str = DEFAULT_LOCALE,
    encoding: str | None = None,
) -> DebtorImportReport:
    """Import a debtor file; rows without a locale take the campaign's.

    The campaign is ``campaign_id`` when given (the API's upload: it must
    exist), else the one named ``campaign``, created if new (the CLI).

    The whole file is checked (encoding, header) before anything is written.
    Then it is read, validated and stored chunk by chunk, each chunk in its
    own short transaction: COPY and a set-based merge on PostgreSQL
    (:mod:`ivr.store.import_copy`), paced batches on SQLite
    (:class:`ivr.store.import_batch.Pacer`). The next chunk is validated in
    a thread while the database writes the current one; memory holds two
    chunks, whatever the file's length.
    """
    table = await asyncio.to_thread(open_debtor_table, path, encoding)
    async with sessions() as s, s.begin():
        if campaign_id is None:
            camp = await ensure_campaign(s, campaign, default_locale)
        else:
            found = await s.get(Campaign, campaign_id)
            if found is None:
                raise ImportRefused(f"no campaign {campaign_id}")
            camp = found
        campaign_id, locale = camp.id, camp.locale
        backend = (await s.connection()).dialect.name
    report = DebtorImportReport()
    rows = validated(table.records, locale if locale in LOCALES else default_locale, report.errors)
    payment = tuple(c for c in PAYMENT_COLUMNS if c in table.header)
    pacer = Pacer(backend)
    size = CHUNK_ROWS if backend == "postgresql" else pacer.size
    pending = asyncio.ensure_future(asyncio.to_thread(_take, rows, size))
    try:
        while batch := await pending:
            if backend != "postgresql":
                size = pacer.size
            pending = asyncio.ensure_future(asyncio.to_thread(_take, rows, size))
            await pacer.wait_turn()
            started = time.perf_counter()
            if backend == "postgresql":
                result = await copy_rows(sessions, batch, campaign_id, payment)
            else:
                result = await store_rows(sessions, batch, campaign_id)
            pacer.done(len(batch), time.perf_counter() - started)
            report.inserted += result.inserted
            report.updated += result.updated
            report.errors.extend(
                RowError(
                    row.line,
                    f"not stored: {why}",
                    row.external_ref,
                    RowErrorCode.NOT_STORED,
                    {"detail": why},
                )
                for row, why in result.failed
            )
    finally:
        if not pending.done():
            await asyncio.wait([pending])  # the thread finishes its chunk; drop it
    report.errors.sort(key=lambda e: e.line)
    metrics.import_rows(report.inserted, report.updated, len(report.errors))
    return report


def _take(rows: Iterator[DebtorRow], size: int) -> list[DebtorRow]:
    """The next ``size`` good rows (validating as many lines as that takes)."""
    return list(itertools.islice(rows, size))
