"""Caps hold across dialer PROCESSES sharing one PostgreSQL database.

Several OS processes run the real claim loop against one database as fast as
they can, on a shared simulated clock (wall time scaled up, so the run spans
days and crosses the US DST change of 2026-11-01). Each claims, then marks
the previous batch completed, so attempts overlap between processes. After
the run, violations are counted over ``call_attempts`` with SQL and with an
independent window oracle. The only acceptable count is zero.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import phonenumbers
import pytest
from phonenumbers import timezone as pn_tz
from sqlalchemy import text, update

from ivr.store.db import make_engine, make_sessionmaker
from ivr.store.models import AttemptStatus, CallAttempt, CallWindow
from tests.support.claims import make_campaign, make_debtor

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 5
DAILY, WEEKLY, GAP_MIN = 2, 3, 1
OPEN, CLOSE = dt.time(8), dt.time(20)
SIM_BASE = dt.datetime(2026, 10, 30, 0, 0, tzinfo=dt.UTC)  # Fri; DST ends Sun Nov 1 in the US
SPEED = 4 * 3600.0  # simulated seconds per real second: 4 h each second
RUN_SECONDS = 25.0
OUTCOMES = ["no_contact"] * 6 + ["voicemail", "right_party", "refused"]

BR_ZONES = ["America/Sao_Paulo", "America/Manaus", "America/Noronha", "America/Rio_Branco"]
US_ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
]
# Numbers whose area code spans zones, for debtors with no zone on record.
US_MULTI = ["+12085550{:03d}", "+16055550{:03d}"]
BR_NUMBERS = ["+55119{:08d}", "+55929{:08d}", "+55689{:08d}", "+55819{:08d}"]


# --- the worker process -------------------------------------------------------


async def _worker(cfg: dict) -> dict:
    engine = make_engine(cfg["url"], pool_size=2, max_overflow=0)
    sessions = make_sessionmaker(engine)
    t0, base = cfg["t0"], dt.datetime.fromisoformat(cfg["base"])

    def clock() -> dt.datetime:
        return base + dt.timedelta(seconds=(time.time() - t0) * cfg["speed"])

    # Imported here so the parent's import of this module stays light.
    from scheduler.claim import claim_batch

    rng = random.Random(cfg["seed"])
    claimed = 0
    errors: list[str] = []
    pending: list[int] = []
    await asyncio.sleep(max(0.0, t0 - time.time()))  # every process starts together

    async def finish(ids: list[int]) -> None:
        if not ids:
            return
        async with sessions() as s, s.begin():
            for aid in ids:
                await s.execute(
                    update(CallAttempt)
                    .where(CallAttempt.id == aid)
                    .values(
                        status=AttemptStatus.COMPLETED,
                        ended_at=clock(),
                        outcome=rng.choice(OUTCOMES),
                    )
                )

    while time.time() < t0 + cfg["seconds"]:
        try:
            await finish(pending)
            pending = []
            claims = await claim_batch(sessions, clock, rng.randint(5, 30), cfg["worker"])
        except Exception as exc:  # counted and reported: the test asserts none happened
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
            continue
        claimed += len(claims)
        pending = [c.attempt_id for c in claims]
    await finish(pending)
    await engine.dispose()
    return {"worker": cfg["worker"], "claimed": claimed, "errors": errors}


def worker_main(cfg_json: str) -> None:
    cfg = json.loads(cfg_json)
    result = asyncio.run(_worker(cfg))
    Path(cfg["out"]).write_text(json.dumps(result))


# --- the test -------------------------------------------------------------------


async def _seed(url: str, rng: random.Random) -> dict[int, tuple[str, str | None, tuple[str, ...]]]:
    """200 debtors in Brazil and the US; returns debtor id -> (country, region, zones)."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    people: dict[int, tuple[str, str | None, tuple[str, ...]]] = {}

    def windows() -> list[CallWindow]:
        return [CallWindow(weekday=d, start=OPEN, end=CLOSE) for d in range(7)]

    async with sessions() as s, s.begin():
        common = dict(
            daily_cap=DAILY,
            weekly_cap=WEEKLY,
            min_gap_minutes=GAP_MIN,
            quiet_days_after_rpc=0,
            max_concurrent_calls=10_000,
        )
        br = await make_campaign(s, country="BR", windows=windows(), **common)
        us = await make_campaign(s, country="US", locale="en-US", windows=windows(), **common)
        for i in range(200):
            if i % 2 == 0:
                tz = rng.choice([*BR_ZONES, None])
                numbers = [rng.choice(BR_NUMBERS).format(i), rng.choice(BR_NUMBERS).format(i + 1)]
                d = await make_debtor(s, br, phones=numbers, country="BR", region="SP", timezone=tz)
                country, region = "BR", "SP"
            else:
                tz = rng.choice([*US_ZONES, None, None])
                number = rng.choice(US_MULTI).format(i) if tz is None else f"+1312555{i:04d}"
                d = await make_debtor(
                    s, us, phones=[number], country="US", region=None, timezone=tz
                )
                country, region = "US", None
            people[d.id] = (country, region, _oracle_zones(tz, [p.e164 for p in d.phones]))
    await engine.dispose()
    return people


def _oracle_zones(tz: str | None, numbers: list[str]) -> tuple[str, ...]:
    """Independent of the scheduler: the record's zone, else every zone of every number."""
    if tz:
        return (tz,)
    zones: set[str] = set()
    for n in numbers:
        zones.update(pn_tz.time_zones_for_number(phonenumbers.parse(n)))
    assert zones and "Etc/Unknown" not in zones
    return tuple(sorted(zones))


