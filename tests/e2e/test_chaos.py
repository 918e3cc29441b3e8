"""Chaos: four ``ivr serve`` replicas behind haproxy, two killed with SIGKILL mid-run.

The whole product runs as an operator would run it, each part its own
process: PostgreSQL, four replicas sharing ``IVR_SECRET_KEY`` and one
``IVR_PUBLIC_URL`` that is haproxy (webhooks and Media Stream WebSockets are
balanced over the replicas), and the sandbox carrier. ~200 debtors with a
daily cap of 2 and no gap are imported with ``ivr import``; the campaign is
created through the API. Mid-run two replicas are killed with SIGKILL (calls
being placed, streams and callbacks in flight die with them) and restarted.

The service's clock is set (``IVR_CLOCK_OFFSET_SECONDS``) to a weekday
morning in São Paulo, so the test runs at any real hour. Afterwards the clock
is moved to 21:00 the same day (outside every window, so nothing new is
claimed) and two replicas run the reconcile and sweep jobs: every attempt
must then be final, without waiting hours.

Counted from the database and from the carrier's own records: cap violations
per debtor and local day, attempts dialled more than once, numbers called
twice in one claim, calls no attempt owns, calls overlapping for one person,
and attempts not final. Every count must be zero.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import os
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from bench.service_process import free_port
from ivr.store.db import make_engine
from ivr.store.models import FINAL_ATTEMPT_STATUSES
from tests.e2e.chaos_support import (
    Processes,
    carrier_calls,
    find_haproxy,
    haproxy_config,
    ivr,
    service_env,
    start_replica,
    start_sandbox,
    wait_http,
    wait_replicas,
)
from tests.e2e.harness import business_hours_offset

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ZONE = ZoneInfo("America/Sao_Paulo")
DEBTORS = 200
DAILY_CAP = 2
GAP_MIN = 0
REPLICAS = 4
KILLED = ("r1", "r2")
SPEED = 20.0  # sandbox call time per wall second
RUN_LIMIT_S = 55.0
FINAL = {s.value for s in FINAL_ATTEMPT_STATUSES}
# Who answers, by debtor index modulo 10: short calls of every kind.
CALLEE_KINDS = ["busy"] * 5 + ["no-answer"] * 2 + ["hangs-up"] * 3


def portfolio(path: Path) -> dict[str, int]:
    """Write the debtor CSV; returns number -> debtor index (every third has two numbers).

    One name and amount for all: the personal prompts are synthesized once and
    shared through the prompt cache, so the CPU goes to calls, not to speech.
    """
    numbers: dict[str, int] = {}
    lines = ["external_ref,name,phone,amount,due_date,creditor,locale,region,timezone"]
    for i in range(DEBTORS):
        phones = [f"+55119{70000000 + i:08d}"]
        if i % 3 == 0:
            phones.append(f"+55119{80000000 + i:08d}")
        for p in phones:
            numbers[p] = i
        lines.append(
            f"CH-{i:04d},Maria Silva,{';'.join(phones)},150.00,2026-10-01,Loja,"
            "pt-BR,SP,America/Sao_Paulo"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return numbers


def settled(rows: list[Any]) -> set[int]:
    """Debtors with nothing left to do in this run: at the cap, or blocked by an
    attempt a killed replica left behind (claimed or unknown: only the reconcile
    and sweep jobs, with the clock moved, can settle it)."""
    per_debtor = Counter(r.debtor_id for r in rows)
    stuck = {r.debtor_id for r in rows if r.status in ("claimed", "unknown")}
    return {d for d, n in per_debtor.items() if n >= DAILY_CAP} | stuck


class Watch:
    """The test's own database connection, opened before the replicas start so a
    busy server cannot refuse it; also notes the most connections seen at once."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.peak_connections = 0

    async def rows(self) -> list[Any]:
        result = await self.conn.execute(
            text(
                "SELECT a.id, a.debtor_id, a.to_number, a.status, a.claimed_at, a.call_sid "
                "FROM call_attempts a ORDER BY a.id"
            )
        )
        rows = list(result.all())
        n = await self.conn.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        )
        self.peak_connections = max(self.peak_connections, int(n or 0))
        await self.conn.commit()  # each poll sees the latest commits
        return rows


