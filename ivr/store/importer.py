"""Portfolio import: a debtor CSV into the store, row by row.

Every row is validated on its own (phone, amount, date, locale, zone); a bad
row is reported with its line number and reason while the good rows land.
A file that is not CSV, or lacks a required column, is refused whole. The
same ``external_ref`` imported again updates the debtor, never duplicates.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import phonenumbers
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr import metrics
from ivr.store.models import CallWindow, Campaign, Debt, Debtor, DebtStatus, Phone

REQUIRED = ("external_ref", "name", "phone", "amount", "due_date", "creditor")
OPTIONAL = ("locale", "region", "timezone", "birth_year")
LOCALES = {"pt-BR": ("BR", "BRL"), "en-US": ("US", "USD")}
MAX_FILE_BYTES = 200 * 1024 * 1024


class ImportRefused(Exception):
    """The whole file is refused (not CSV, required columns missing)."""


@dataclass(frozen=True)
class RowError:
    line: int
    external_ref: str
    reason: str

    def __str__(self) -> str:
        ref = f" ({self.external_ref})" if self.external_ref else ""
        return f"line {self.line}{ref}: {self.reason}"


@dataclass
class ImportReport:
    inserted: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)

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


class RowInvalid(ValueError):
    pass


def parse_amount(raw: str) -> int:
    """'1234.56', '1.234,56', 'R$ 1.234,56', '$1,234.56', '150' -> cents."""
    text = re.sub(r"(?i)r\$|us\$|\$|brl|usd|\s", "", raw)
    if not text or not re.fullmatch(r"[0-9.,]+", text):
        raise RowInvalid(f"amount {raw!r} is not a number")
    last_dot, last_comma = text.rfind("."), text.rfind(",")
    decimal_at = max(last_dot, last_comma)
    if decimal_at >= 0 and len(text) - decimal_at - 1 in (1, 2):
        whole = re.sub(r"[.,]", "", text[:decimal_at])
        number = f"{whole or '0'}.{text[decimal_at + 1 :]}"
    else:
        number = re.sub(r"[.,]", "", text)
    try:
        value = Decimal(number)
    except InvalidOperation:
        raise RowInvalid(f"amount {raw!r} is not a number") from None
    cents = int((value * 100).to_integral_value())
    if cents <= 0:
        raise RowInvalid(f"amount {raw!r} must be greater than zero")
    if cents > 10**13:
        raise RowInvalid(f"amount {raw!r} is implausibly large")
    return cents


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
    """One or more numbers separated by ';' or '|', returned in E.164."""
    parts = [p.strip() for p in re.split(r"[;|]", raw) if p.strip()]
    if not parts:
        raise RowInvalid("phone is empty")
    out: list[str] = []
    for part in parts:
        try:
            num = phonenumbers.parse(part, country)
        except phonenumbers.NumberParseException as exc:
            raise RowInvalid(f"phone {part!r} is not a phone number ({exc})") from None
        if not phonenumbers.is_valid_number(num):
            raise RowInvalid(f"phone {part!r} is not a valid number")
        e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
        if e164 not in out:
            out.append(e164)
    return tuple(out)


def validate_row(line: int, row: dict[str, str], default_locale: str) -> DebtorRow:
    def get(name: str) -> str:
        return (row.get(name) or "").strip()

    ref = get("external_ref")
    if not ref:
        raise RowInvalid("external_ref is empty")
    if len(ref) > 64:
        raise RowInvalid("external_ref is longer than 64 characters")
    name = get("name")
    if not name:
        raise RowInvalid("name is empty")
    locale = get("locale") or default_locale
    if locale not in LOCALES:
        raise RowInvalid(f"locale {locale!r} is not supported (pt-BR or en-US)")
    country, currency = LOCALES[locale]
    region = get("region").upper() or None
    if region is not None:
        subdivisions = holidays.country_holidays(country).subdivisions
        if region not in subdivisions:
            raise RowInvalid(f"region {region!r} is not a state of {country}")
    zone = get("timezone") or None
    if zone is not None:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise RowInvalid(f"timezone {zone!r} is not an IANA time zone") from None
    birth_raw = get("birth_year")
    birth_year = None
    if birth_raw:
        if not birth_raw.isdigit() or not 1900 <= int(birth_raw) <= dt.date.today().year:
            raise RowInvalid(f"birth_year {birth_raw!r} is not a year")
        birth_year = int(birth_raw)
    creditor = get("creditor")
    if not creditor:
        raise RowInvalid("creditor is empty")
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
    )


def read_rows(path: Path, default_locale: str) -> tuple[list[DebtorRow], list[RowError]]:
    """Parse and validate a file; refuses it whole if it is not a usable CSV."""
    if not path.is_file():
        raise ImportRefused(f"{path}: no such file")
    raw = path.read_bytes()
    if len(raw) > MAX_FILE_BYTES:
        raise ImportRefused(f"{path}: larger than {MAX_FILE_BYTES // 2**20} MiB")
    if b"\x00" in raw:
        raise ImportRefused(f"{path}: not a CSV file (binary content)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError:
            raise ImportRefused(f"{path}: not a text file (unknown encoding)") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if not header:
        raise ImportRefused(f"{path}: empty file, expected a header: {','.join(REQUIRED)}")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportRefused(
            f"{path}: not a debtor CSV: missing required column(s) {', '.join(missing)} "
            f"(expected {','.join(REQUIRED)} and optionally {','.join(OPTIONAL)})"
        )
    reader.fieldnames = header
    rows: list[DebtorRow] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    try:
        for record in reader:
            line = reader.line_num
            values = {k: v for k, v in record.items() if k is not None}
            if None in record:
                errors.append(RowError(line, values.get("external_ref") or "", "too many fields"))
                continue
            if not any((v or "").strip() for v in values.values()):
                continue
            try:
                row = validate_row(line, values, default_locale)
            except RowInvalid as exc:
                errors.append(RowError(line, (values.get("external_ref") or "").strip(), str(exc)))
                continue
            if row.external_ref in seen:
                errors.append(
                    RowError(
                        line,
                        row.external_ref,
                        f"external_ref repeats line {seen[row.external_ref]}; first kept",
                    )
                )
                continue
            seen[row.external_ref] = line
            rows.append(row)
    except csv.Error as exc:
        raise ImportRefused(f"{path}: not a valid CSV file: {exc}") from None
    return rows, errors


async def ensure_campaign(session: AsyncSession, name: str, locale: str) -> Campaign:
    """Find a campaign by name or create it with the country's default windows."""
    camp = await session.scalar(select(Campaign).where(Campaign.name == name))
    if camp is not None:
        return camp
    from scheduler.windows import default_windows

    country = LOCALES.get(locale, ("BR", "BRL"))[0]
    camp = Campaign(
        name=name,
        locale=locale,
        country=country,
        quiet_days_after_rpc=7 if country == "US" else 0,
    )
    for w in default_windows(country):
        camp.windows.append(CallWindow(weekday=w.weekday, start=w.start, end=w.end))
    session.add(camp)
    await session.flush()
    return camp


