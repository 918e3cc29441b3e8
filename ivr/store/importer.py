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
import datetime as dt
import functools
import itertools
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import phonenumbers
from phonenumbers import PhoneNumberType
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr import metrics
from ivr.calling_hours import default_hours
from ivr.dialog.creditor_names import check_spoken_form
from ivr.document_digits import DocumentInvalid, hash_document
from ivr.store.amounts import AmountInvalid, parse_amount
from ivr.store.channel_columns import CHANNEL_COLUMNS, ChannelInvalid, channel_choices
from ivr.store.csvfile import CsvRefused, Record, Table, read_table
from ivr.store.import_batch import Pacer, store_rows
from ivr.store.import_copy import CHUNK_ROWS, copy_rows
from ivr.store.import_report import ImportReport, RowError
from ivr.store.models import CallWindow, Campaign
from ivr.store.payment_columns import PAYMENT_COLUMNS, PaymentDetailInvalid, payment_columns
from ivr.vocab.locales import DEFAULT_LOCALE, LOCALES, Locale

REQUIRED = ("external_ref", "name", "phone", "amount", "due_date", "creditor")
_OWN_OPTIONAL = ("locale", "region", "timezone", "birth_year", "document", "creditor_spoken")
OPTIONAL: tuple[str, ...] = (*_OWN_OPTIONAL, *PAYMENT_COLUMNS, *CHANNEL_COLUMNS)
# A row's country and currency unless it says otherwise, by its locale.
LOCALE_HOME: dict[str, tuple[str, str]] = {Locale.PT_BR: ("BR", "BRL"), Locale.EN_US: ("US", "USD")}