def _window_violation(at: dt.datetime, country: str, region: str | None, zones) -> str | None:
    for z in zones:
        local = at.astimezone(ZoneInfo(z))
        if local.date() in holidays.country_holidays(country, subdiv=region, years=local.year):
            return f"holiday in {z}: {local.isoformat()}"
        if not (OPEN <= local.time() < CLOSE):
            return f"outside window in {z}: {local.isoformat()}"
        # Brazil's legal hours cap the campaign's: never Sunday, Saturday until 14:00.
        if country == "BR" and (
            local.weekday() == 6 or (local.weekday() == 5 and local.time() >= dt.time(14))
        ):
            return f"outside Brazil's legal hours in {z}: {local.isoformat()}"
    return None


async def _violations(url: str, people) -> dict[str, list]:
    engine = make_engine(url)
    out: dict[str, list] = {}
    async with engine.connect() as c:

        async def q(sql: str, **params: object) -> list:
            return list((await c.execute(text(sql), params)).all())

        out["daily_cap_sql"] = await q(
            "SELECT debtor_id, local_day, count(*) FROM call_attempts "
            "GROUP BY debtor_id, local_day HAVING count(*) > :cap",
            cap=DAILY,
        )
        out["weekly_cap_sql"] = await q(
            "SELECT a.id, count(*) FROM call_attempts a JOIN call_attempts b "
            "ON b.debtor_id = a.debtor_id AND b.claimed_at <= a.claimed_at "
            "AND b.claimed_at > a.claimed_at - interval '7 days' "
            "GROUP BY a.id HAVING count(*) > :cap",
            cap=WEEKLY,
        )
        out["overlap_sql"] = await q(
            "SELECT a.id, b.id FROM call_attempts a JOIN call_attempts b "
            "ON b.debtor_id = a.debtor_id AND b.id <> a.id "
            "AND b.claimed_at >= a.claimed_at "
            "AND b.claimed_at < coalesce(a.ended_at, 'infinity'::timestamptz)"
        )
        out["min_gap_sql"] = await q(
            "SELECT a.id, b.id FROM call_attempts a JOIN call_attempts b "
            "ON b.debtor_id = a.debtor_id AND b.id > a.id "
            "AND abs(extract(epoch FROM b.claimed_at - a.claimed_at)) < :gap",
            gap=GAP_MIN * 60,
        )
        out["not_final"] = await q(
            "SELECT id, status FROM call_attempts WHERE status <> 'completed'"
        )
        rows = await q("SELECT id, debtor_id, claimed_at FROM call_attempts ORDER BY claimed_at")
    await engine.dispose()
    # The same limits recomputed per candidate zone, and the windows, by an oracle.
    per_local_day: dict[tuple[int, str, dt.date], int] = defaultdict(int)
    out["window"] = []
    for aid, debtor_id, claimed_at in rows:
        country, region, zones = people[debtor_id]
        for z in zones:
            per_local_day[(debtor_id, z, claimed_at.astimezone(ZoneInfo(z)).date())] += 1
        why = _window_violation(claimed_at, country, region, zones)
        if why:
            out["window"].append((aid, debtor_id, why))
    out["daily_cap_every_zone"] = [k for k, n in per_local_day.items() if n > DAILY]
    out["total"] = [len(rows)]
    per_debtor: dict[int, int] = defaultdict(int)
    for _aid, debtor_id, _at in rows:
        per_debtor[debtor_id] += 1
    out["at_weekly_cap"] = [sum(1 for n in per_debtor.values() if n == WEEKLY)]
    return out


def test_caps_hold_across_processes(pg_url: str, tmp_path: Path) -> None:
    rng = random.Random(20261101)
    people = asyncio.run(_seed(pg_url, rng))
    t0 = time.time() + 4.0  # every process starts at the same instant
    procs = []
    for i in range(PROCESSES):
        cfg = {
            "url": pg_url,
            "t0": t0,
            "base": SIM_BASE.isoformat(),
            "speed": SPEED,
            "seconds": RUN_SECONDS,
            "worker": f"proc-{i}",
            "seed": i,
            "out": str(tmp_path / f"w{i}.json"),
        }
        code = (
            "import sys; from tests.integration.test_claim_multiprocess import worker_main; "
            "worker_main(sys.argv[1])"
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", code, json.dumps(cfg)],
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
        )
    for p in procs:
        assert p.wait(timeout=RUN_SECONDS + 120) == 0
    results = [json.loads((tmp_path / f"w{i}.json").read_text()) for i in range(PROCESSES)]

    v = asyncio.run(_violations(pg_url, people))
    total = v.pop("total")[0]
    at_weekly_cap = v.pop("at_weekly_cap")[0]
    counts = {k: len(rows) for k, rows in v.items()}
    print("claims per process:", [r["claimed"] for r in results], "total:", total)
    print("violations:", counts)
    assert all(n == 0 for n in counts.values()), {k: rows[:5] for k, rows in v.items() if rows}
    assert [r["errors"] for r in results] == [[]] * PROCESSES
    # Real work was done, by every process, and the caps were reached.
    assert sum(r["claimed"] for r in results) == total
    # (Brazil's legal hours leave its debtors no Sunday and half a Saturday of
    # the simulated Friday-to-Monday: fewer calls than the campaign's windows.)
    assert total >= 200
    assert at_weekly_cap >= 50  # the limits were actually reached, not merely unreached
    assert all(r["claimed"] >= 10 for r in results)