def count_violations(
    rows: list[Any], calls: list[dict[str, Any]], owner: dict[str, int]
) -> tuple[dict[str, int], dict[str, list[Any]]]:
    """Every kind of violation, counted independently of the scheduler's own bookkeeping."""
    found: dict[str, list[Any]] = defaultdict(list)
    # Caps, from the claims: per debtor and São Paulo calendar day of the claim.
    per_day = Counter((r.debtor_id, r.claimed_at.astimezone(ZONE).date()) for r in rows)
    found["cap_claims_per_debtor_day"] = [k for k, n in per_day.items() if n > DAILY_CAP]
    # Caps, from the carrier: calls really created, per person and local day.
    by_person = Counter(
        (owner[c["to"]], dt.datetime.fromisoformat(c["created"]).astimezone(ZONE).date())
        for c in calls
    )
    found["cap_calls_per_debtor_day"] = [k for k, n in by_person.items() if n > DAILY_CAP]
    # The window (the campaign keeps Brazil's defaults; the run is on a Tuesday to
    # Thursday, 08:00-20:00): nothing may be claimed after the clock moved to 21:00.
    found["claims_outside_window"] = [
        r.id for r in rows if not dt.time(8) <= r.claimed_at.astimezone(ZONE).time() < dt.time(20)
    ]
    if GAP_MIN:
        seen: dict[int, dt.datetime] = {}
        for r in sorted(rows, key=lambda r: r.claimed_at):
            last = seen.get(r.debtor_id)
            if last is not None and r.claimed_at - last < dt.timedelta(minutes=GAP_MIN):
                found["gap"].append(r.id)
            seen[r.debtor_id] = r.claimed_at
    # One attempt, at most one carrier call: by the attempt named in the call's URL,
    # else by the sid the attempt recorded.
    by_sid = {r.call_sid: r for r in rows if r.call_sid}
    by_id = {r.id: r for r in rows}
    calls_of: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for c in calls:
        query = parse_qs(urlsplit(c["url"] or "").query)
        named = query.get("attempt", [""])[0]
        attempt = by_id.get(int(named)) if named.isdigit() else by_sid.get(c["sid"])
        if attempt is None:
            found["calls_without_attempt"].append(c["sid"])
            continue
        calls_of[attempt.id].append(c)
        if attempt.call_sid not in (None, c["sid"]):
            found["calls_not_the_attempts_sid"].append((attempt.id, c["sid"]))
        if c["to"] != attempt.to_number:
            found["calls_to_another_number"].append((attempt.id, c["to"]))
    found["attempts_dialled_twice"] = [a for a, cs in calls_of.items() if len(cs) > 1]
    found["numbers_twice_in_one_claim"] = [
        (a, n)
        for a, cs in calls_of.items()
        for n, k in Counter(c["to"] for c in cs).items()
        if k > 1
    ]
    # Never two live calls to one person: a call created before the previous ended.
    spans: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for c in calls:
        spans[owner[c["to"]]].append((c["created"], c["ended"] or "9999"))
    for person, ss in spans.items():
        ss.sort()
        found["overlapping_calls_per_person"] += [
            person for a, b in itertools.pairwise(ss) if b[0] < a[1]
        ]
    found["not_final"] = [(r.id, r.status) for r in rows if r.status not in FINAL]
    kinds = [
        "cap_claims_per_debtor_day",
        "cap_calls_per_debtor_day",
        "claims_outside_window",
        "attempts_dialled_twice",
        "numbers_twice_in_one_claim",
        "calls_without_attempt",
        "calls_not_the_attempts_sid",
        "calls_to_another_number",
        "overlapping_calls_per_person",
        "not_final",
    ] + (["gap"] if GAP_MIN else [])
    return {k: len(found[k]) for k in kinds}, found


