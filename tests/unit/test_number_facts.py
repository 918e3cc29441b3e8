"""Each phone's country and time zones, stored on its row, read exactly as a fresh parse.

The planner reads ``phones.number_country`` and ``phones.number_zones``
(``ivr.number_facts``) instead of parsing every number on every tick; the
rule book's decisions must not change by a single reason for it, whether a
row's facts were written with it, filled by migration ``0028_planner``, or
never stored (NULL: parsed when read).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from pathlib import Path

import phonenumbers
import sqlalchemy as sa
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from phonenumbers import timezone as pn_tz
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.number_facts import (
    ZONES_MAX,
    country_of,
    e164_of,
    facts_of,
    number_kind,
    parse_number,
    stored_facts,
    valid_zone,
)
from ivr.store.migrate import upgrade
from ivr.store.models import Debtor, Phone
from scheduler.caps import CapPolicy, PastAttempt
from scheduler.eligibility import evaluate
from scheduler.snapshot import CampaignRules, DebtorSnapshot, DebtRow, PhoneRow
from scheduler.zones import COUNTRY_ZONES, debtor_zones
from tests.support.claims import make_debtor

NUMBERS = [
    "+5511987654321",  # São Paulo
    "+5592987654321",  # Manaus
    "+5568987654321",  # Rio Branco
    "+5581987654321",  # Recife
    "+12085550123",  # Idaho: an area code across two zones
    "+12125550123",  # New York
    "+14165550123",  # Toronto: +1, but not the US
    "+447911123456",  # a UK mobile
    "+5511",  # malformed: no country, no zone
    "+999123456789",  # no such country code
]
CAMPAIGNS = {
    1: CampaignRules(
        id=1,
        active=True,
        policy=CapPolicy(min_gap=dt.timedelta(hours=4)),
        country="BR",
        windows=(),
        blocked=frozenset(),
        max_concurrent=5,
    ),
    2: CampaignRules(
        id=2,
        active=True,
        policy=CapPolicy(),
        country="US",
        windows=(),
        blocked=frozenset({dt.date(2026, 11, 26)}),
        max_concurrent=5,
    ),
}


def _parsed_zones(e164: str) -> tuple[str, ...]:
    """The zones straight from phonenumbers (the reference, not our code)."""
    try:
        found = pn_tz.time_zones_for_number(phonenumbers.parse(e164))
    except phonenumbers.NumberParseException:
        return ()
    return tuple(sorted(z for z in found if "/" in z and not z.startswith("Etc/")))


def test_stored_facts_are_what_a_parse_says() -> None:
    assert stored_facts("+5592987654321") == ("BR", "America/Manaus")
    assert stored_facts("+12085550123") == ("US", "America/Boise America/Los_Angeles")
    assert stored_facts("+14165550123")[0] == "CA"
    assert stored_facts("+5511") == ("BR", "")  # too short for a zone
    assert stored_facts("+999123456789") == ("", "")
    for n in NUMBERS:
        assert tuple(stored_facts(n)[1].split()) == _parsed_zones(n), n


def _parse_or_error(text: str, region: str | None) -> object:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        return ("error", exc.error_type, str(exc))


def _fast_or_error(text: str, region: str | None) -> object:
    try:
        return parse_number(text, region)
    except phonenumbers.NumberParseException as exc:
        return ("error", exc.error_type, str(exc))


def _random_inputs(rng: random.Random, n: int) -> list[str]:
    """E.164-looking text of every length, real prefixes, and text that is not E.164."""
    codes = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    out = []
    for _ in range(n):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 18)))
        pick = rng.random()
        if pick < 0.4:
            out.append("+" + digits)
        elif pick < 0.8:  # a real country code, then digits: mostly valid lengths
            out.append(f"+{rng.choice(codes)}{digits[: rng.randint(4, 12)]}")
        else:
            out.append(rng.choice(["", "0", "00", " +", "+٣", "(11) ", "+1 "]) + digits)
    return out


def test_the_short_cut_parse_is_phonenumbers_parse() -> None:
    """Same number, or the same exception, for any text and default region."""
    rng = random.Random(7)
    for text in [*NUMBERS, *_random_inputs(rng, 20_000)]:
        for region in (None, "BR", "US", "IT"):
            assert _fast_or_error(text, region) == _parse_or_error(text, region), (text, region)


def test_facts_of_a_typed_number_are_the_stored_facts() -> None:
    """The importer's facts (one parse, one type) equal a fresh parse's, for valid
    numbers of every country and the odd ones."""
    rng = random.Random(11)
    examples = [
        phonenumbers.example_number_for_type(region, kind)
        for region in phonenumbers.SUPPORTED_REGIONS
        for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.VOIP)
    ]
    texts = [
        *NUMBERS,
        *(phonenumbers.format_number(e, PhoneNumberFormat.E164) for e in examples if e),
        *_random_inputs(rng, 5_000),
    ]
    seen_kinds = set()
    for text in texts:
        try:
            parsed = phonenumbers.parse(text)
        except phonenumbers.NumberParseException:
            continue
        assert e164_of(parsed) == phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
        region, kind = number_kind(parsed)
        assert (region, kind) == (
            phonenumbers.region_code_for_number(parsed),
            phonenumbers.number_type(parsed),
        ), text
        seen_kinds.add(kind)
        zones = " ".join(sorted(z for z in pn_tz.time_zones_for_number(parsed) if valid_zone(z)))
        old = (country_of(parsed) or "", zones if len(zones) <= ZONES_MAX else None)
        assert facts_of(parsed, region, kind) == old, text
    assert {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.UNKNOWN} <= (
        seen_kinds
    )


def _snapshot(rng: random.Random, i: int, stored: bool) -> DebtorSnapshot:
    picks = rng.sample(NUMBERS, rng.randint(1, 3))
    phones = []
    for pos, n in enumerate(picks):
        country, zones = stored_facts(n) if stored else (None, None)
        wrong = dt.datetime(2026, 11, 1, tzinfo=dt.UTC) if rng.random() < 0.15 else None
        phones.append(
            PhoneRow(i * 10 + pos, n, pos, wrong, number_country=country, number_zones=zones)
        )
    s = DebtorSnapshot(
        i,
        rng.choice(["BR", "US"]),
        rng.choice(["SP", "AM", None]),
        rng.choice([None, None, "America/Sao_Paulo", "Not/AZone"]),
        None,
        None,
    )
    s.phones = phones
    s.debts = [DebtRow(i, "open", rng.choice([1, 2]), dt.date(2026, 1, 10), None)]
    if rng.random() < 0.5:
        at = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
        s.attempts = [PastAttempt(at, "completed", "no_contact", at, phones[0].id)]
    return s


def test_stored_and_parsed_facts_give_the_same_verdicts() -> None:
    """Random people, numbers and instants: every verdict, reason, zone, window
    and wake time is the same with the facts read from the row or parsed."""
    rng = random.Random(28)
    instants = [
        dt.datetime(2026, 11, 24, h, m, tzinfo=dt.UTC) for h in (3, 11, 14, 20, 23) for m in (0, 7)
    ]
    for i in range(400):
        seed = rng.random()
        stored = _snapshot(random.Random(seed), i, stored=True)
        parsed = _snapshot(random.Random(seed), i, stored=False)
        now = rng.choice(instants)
        a, b = evaluate(stored, CAMPAIGNS, now), evaluate(parsed, CAMPAIGNS, now)
        assert a == b, (i, stored.phones)
        assert stored.countries() == parsed.countries()
    # The comparison saw the cases that matter: several zones, several countries.
    many = _snapshot(random.Random(1), 1, stored=True)
    many.timezone, many.phones = None, [_row(1, "+12085550123"), _row(2, "+5511987654321")]
    assert many.zones() == ("America/Boise", "America/Los_Angeles", "America/Sao_Paulo")
    assert many.countries() == (many.country, *[c for c in ("US", "BR") if c != many.country])


def _row(pid: int, e164: str) -> PhoneRow:
    country, zones = stored_facts(e164)
    return PhoneRow(pid, e164, pid, None, number_country=country, number_zones=zones)


def test_unknown_numbers_fall_back_to_the_country_zones() -> None:
    row = PhoneRow(1, "+999123456789", 0, None, number_country="", number_zones="")
    assert debtor_zones(None, [row], "BR") == COUNTRY_ZONES["BR"]
    unstored = dataclasses.replace(row, number_country=None, number_zones=None)
    assert debtor_zones(None, [unstored], "BR") == COUNTRY_ZONES["BR"]


async def test_every_insert_path_stores_the_facts(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """An ORM row, a Core executemany (the importer's path) and a changed number."""
    async with sessions() as s, s.begin():
        d = await make_debtor(s, None, phones=["+5592987654321", "+12085550123"])
        await s.execute(
            insert(Phone.__table__),  # type: ignore[arg-type]
            [
                {"debtor_id": d.id, "e164": "+5568987654321", "position": 2},
                {"debtor_id": d.id, "e164": "+14165550123", "position": 3},
            ],
        )
    async with sessions() as s, s.begin():
        rows = (await s.execute(select(Phone.e164, Phone.number_country, Phone.number_zones))).all()
        assert len(rows) == 4
        for e164, country, zones in rows:
            assert (country, zones) == stored_facts(e164), e164
        phone = await s.scalar(select(Phone).where(Phone.e164 == "+5592987654321"))
        assert phone is not None
        phone.e164 = "+5581987654321"
    async with sessions() as s:
        phone = await s.scalar(select(Phone).where(Phone.e164 == "+5581987654321"))
        assert phone is not None
        facts = (phone.number_country, phone.number_zones)
        assert facts == stored_facts("+5581987654321") != stored_facts("+5592987654321")
        assert await s.scalar(select(sa.func.count()).select_from(Debtor)) == 1


def test_the_migration_fills_the_rows_written_before(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    upgrade(f"sqlite+aiosqlite:///{path}", "0027_campaign_ui")
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO debtors (id, external_ref, name, locale, country, status, "
                "calls_allowed, created_at, updated_at) VALUES (1, 'R1', 'Ana', 'pt-BR', 'BR', "
                "'active', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
        for i, n in enumerate(NUMBERS):
            conn.execute(
                sa.text("INSERT INTO phones (debtor_id, e164, position) VALUES (1, :n, :p)"),
                {"n": n, "p": i},
            )
    engine.dispose()
    upgrade(f"sqlite+aiosqlite:///{path}")
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT e164, number_country, number_zones FROM phones")).all()
    engine.dispose()
    assert len(rows) == len(NUMBERS)
    for e164, country, zones in rows:
        assert (country, zones) == stored_facts(e164), e164