async def upsert_row(session: AsyncSession, row: DebtorRow, campaign_id: int) -> bool:
    """Insert or update one debtor and their debt; True when it was new."""
    debtor = await session.scalar(select(Debtor).where(Debtor.external_ref == row.external_ref))
    created = debtor is None
    if debtor is None:
        debtor = Debtor(external_ref=row.external_ref, name=row.name)
        session.add(debtor)
    debtor.name = row.name
    debtor.locale = row.locale
    debtor.country = row.country
    debtor.region = row.region
    debtor.timezone = row.timezone
    debtor.birth_year = row.birth_year
    existing = {p.e164 for p in debtor.phones} if not created else set()
    for i, e164 in enumerate(row.phones):
        if e164 not in existing:
            debtor.phones.append(Phone(e164=e164, position=len(existing) + i))
    debts = [] if created else list(debtor.debts)
    debt = next((d for d in debts if d.creditor == row.creditor), None)
    if debt is None:
        debt = Debt(creditor=row.creditor)
        debtor.debts.append(debt)
    debt.amount_cents = row.amount_cents
    debt.currency = row.currency
    debt.due_date = row.due_date
    debt.campaign_id = campaign_id
    if debt.status is None:
        debt.status = DebtStatus.OPEN
    await session.flush()
    return created


async def import_debtors(
    sessions: async_sessionmaker[AsyncSession],
    path: Path,
    *,
    campaign: str = "default",
    default_locale: str = "pt-BR",
) -> ImportReport:
    rows, errors = read_rows(path, default_locale)
    report = ImportReport(errors=errors)
    async with sessions() as s, s.begin():
        camp = await ensure_campaign(s, campaign, default_locale)
        for row in rows:
            try:
                async with s.begin_nested():
                    created = await upsert_row(s, row, camp.id)
            except Exception as exc:  # a database refusal loses this row only
                report.errors.append(RowError(row.line, row.external_ref, f"not stored: {exc}"))
                continue
            if created:
                report.inserted += 1
            else:
                report.updated += 1
    report.errors.sort(key=lambda e: e.line)
    metrics.import_rows(report.inserted, report.updated, len(report.errors))
    return report
