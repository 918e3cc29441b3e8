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

The file is streamed: read and checked chunk by chunk (``ivr.store.import_stream``,
a process of its own for a large file), written chunk by chunk, each chunk
its own short transaction: COPY and a set-based merge on PostgreSQL
(``ivr.store.import_copy``), paced batches on SQLite (``ivr.store.import_batch``)
so a service sharing the file keeps writing meanwhile. The rules that span
rows (a repeated reference, a creditor's spoken form) are in
``ivr.store.import_sequence``; on PostgreSQL the file's references are
remembered by the database, so the import's memory does not grow with the
file (a million rows take what a hundred thousand take).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr import metrics
from ivr.calling_hours import default_hours
from ivr.store import import_batch
from ivr.store.csvfile import CsvRefused, check_file, read_checked
from ivr.store.import_batch import BatchResult, Pacer, store_rows
from ivr.store.import_copy import CopyWriter
from ivr.store.import_report import ImportReport, RowError
from ivr.store.import_rows import LOCALE_HOME, OPTIONAL, REQUIRED, DebtorRow
from ivr.store.import_sequence import Candidate, Sequencer
from ivr.store.import_stage import copy_text
from ivr.store.import_stream import Source, checked_chunks, chunks
from ivr.store.models import CallWindow, Campaign
from ivr.store.payment_columns import PAYMENT_COLUMNS
from ivr.vocab.locales import DEFAULT_LOCALE, LOCALES
from ivr.vocab.row_errors import RowErrorCode

ImportRefused = CsvRefused  # the whole file is refused; nothing was imported
CHUNK_ROWS = 10_000  # PostgreSQL: rows a transaction; about 0.3 s of one, on 2 cores


@dataclass
class DebtorImportReport(ImportReport):
    """Debtors inserted and updated, and every rejected line."""

    inserted: int = 0
    updated: int = 0

    @property
    def ok(self) -> int:
        return self.inserted + self.updated


def open_debtor_table(path: Path, encoding: str | None = None) -> tuple[str, list[str]]:
    """Check a debtor file as a whole (encoding, header): the codec to read it
    with, and its columns. Its rows are checked later, as they are read."""
    codec = check_file(path, encoding)
    table = read_checked(path, codec)
    header = table.header
    del table  # its lines are read again, chunk by chunk, by whoever checks them
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportRefused(
            f"{path}: not a debtor CSV: missing required column(s) {', '.join(missing)} "
            f"(expected {','.join(REQUIRED)} and optionally {','.join(OPTIONAL)})"
        )
    return codec, header


def read_rows(
    path: Path, default_locale: str, encoding: str | None = None
) -> tuple[list[DebtorRow], list[RowError]]:
    """Parse and check a whole file in memory, as an import would (refused
    whole if it is not a usable CSV): the kept rows and the refused lines."""
    codec, _ = open_debtor_table(path, encoding)
    src = Source(path, codec, default_locale, 1 << 62, list)
    rows: list[DebtorRow] = []
    errors: list[RowError] = []
    sequencer = Sequencer(remember=True)
    for chunk in checked_chunks(src):
        errors += chunk.errors
        refused = sequencer.sift(map(candidate, chunk.rows))
        gone = {e.line for e in refused}
        rows += [r for r in chunk.rows if r.line not in gone]
        errors += refused
    errors.sort(key=lambda e: e.line)
    return rows, errors


def candidate(row: DebtorRow) -> Candidate:
    """A good row, for the rules across rows (ivr.store.import_sequence)."""
    return Candidate(row.line, row.external_ref, row.creditor, row.locale, row.creditor_spoken)


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
    Then it is read, checked and stored chunk by chunk, each chunk in its own
    short transaction: COPY and a set-based merge on PostgreSQL
    (:mod:`ivr.store.import_copy`), paced batches on SQLite
    (:class:`ivr.store.import_batch.Pacer`). The next chunks are checked
    meanwhile, by a thread or for a large file a process of its own
    (:mod:`ivr.store.import_stream`); memory holds a few chunks, whatever
    the file's length.
    """
    codec, header = await asyncio.to_thread(open_debtor_table, path, encoding)
    async with sessions() as s, s.begin():
        if campaign_id is None:
            camp = await ensure_campaign(s, campaign, default_locale)
        else:
            found = await s.get(Campaign, campaign_id)
            if found is None:
                raise ImportRefused(f"no campaign {campaign_id}")
            camp = found
        campaign_id, locale = camp.id, str(camp.locale)
        backend = (await s.connection()).dialect.name
    if locale not in LOCALES:
        locale = default_locale
    report = DebtorImportReport()
    if backend == "postgresql":
        payment = tuple(c for c in PAYMENT_COLUMNS if c in header)
        src = Source(path, codec, locale, CHUNK_ROWS, copy_text)
        await _into_postgres(sessions, src, campaign_id, payment, report)
    else:
        src = Source(path, codec, locale, import_batch.SQLITE_ROWS[2], list)
        await _into_sqlite(sessions, src, campaign_id, report)
    report.errors.sort(key=lambda e: e.line)
    metrics.import_rows(report.inserted, report.updated, len(report.errors))
    return report


async def _into_postgres(
    sessions: async_sessionmaker[AsyncSession],
    src: Source,
    campaign_id: int,
    payment: tuple[str, ...],
    report: DebtorImportReport,
) -> None:
    """Every chunk through COPY and a merge, on one connection held throughout."""
    engine = sessions.kw["bind"]
    async with engine.connect() as conn:
        writer = CopyWriter(conn, campaign_id, payment)
        await writer.open()
        try:
            async with contextlib.aclosing(chunks(src)) as checked:
                async for chunk in checked:
                    report.errors += chunk.errors
                    debtors, phones = chunk.rows
                    result, refused = await writer.write(debtors, phones)
                    report.errors += refused
                    _count(report, result)
        except BaseException:
            with contextlib.suppress(Exception):  # the first error is the one to report
                await conn.rollback()
                await writer.close()  # the connection goes back to the pool without them
            raise
        await writer.close()  # waits for the disk: every chunk is durable after it


async def _into_sqlite(
    sessions: async_sessionmaker[AsyncSession],
    src: Source,
    campaign_id: int,
    report: DebtorImportReport,
) -> None:
    """Every chunk in paced batches; the file's references are remembered here
    (an SQLite store holds a small portfolio)."""
    sequencer = Sequencer(remember=True)
    pacer = Pacer("sqlite")
    async with contextlib.aclosing(chunks(src)) as checked:
        async for chunk in checked:
            report.errors += chunk.errors
            refused = sequencer.sift(map(candidate, chunk.rows))
            report.errors += refused
            gone = {e.line for e in refused}
            rows: list[DebtorRow] = [r for r in chunk.rows if r.line not in gone]
            while rows:
                batch, rows = rows[: pacer.size], rows[pacer.size :]
                await pacer.wait_turn()
                started = time.perf_counter()
                result = await store_rows(sessions, batch, campaign_id)
                pacer.done(len(batch), time.perf_counter() - started)
                _count(report, result)


def _count(report: DebtorImportReport, result: BatchResult) -> None:
    report.inserted += result.inserted
    report.updated += result.updated
    report.errors.extend(
        RowError(line, f"not stored: {why}", ref, RowErrorCode.NOT_STORED, {"detail": why})
        for line, ref, why in result.failed
    )
