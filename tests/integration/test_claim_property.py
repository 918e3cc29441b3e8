"""Property: over random portfolios, windows, zones and clock moves, zero violations.

Hypothesis draws a portfolio (Brazil and US, zones on record or only from the
number, numbers whose area code spans zones), windows (or the defaults),
caps, a start next to a US DST change, and a run of clock moves (minutes to
days). The real planner (claim + dialer through a recording carrier) runs on
SQLite with that simulated clock. Then an oracle that shares no code with
the scheduler counts violations: attempts outside the window in any
candidate zone, on a holiday, over the daily cap in any zone's local day,
over the rolling 7-day cap, closer than the gap, inside the quiet days, or
claimed while another attempt of the person was live. Zero is the only pass.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import phonenumbers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phonenumbers import timezone as pn_tz
from sqlalchemy import select, update

from ivr.store.db import make_engine, make_sessionmaker
from ivr.store.models import (
    FINAL_ATTEMPT_STATUSES,
    AttemptStatus,
    CallAttempt,
    CallWindow,
)
from scheduler.claim import claim_batch
from scheduler.dialer import Dialer, TokenBucket
from tests.support.claims import RecordingCarrier, make_campaign, make_debtor

ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "America/Manaus",
    "America/Noronha",
    "America/Rio_Branco",
]
US_NUMBERS = ["+1208555{:04d}", "+1605555{:04d}", "+1312555{:04d}", "+1415555{:04d}"]
BR_NUMBERS = ["+55119{:08d}", "+55929{:08d}", "+55689{:08d}", "+55819{:08d}", "+55219{:08d}"]
ANCHORS = [
    dt.datetime(2026, 3, 7, 20, 0, tzinfo=dt.UTC),  # spring forward on the 8th
    dt.datetime(2026, 10, 31, 20, 0, tzinfo=dt.UTC),  # fall back on Nov 1
    dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC),  # Thanksgiving on the 26th
    dt.datetime(2026, 11, 19, 12, 0, tzinfo=dt.UTC),  # BR Black Awareness Day on the 20th
]
MOVES = [1, 5, 17, 45, 61, 119, 241, 600, 1440, 3 * 1440]


def _oracle_default_windows(country: str) -> dict[int, list[tuple[dt.time, dt.time]]]:
    if country == "US":
        return {d: [(dt.time(8), dt.time(21))] for d in range(7)}
    out: dict[int, list[tuple[dt.time, dt.time]]] = {
        d: [(dt.time(8), dt.time(20))] for d in range(5)
    }
    out[5] = [(dt.time(8), dt.time(14))]
    return out


def _oracle_zones(tz: str | None, numbers: list[str]) -> set[str]:
    if tz:
        return {tz}
    zones: set[str] = set()
    for n in numbers:
        zones.update(pn_tz.time_zones_for_number(phonenumbers.parse(n)))
    return zones


person = st.fixed_dictionaries(
    {
        "country": st.sampled_from(["BR", "US"]),
        "tz": st.one_of(st.none(), st.sampled_from(ZONES)),
        "numbers": st.lists(st.integers(0, 9), min_size=1, max_size=2),
        "region": st.sampled_from([None, "SP", "RJ", "CA", "NY"]),
    }
)
window = st.tuples(st.integers(0, 6), st.integers(0, 22), st.integers(0, 3), st.integers(1, 14))
scenario = st.fixed_dictionaries(
    {
        "people": st.lists(person, min_size=3, max_size=12),
        "windows": st.one_of(st.none(), st.lists(window, min_size=1, max_size=8)),
        "daily": st.integers(1, 3),
        "weekly": st.integers(1, 5),
        "gap": st.sampled_from([0, 30, 240]),
        "quiet": st.sampled_from([0, 0, 1]),
        "start": st.sampled_from(ANCHORS),
        "offset_min": st.integers(0, 24 * 60),
        "moves": st.lists(st.sampled_from(MOVES), min_size=20, max_size=45),
        "finish": st.lists(st.booleans(), min_size=45, max_size=45),
        "outcomes": st.lists(
            st.sampled_from(["no_contact", "voicemail", "right_party", "promise"]),
            min_size=45,
            max_size=45,
        ),
    }
)


async def _run(db: Path, sc: dict) -> dict[str, list]:
    engine = make_engine(f"sqlite+aiosqlite:///{db}")
    sessions = make_sessionmaker(engine)
    people: dict[int, dict] = {}
    win_spec: dict[int, list[tuple[dt.time, dt.time]]] | None = None
    if sc["windows"] is not None:
        win_spec = defaultdict(list)
        for wd, hour, quarter, length_h in sc["windows"]:
            start = dt.time(hour, quarter * 15)
            end_min = min(hour * 60 + quarter * 15 + length_h * 60, 24 * 60)
            end = dt.time(0) if end_min == 24 * 60 else dt.time(end_min // 60, end_min % 60)
            win_spec[wd].append((start, end))
    async with sessions() as s, s.begin():
        camps = {}
        for country in ("BR", "US"):
            windows = None
            if win_spec is not None:
                windows = [
                    CallWindow(weekday=wd, start=a, end=b)
                    for wd, ranges in win_spec.items()
                    for a, b in ranges
                ]
            camps[country] = await make_campaign(
                s,
                country=country,
                daily_cap=sc["daily"],
                weekly_cap=sc["weekly"],
                min_gap_minutes=sc["gap"],
                quiet_days_after_rpc=sc["quiet"],
                max_concurrent_calls=1000,
                windows=windows,
            )
        for i, p in enumerate(sc["people"]):
            pool = US_NUMBERS if p["country"] == "US" else BR_NUMBERS
            numbers = sorted({pool[k % len(pool)].format(i * 10 + k) for k in p["numbers"]})
            d = await make_debtor(
                s,
                camps[p["country"]],
                phones=numbers,
                country=p["country"],
                region=p["region"],
                timezone=p["tz"],
            )
            people[d.id] = {**p, "zones": _oracle_zones(p["tz"], numbers)}

    now = sc["start"] + dt.timedelta(minutes=sc["offset_min"])
    clock_box = [now]
    carrier = RecordingCarrier(clock=lambda: clock_box[0])

    async def no_sleep(_: float) -> None:
        return None

    dialer = Dialer(
        sessions,
        carrier,
        clock=lambda: clock_box[0],
        bucket=TokenBucket(1e9, 1e9),
        sleep=no_sleep,
    )
    live_claim_violations: list = []
    for step, minutes in enumerate(sc["moves"]):
        now += dt.timedelta(minutes=minutes)
        clock_box[0] = now
        async with sessions() as s:
            live_before = set(
                (
                    await s.scalars(
                        select(CallAttempt.debtor_id).where(
                            CallAttempt.status.not_in([x.value for x in FINAL_ATTEMPT_STATUSES])
                        )
                    )
                ).all()
            )
        claims = await claim_batch(sessions, now, 50, "prop")
        live_claim_violations += [c.attempt_id for c in claims if c.debtor_id in live_before]
        for c in claims:
            await dialer.dial(c)
        if sc["finish"][step]:
            async with sessions() as s, s.begin():
                await s.execute(
                    update(CallAttempt)
                    .where(CallAttempt.status.not_in([x.value for x in FINAL_ATTEMPT_STATUSES]))
                    .values(
                        status=AttemptStatus.COMPLETED,
                        ended_at=now,
                        outcome=sc["outcomes"][step],
                    )
                )
    async with sessions() as s:
        attempts = (await s.scalars(select(CallAttempt).order_by(CallAttempt.id))).all()
    await engine.dispose()

    out: dict[str, list] = defaultdict(list)
    out["live_claim"] = live_claim_violations
    by_debtor: dict[int, list[CallAttempt]] = defaultdict(list)
    for a in attempts:
        by_debtor[a.debtor_id].append(a)
    placed_at = {c.sid: c.created for c in carrier.calls}
    for debtor_id, items in by_debtor.items():
        p = people[debtor_id]
        country = p["country"]
        spec = win_spec if win_spec is not None else _oracle_default_windows(country)
        region = (
            p["region"] if p["region"] in holidays.list_supported_countries()[country] else None
        )
        for a in items:
            instants = [a.claimed_at]
            if a.call_sid:
                instants.append(placed_at[a.call_sid])
            for at in instants:
                for z in p["zones"]:
                    local = at.astimezone(ZoneInfo(z))
                    cal = holidays.country_holidays(country, subdiv=region, years=local.year)
                    if local.date() in cal:
                        out["holiday"].append((a.id, z, local.isoformat()))
                    t = local.time()
                    ok = any(
                        s0 <= t and (e0 == dt.time(0) or t < e0)
                        for s0, e0 in spec.get(local.weekday(), [])
                    )
                    if not ok:
                        out["window"].append((a.id, z, local.isoformat()))
        for z in p["zones"]:
            days: dict[dt.date, int] = defaultdict(int)
            for a in items:
                days[a.claimed_at.astimezone(ZoneInfo(z)).date()] += 1
            out["daily"] += [(debtor_id, z, d) for d, n in days.items() if n > sc["daily"]]
        quiet_days = max(sc["quiet"], 7 if country == "US" else 0)
        for b in items:
            window_count = sum(
                1
                for a in items
                if b.claimed_at - dt.timedelta(days=7) < a.claimed_at <= b.claimed_at
            )
            if window_count > sc["weekly"]:
                out["weekly"].append(b.id)
            for a in items:
                if a.id == b.id:
                    continue
                if abs(a.claimed_at - b.claimed_at) < dt.timedelta(minutes=sc["gap"]):
                    out["gap"].append((a.id, b.id))
                contact = a.ended_at or a.claimed_at
                if a.outcome in (
                    "right_party",
                    "promise",
                ) and contact <= b.claimed_at < contact + dt.timedelta(days=quiet_days):
                    out["quiet"].append((a.id, b.id))
    out["claims"] = [len(attempts)]
    return out


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(sc=scenario)
def test_no_violation_over_random_portfolios(
    sc: dict, sqlite_template: Path, tmp_path_factory
) -> None:
    db = tmp_path_factory.mktemp("prop") / "ivr.db"
    shutil.copy(sqlite_template, db)
    out = asyncio.run(_run(db, sc))
    out.pop("claims")
    violations = {k: v for k, v in out.items() if v}
    assert violations == {}


def test_fixed_scenario_claims_and_stays_clean(sqlite_template: Path, tmp_path: Path) -> None:
    """The oracle is fed real claims: a busy fortnight across the DST change."""
    db = tmp_path / "ivr.db"
    shutil.copy(sqlite_template, db)
    people = [
        {"country": c, "tz": tz, "numbers": [0, 1], "region": r}
        for c, tz, r in [
            ("US", None, None),
            ("US", "America/Phoenix", "CA"),
            ("US", "America/New_York", "NY"),
            ("BR", None, "SP"),
            ("BR", "America/Manaus", None),
            ("BR", "America/Noronha", "RJ"),
        ]
    ]
    sc = {
        "people": people,
        "windows": None,
        "daily": 2,
        "weekly": 7,
        "gap": 30,
        "quiet": 0,
        "start": ANCHORS[3],
        "offset_min": 0,
        "moves": [241] * 45,
        "finish": [True] * 45,
        "outcomes": ["no_contact"] * 45,
    }
    out = asyncio.run(_run(db, sc))
    claims = out.pop("claims")[0]
    assert {k: v for k, v in out.items() if v} == {}
    # A week and a half, holidays included: every person reaches a cap.
    assert claims >= 20