# Lines a person answers. Premium-rate, toll-free, shared-cost, VoIP, pager,
# voicemail and the like are refused: they cost the debtor or reach no one.
PERSONAL_TYPES = frozenset(
    {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
)
_TYPE_NAMES = {
    PhoneNumberType.PREMIUM_RATE: "premium-rate",
    PhoneNumberType.TOLL_FREE: "toll-free",
    PhoneNumberType.SHARED_COST: "shared-cost",
    PhoneNumberType.VOIP: "VoIP",
    PhoneNumberType.PERSONAL_NUMBER: "personal-number service",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "company (UAN)",
    PhoneNumberType.VOICEMAIL: "voicemail",
}
FORMULA_START = ("=", "+", "-", "@")
# C0/C1 controls, zero-width and bidirectional marks, line/paragraph separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
TEXT_LIMITS = {"external_ref": 64, "name": 200, "creditor": 200, "creditor_spoken": 200}

ImportRefused = CsvRefused  # the whole file is refused; nothing was imported


@dataclass
class DebtorImportReport(ImportReport):
    """Debtors inserted and updated, and every rejected line."""

    inserted: int = 0
    updated: int = 0

    @property
    def ok(self) -> int:
        return self.inserted + self.updated


@dataclass(frozen=True)
class DebtorRow:
    line: int
    external_ref: str
    name: str
    phones: tuple[str, ...]
    amount_cents: int
    currency: str
    due_date: dt.date
    creditor: str
    locale: str
    country: str
    region: str | None
    timezone: str | None
    birth_year: int | None
    creditor_spoken: str | None = None  # in the row's locale (ivr.dialog.creditor_names)
    # A salted hash of the document number's last digits; never the number.
    document_digits: str | None = None
    # The payment columns the file has (ivr.store.payment_columns), checked;
    # None clears a detail, a column the file lacks is left as it was.
    payment: dict[str, str | None] = field(default_factory=dict)
    # The channel columns the row gives (ivr.store.channel_columns).
    channels: tuple[tuple[str, object], ...] = ()


class RowInvalid(ValueError):
    pass


def parse_date(raw: str, country: str) -> dt.date:
    """ISO ``YYYY-MM-DD`` always; ``DD/MM/YYYY`` in Brazil, ``MM/DD/YYYY`` in the US."""
    text = raw.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return dt.date.fromisoformat(text)
        m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
        if m:
            a, b, year = int(m[1]), int(m[2]), int(m[3])
            day, month = (a, b) if country == "BR" else (b, a)
            return dt.date(year, month, day)
    except ValueError as exc:
        raise RowInvalid(f"due_date {raw!r} is not a real date ({exc})") from None
    fmt = "YYYY-MM-DD or DD/MM/YYYY" if country == "BR" else "YYYY-MM-DD or MM/DD/YYYY"
    raise RowInvalid(f"due_date {raw!r} is not a date ({fmt})")


def parse_phones(raw: str, country: str) -> tuple[str, ...]:
    """One or more personal numbers of ``country``, separated by ';' or '|', in E.164.

    The order is kept: the first number is the one called first.
    """
    parts = [p.strip() for p in re.split(r"[;|]", raw) if p.strip()]
    if not parts:
        raise RowInvalid("phone is empty")
    out: list[str] = []
    for part in parts:
        try:
            num = phonenumbers.parse(part, country)
        except phonenumbers.NumberParseException as exc:
            raise RowInvalid(f"phone {part!r} is not a phone number ({exc})") from None
        where = phonenumbers.region_code_for_number(num)
        kind = phonenumbers.number_type(num)  # UNKNOWN: not a valid number anywhere
        if where is None or kind == PhoneNumberType.UNKNOWN:
            raise RowInvalid(f"phone {part!r} is not a valid number")
        if where != country:
            raise RowInvalid(
                f"phone {part!r} is a number of {where or 'no country'}, "
                f"outside the campaign's countries for this debtor ({country})"
            )
        if kind not in PERSONAL_TYPES:
            what = _TYPE_NAMES.get(kind, "unknown-type")
            raise RowInvalid(f"phone {part!r} is a {what} number, not a personal line")
        e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
        if e164 not in out:
            out.append(e164)
    return tuple(out)


def plain_text(column: str, value: str) -> str:
    """Free text as people write it: no control characters, no spreadsheet formula.

    A name like ``=HYPERLINK(...)`` is an attack on whoever opens an export,
    not a person: the row is refused rather than stored as is.
    """
    if not value:
        raise RowInvalid(f"{column} is empty")
    if len(value) > TEXT_LIMITS[column]:
        raise RowInvalid(f"{column} is longer than {TEXT_LIMITS[column]} characters")
    if value.startswith(FORMULA_START):
        raise RowInvalid(f"{column} begins with {value[0]!r}: looks like a spreadsheet formula")
    if _CONTROL.search(value):
        raise RowInvalid(f"{column} contains control characters")
    return value


@functools.cache
def _subdivisions(country: str) -> frozenset[str]:
    """The country's states (building a holiday table per row cost 0.4 ms)."""
    return frozenset(holidays.country_holidays(country).subdivisions)


@functools.lru_cache(maxsize=1024)
def _zone_exists(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def validate_row(line: int, row: dict[str, str], default_locale: str) -> DebtorRow:
    def get(name: str) -> str:
        return (row.get(name) or "").strip()

    ref = plain_text("external_ref", get("external_ref"))
    name = plain_text("name", get("name"))
    locale = get("locale") or default_locale
    if locale not in LOCALES:
        raise RowInvalid(f"locale {locale!r} is not supported ({' or '.join(LOCALES)})")
    country, currency = LOCALE_HOME[locale]
    region = get("region").upper() or None
    if region is not None and region not in _subdivisions(country):
        raise RowInvalid(f"region {region!r} is not a state of {country}")
    zone = get("timezone") or None
    if zone is not None and not _zone_exists(zone):
        raise RowInvalid(f"timezone {zone!r} is not an IANA time zone")
    birth_raw = get("birth_year")
    birth_year = None
    if birth_raw:
        if not birth_raw.isdigit() or not 1900 <= int(birth_raw) <= dt.date.today().year:
            raise RowInvalid(f"birth_year {birth_raw!r} is not a year")
        birth_year = int(birth_raw)
    document_raw = get("document")
    try:
        document_digits = hash_document(document_raw) if document_raw else None
    except DocumentInvalid as exc:
        raise RowInvalid(str(exc)) from None
    creditor = plain_text("creditor", get("creditor"))
    spoken = None
    if get("creditor_spoken"):
        raw = plain_text("creditor_spoken", get("creditor_spoken"))
        try:
            spoken = check_spoken_form(raw, locale)
        except ValueError as exc:
            raise RowInvalid(f"creditor_spoken {raw!r} {exc}") from None
    try:
        payment = payment_columns(row)
    except PaymentDetailInvalid as exc:
        raise RowInvalid(str(exc)) from None
    return DebtorRow(
        line=line,
        external_ref=ref,
        name=name,
        phones=parse_phones(get("phone"), country),
        amount_cents=parse_amount(get("amount")),
        currency=currency,
        due_date=parse_date(get("due_date"), country),
        creditor=creditor,
        locale=locale,
        country=country,
        region=region,
        timezone=zone,
        birth_year=birth_year,
        creditor_spoken=spoken,
        document_digits=document_digits,
        payment=payment,
        channels=channel_choices(row),
    )


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
            errors.append(RowError(rec.line, rec.error, ref))
            continue
        if not any(v.strip() for v in rec.values.values()):
            continue
        try:
            row = validate_row(rec.line, rec.values, default_locale)
        except (RowInvalid, AmountInvalid, ChannelInvalid) as exc:
            errors.append(RowError(rec.line, str(exc), ref))
            continue
        if row.external_ref in seen:
            why = f"external_ref repeats line {seen[row.external_ref]}; first kept"
            errors.append(RowError(rec.line, why, row.external_ref))
            continue
        if row.creditor_spoken is not None:
            key = (row.creditor, row.locale)
            said, line = spoken.setdefault(key, (row.creditor_spoken, rec.line))
            if said != row.creditor_spoken:
                why = f"creditor_spoken differs from line {line} ({said!r}) for {row.creditor!r}"
                errors.append(RowError(rec.line, why, row.external_ref))
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
                RowError(row.line, f"not stored: {why}", row.external_ref)
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