async def test_chaos_replicas_behind_haproxy(pg_url: str, tmp_path: Path) -> None:
    haproxy = find_haproxy()
    if haproxy is None:
        message = "haproxy is not installed (./run test and .ci/run install it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    started = time.monotonic()
    offset = business_hours_offset()
    lb_port, sb_port = free_port(), free_port()
    ports = {f"r{i}": free_port() for i in range(REPLICAS)}
    public, sandbox_url = f"http://127.0.0.1:{lb_port}", f"http://127.0.0.1:{sb_port}"
    owner = portfolio(tmp_path / "debtors.csv")
    callees = {n: CALLEE_KINDS[i % len(CALLEE_KINDS)] for n, i in owner.items()}
    env = service_env(
        db_url=pg_url,
        public_url=public,
        sandbox_url=sandbox_url,
        cache_dir=tmp_path / "prompts",
        clock_offset=offset,
    )
    cfg_path = tmp_path / "haproxy.cfg"
    cfg_path.write_text(haproxy_config(lb_port, list(ports.values())))
    procs = Processes(tmp_path)
    timeline: list[str] = []
    engine = make_engine(pg_url, pool_size=1, max_overflow=0)
    watch = Watch(await engine.connect())

    def mark(what: str) -> None:
        timeline.append(f"{time.monotonic() - started:6.1f}s {what}")

    try:
        sb = start_sandbox(
            procs, sb_port, {"speed": SPEED, "clock_offset": offset, "callees": callees}
        )
        lb = procs.start("haproxy", [haproxy, "-db", "-f", str(cfg_path)], dict(os.environ))
        for name, port in ports.items():
            start_replica(procs, name, port, env)
        await wait_http(f"{sandbox_url}/health", sb)
        await wait_replicas(procs, ports)
        await wait_http(f"{public}/healthz", lb)
        mark("all up")

        key = ivr("add-user", "chaos", "--role", "supervisor", env=env).strip().rsplit(" ", 1)[-1]
        campaign = {
            "name": "chaos",
            "country": "BR",
            "locale": "pt-BR",
            "daily_cap": DAILY_CAP,
            "weekly_cap": 7,
            "min_gap_minutes": GAP_MIN,
            "quiet_days_after_rpc": 0,
            "max_concurrent_calls": 40,
        }
        async with (
            aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as http,
            http.post(f"{public}/api/v1/campaigns", json=campaign) as r,
        ):
            assert r.status in (200, 201), await r.text()
        ivr("import", str(tmp_path / "debtors.csv"), "--campaign", "chaos", env=env)
        assert await watch.conn.scalar(text("SELECT count(*) FROM debtors")) == DEBTORS
        mark("imported")

        # The run: two replicas die hard while calls are placed and live, then come back.
        load_start = time.monotonic()
        kills = {KILLED[0]: 5.0, KILLED[1]: 9.0}
        restarts = {KILLED[0]: 9.0, KILLED[1]: 13.0}
        exits: dict[str, int] = {}
        rows: list[Any] = []
        while time.monotonic() - load_start < RUN_LIMIT_S:
            t = time.monotonic() - load_start
            for name, at in kills.items():
                if name not in exits and t >= at:
                    exits[name] = procs.kill9(name)
                    mark(f"SIGKILL {name} (exit {exits[name]})")
            for name, at in restarts.items():
                if name in exits and procs.procs[name].popen.poll() is not None and t >= at:
                    start_replica(procs, name, ports[name], env)
                    mark(f"restarted {name}")
            rows = await watch.rows()
            if t > restarts[KILLED[1]] and len(settled(rows)) == DEBTORS:
                break
            await asyncio.sleep(1.0)
        mark(f"load over: {len(rows)} claims, {len(settled(rows))} debtors done")
        await wait_replicas(procs, {n: ports[n] for n in KILLED})
        for _ in range(60):  # the carrier finishes what is live (webhooks still served)
            if all(c["ended"] for c in await carrier_calls(sandbox_url)):
                break
            await asyncio.sleep(0.5)
        mark("carrier idle")

        # Move the clock: 21:00 the same day (outside the window), reconcile and sweep.
        forced = procs.stop_all(list(ports), timeout=5.0)
        before = [r for r in await watch.rows() if r.status not in FINAL]
        mark(f"replicas stopped (SIGKILL after 5 s: {forced}); {len(before)} attempts not final")
        moved = env | {"IVR_CLOCK_OFFSET_SECONDS": str(offset + 11 * 3600)}
        for name in ("r0", "r3"):
            start_replica(procs, name, ports[name], moved)
        await wait_replicas(procs, {n: ports[n] for n in ("r0", "r3")})
        for _ in range(90):
            rows = await watch.rows()
            if all(r.status in FINAL for r in rows):
                break
            await asyncio.sleep(0.5)
        mark("reconciled")
        calls = await carrier_calls(sandbox_url)
        (tmp_path / "carrier_calls.json").write_text(json.dumps(calls, indent=1))
    finally:
        procs.kill_all()
        await watch.conn.close()
        await engine.dispose()

    counts, found = count_violations(rows, calls, owner)
    per_debtor = Counter(r.debtor_id for r in rows)
    print("\nchaos timeline:\n  " + "\n  ".join(timeline))
    print(
        f"chaos counts: claims={len(rows)} calls={len(calls)} "
        f"debtors_at_cap={sum(1 for n in per_debtor.values() if n >= DAILY_CAP)} "
        f"not_final_before_reconcile={dict(Counter(r.status for r in before))} "
        f"final_statuses={dict(Counter(r.status for r in rows))} "
        f"peak_db_connections={watch.peak_connections}"
    )
    print("chaos violations:", counts)
    assert all(n == 0 for n in counts.values()), {k: v[:5] for k, v in found.items() if v}
    # It really ran: both kills happened, calls were placed and people reached the cap.
    assert [exits[n] for n in KILLED] == [-9, -9]
    # (Modest floors: on a busy 2-core machine the run is CPU-bound.)
    assert len(rows) >= DEBTORS, len(rows)
    assert len(calls) >= DEBTORS * 3 // 4, len(calls)
    assert sum(1 for n in per_debtor.values() if n >= DAILY_CAP) >= DEBTORS // 10
