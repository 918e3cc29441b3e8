"""Do-not-call lists: numbers read from a registry's export, added and removed
one by one, and "when and why is this number blocked".

A list file is what the registries hand out: São Paulo's "Não Me Ligue"
export is one number a line in national format (``(11) 98765-4321`` or
``11987654321``); others are CSV files with a header naming the number's
column (``telefone``, ``numero``, ``phone``...). Each line is read on its
own: a bad one is reported with its line number and reason, the good ones
land. Importing the same file twice changes nothing (a number is once per
list: the unique key does the work, whichever replica imports).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import phonenumbers
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.csvfile import DELIMITERS
from ivr.store.import_report import ImportReport, RowError
from ivr.store.models import Debtor, DncNumber, NumberOptOut, Phone, SmsNumberOptOut, utcnow

NUMBER_COLUMNS = ("e164", "telefone", "numero", "número", "phone", "number", "celular", "fone")
_LINE_BREAK = re.compile(r"\r\n|\n|\r")
_BATCH = 1000
MAX_LINE_CHARS = 200


class NumberInvalid(ValueError):
    """Not a phone number we could ever dial; the message says why."""


def normalise_number(raw: str, country: str = "BR") -> str:
    """A number in any usual format as E.164 (``(11) 98765-4321`` -> ``+5511987654321``).

    National numbers are read in ``country``; ``55 11 9...`` without the ``+``
    is read as international when the national reading is not a valid number.
    """
    text = raw.strip()
    if not text:
        raise NumberInvalid("the number is empty")
    if len(text) > 40:
        raise NumberInvalid("the number is longer than 40 characters")
    candidates = [text]
    digits = re.sub(r"\D", "", text)
    if not text.startswith("+") and digits:
        candidates.append("+" + digits)
    for candidate in candidates:
        try:
            parsed = phonenumbers.parse(candidate, country)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    raise NumberInvalid(f"{text!r} is not a valid phone number")


@dataclass(frozen=True)
class ListedLine:
    line: int
    e164: str


@dataclass
class DncImportReport(ImportReport):
    """How many numbers were read, how many were new on the list, the bad lines."""

    read: int = 0
    added: int = 0
    already: int = 0
    numbers: list[ListedLine] = field(default_factory=list)


def read_list(text: str, country: str = "BR") -> DncImportReport:
    """The numbers of a list file, line by line (the header, if any, is line 1)."""
    report = DncImportReport()
    lines = _LINE_BREAK.split(text)
    column: int | None = None
    delimiter = ","
    start = 0
    first = lines[0].strip() if lines else ""
    if first and not re.search(r"\d", first):  # a header: find the number's column
        delimiter = max(DELIMITERS, key=first.count)
        names = [n.strip().lower() for n in _fields(first, delimiter)]
        found = [i for i, n in enumerate(names) if n in NUMBER_COLUMNS]
        column = found[0] if found else 0
        start = 1
    seen: set[str] = set()
    for index in range(start, len(lines)):
        raw = lines[index]
        number = index + 1
        if not raw.strip():
            continue
        if len(raw) > MAX_LINE_CHARS:
            report.errors.append(RowError(number, f"longer than {MAX_LINE_CHARS} characters"))
            continue
        value = raw
        if column is not None:
            try:
                cells = _fields(raw, delimiter)
            except csv.Error as exc:
                report.errors.append(RowError(number, f"cannot be read as CSV ({exc})"))
                continue
            if column >= len(cells):
                report.errors.append(RowError(number, "the number's column is missing"))
                continue
            value = cells[column]
        try:
            e164 = normalise_number(value, country)
        except NumberInvalid as exc:
            report.errors.append(RowError(number, str(exc)))
            continue
        report.read += 1
        if e164 not in seen:
            seen.add(e164)
            report.numbers.append(ListedLine(number, e164))
    return report


def _fields(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter, strict=True), [])


async def add_numbers(
    session: AsyncSession,
    list_name: str,
    numbers: Sequence[str],
    *,
    source: str,
    reason: str | None,
    added_by: str,
) -> int:
    """Put ``numbers`` on ``list_name``; how many were not on it already.

    ``INSERT ... ON CONFLICT DO NOTHING`` in batches: idempotent, and safe
    against another import of the same list at the same time.
    """
    dialect = session.get_bind().dialect.name
    ins = pg_insert if dialect == "postgresql" else sqlite_insert
    now = utcnow()
    added = 0
    for i in range(0, len(numbers), _BATCH):
        chunk = numbers[i : i + _BATCH]
        stmt = ins(DncNumber).on_conflict_do_nothing(index_elements=["list_name", "e164"])
        result = await session.execute(
            stmt,
            [
                {
                    "list_name": list_name,
                    "e164": e164,
                    "source": source,
                    "reason": reason,
                    "added_by": added_by,
                    "added_at": now,
                }
                for e164 in chunk
            ],
        )
        added += max(int(getattr(result, "rowcount", 0) or 0), 0)
    return added


async def import_list(
    session: AsyncSession,
    list_name: str,
    text: str,
    *,
    source: str,
    reason: str | None,
    added_by: str,
    country: str = "BR",
) -> DncImportReport:
    """Read a list file and land its good numbers; the report names the bad lines."""
    report = read_list(text, country)
    numbers = [n.e164 for n in report.numbers]
    before = await _count(session, list_name, numbers)
    await add_numbers(session, list_name, numbers, source=source, reason=reason, added_by=added_by)
    report.added = len(numbers) - before
    report.already = before
    return report


async def _count(session: AsyncSession, list_name: str, numbers: Sequence[str]) -> int:
    """How many of ``numbers`` are on the list already (rowcount of an executemany
    is not reliable on every driver, so the report counts before it writes)."""
    total = 0
    for i in range(0, len(numbers), _BATCH):
        total += int(
            await session.scalar(
                select(func.count())
                .select_from(DncNumber)
                .where(
                    DncNumber.list_name == list_name, DncNumber.e164.in_(numbers[i : i + _BATCH])
                )
            )
            or 0
        )
    return total


async def remove_number(session: AsyncSession, list_name: str, e164: str) -> bool:
    """Take ``e164`` off ``list_name``; False when it was not on it."""
    result = await session.execute(
        delete(DncNumber).where(DncNumber.list_name == list_name, DncNumber.e164 == e164)
    )
    return bool(getattr(result, "rowcount", 0))


async def dnc_listed(session: AsyncSession, e164: str) -> bool:
    """Whether the number is on any do-not-call list (the dialer's last check)."""
    found = await session.scalar(select(DncNumber.id).where(DncNumber.e164 == e164).limit(1))
    return found is not None


async def entries_for(session: AsyncSession, numbers: Collection[str]) -> list[DncNumber]:
    """Every list entry for these numbers, oldest first."""
    if not numbers:
        return []
    rows = await session.scalars(
        select(DncNumber)
        .where(DncNumber.e164.in_(list(numbers)))
        .order_by(DncNumber.added_at, DncNumber.id)
    )
    return list(rows.all())


@dataclass(frozen=True)
class Block:
    """One reason a number is not called or written to: what, since when, by whom."""

    kind: str  # dnc_list | number_opt_out | sms_number_opt_out | wrong_number
    since: object
    list_name: str | None = None
    source: str | None = None
    reason: str | None = None
    by: str | None = None
    debtor_ref: str | None = None


async def blocks_of(session: AsyncSession, e164: str) -> list[Block]:
    """Everything that keeps the service from this number, oldest first."""
    out = [
        Block("dnc_list", e.added_at, e.list_name, e.source, e.reason, e.added_by)
        for e in await entries_for(session, [e164])
    ]
    opted = await session.scalar(select(NumberOptOut).where(NumberOptOut.e164 == e164))
    if opted is not None:
        out.append(Block("number_opt_out", opted.created_at, source=opted.source))
    stopped = await session.scalar(select(SmsNumberOptOut).where(SmsNumberOptOut.e164 == e164))
    if stopped is not None:
        out.append(Block("sms_number_opt_out", stopped.created_at, source="sms"))
    wrong = await session.execute(
        select(Phone.wrong_number_at, Debtor.external_ref)
        .join(Debtor, Debtor.id == Phone.debtor_id)
        .where(Phone.e164 == e164, Phone.wrong_number_at.is_not(None))
    )
    out.extend(Block("wrong_number", at, debtor_ref=ref) for at, ref in wrong.all())
    return sorted(out, key=lambda b: str(b.since))


@dataclass(frozen=True)
class ListSummary:
    name: str
    numbers: int
    last_added_at: object


async def list_summaries(session: AsyncSession) -> list[ListSummary]:
    rows = await session.execute(
        select(DncNumber.list_name, func.count(), func.max(DncNumber.added_at))
        .group_by(DncNumber.list_name)
        .order_by(DncNumber.list_name)
    )
    return [ListSummary(name, int(n), last) for name, n, last in rows.all()]


async def list_page(
    session: AsyncSession, list_name: str, *, offset: int, limit: int
) -> tuple[int, list[DncNumber]]:
    """One page of a list, newest entries first, and the list's size."""
    total = await session.scalar(
        select(func.count()).select_from(DncNumber).where(DncNumber.list_name == list_name)
    )
    rows = await session.scalars(
        select(DncNumber)
        .where(DncNumber.list_name == list_name)
        .order_by(DncNumber.added_at.desc(), DncNumber.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return int(total or 0), list(rows.all())


async def debtor_ids_at(session: AsyncSession, numbers: Collection[str]) -> list[int]:
    """The people who list any of these numbers (to wake after a removal)."""
    if not numbers:
        return []
    rows = await session.scalars(
        select(Phone.debtor_id).where(Phone.e164.in_(list(numbers))).distinct()
    )
    return list(rows.all())
