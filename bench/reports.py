"""Reports bench: 10,000,000 attempts over 90 days in PostgreSQL, reports from the roll-ups.

Builds ``ivr_bench_reports`` (a throw-away database next to ``test`` on
127.0.0.1:5432) with ``generate_series``: 8 campaigns, 1,000,000 debtors and
debts, 10,000,000 outbound attempts spread over 90 local days with a
realistic mix of outcomes (no answer, busy, machines, silent calls, right
party, promises, agents...), the promises made in them (kept, broken or
open), the payments that kept them and the transfers of the agent calls.
The indexes of ``call_attempts`` are dropped during the load and rebuilt
after it (the same definitions), as a bulk load would.

Then it fills the roll-ups with :func:`ivr.reports.rollups.rebuild` (timed:
what a first fill costs) and times, with many iterations each:

* ``report 90d``: one campaign's 90 days and totals, as the API builds it
  (:func:`ivr.reports.read.campaign_report` plus the JSON body);
* ``summary day``: every campaign on one day (:func:`ivr.reports.read.day_summary`);
* ``wallboard snapshot``: the live wallboard's whole snapshot
  (:func:`ivr.web.wallboard_snapshot.build_snapshot`, reachable debtors cached
  for a minute as the live feed does), and once more with that count re-read;
* ``refresh job``: one run of the roll-up job (look-back window of every campaign);
* ``before: ...``: the same two reports counted from the raw facts
  (:func:`ivr.reports.kpis.compute_counts`), as they would be without roll-ups.

It prints p50/p95/p99 in ms and the ratio of p95 to the 300 ms target, and
the load average before and after (the machine is shared: a busy neighbour
shows there).

Run: ``.venv/bin/python bench/reports.py [--attempts N] [--iterations N] [--keep]
[--build-only]`` (``--keep`` reuses the database built by an earlier run, so the
timings can wait for a quiet machine).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.service_process import dsn as bench_dsn
from bench.service_process import new_migrated_database
from ivr.reports.kpis import compute_counts
from ivr.reports.read import campaign_report, day_summary
from ivr.reports.rollups import rebuild, refresh
from ivr.store.db import make_engine, make_sessionmaker
from ivr.web.api_reports import CampaignReportOut, SummaryOut, _row
from ivr.web.wallboard_snapshot import ReachableCache, build_snapshot

ADMIN = os.environ.get("IVR_BENCH_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
DB = os.environ.get("IVR_BENCH_REPORTS_DB", "ivr_bench_reports")
LAST_DAY = dt.date(2026, 11, 30)
DAYS = 90
FIRST_DAY = LAST_DAY - dt.timedelta(days=DAYS - 1)
NOW = dt.datetime.combine(LAST_DAY, dt.time(21), dt.UTC)
CAMPAIGNS = 8
DEBTORS = 1_000_000
TARGET_MS = 300.0

# g % 100 -> (status, answered_by, outcome): the mix of a collection campaign.
OUTCOME_SQL = """
CASE
  WHEN b < 25 THEN 'no-answer' WHEN b < 30 THEN 'busy' WHEN b < 32 THEN 'failed'
  ELSE 'completed' END,
CASE
  WHEN b < 32 THEN NULL WHEN b < 47 THEN 'machine_end_beep' ELSE 'human' END,
CASE
  WHEN b < 32 THEN 'no_contact' WHEN b < 47 THEN 'voicemail' WHEN b < 55 THEN 'no_contact'
  WHEN b < 70 THEN 'right_party' WHEN b < 78 THEN 'promise' WHEN b < 83 THEN 'refused'
  WHEN b < 88 THEN 'wrong_party' WHEN b < 92 THEN 'agent' WHEN b < 95 THEN 'callback'
  WHEN b < 96 THEN 'opt_out' WHEN b < 98 THEN 'already_paid' ELSE 'error' END
"""


def dsn(db: str) -> str:
    return bench_dsn(ADMIN, db)


async def build(attempts: int) -> None:
    conn = await asyncpg.connect(await new_migrated_database(ADMIN, DB))
    await conn.execute("SET synchronous_commit = off; SET maintenance_work_mem = '512MB'")
    t0 = time.perf_counter()
    await conn.execute(
        f"""
        INSERT INTO campaigns (id, name, locale, country, active, daily_cap, weekly_cap,
            min_gap_minutes, quiet_days_after_rpc, paid_pause_business_days,
            max_concurrent_calls, max_promise_days, blocked_dates, company_name,
            callback_number, created_at)
        SELECT g, 'bench-' || g, 'pt-BR', 'BR', true, 2, 7, 240, 0, 2, 100, 30, '[]',
            'Central', '', now()
        FROM generate_series(1, {CAMPAIGNS}) g;
        SELECT setval('campaigns_id_seq', {CAMPAIGNS});
        INSERT INTO debtors (id, external_ref, name, locale, country, region, timezone,
            created_at, updated_at)
        SELECT g, 'B' || g, 'Pessoa ' || g, 'pt-BR', 'BR', 'SP', 'America/Sao_Paulo',
            now(), now()
        FROM generate_series(1, {DEBTORS}) g;
        INSERT INTO debts (id, debtor_id, campaign_id, creditor, amount_cents, currency,
            due_date, status, created_at)
        SELECT g, g, 1 + g % {CAMPAIGNS}, 'Loja', 10000 + g % 90000, 'BRL', DATE '2026-06-01',
            'open', TIMESTAMPTZ '{FIRST_DAY}' - interval '30 days' + (g % 120) * interval '1 day'
        FROM generate_series(1, {DEBTORS}) g;
        """
    )
    # Bulk load: drop the attempt indexes, load, recreate them as they were.
    defs = [
        (r["indexname"], r["indexdef"])
        for r in await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'call_attempts' "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = indexname)"
        )
    ]
    for name, _ in defs:
        await conn.execute(f'DROP INDEX "{name}"')
    await conn.execute(
        f"""
        INSERT INTO call_attempts (id, debtor_id, debt_id, campaign_id, to_number, direction,
            status, answered_by, outcome, last_sequence, duration_s, local_day, claimed_by,
            claimed_at, placed_at, answered_at, ended_at)
        SELECT g, 1 + g % {DEBTORS}, 1 + g % {DEBTORS}, 1 + (1 + g % {DEBTORS}) % {CAMPAIGNS},
            '+5511900000000', 'outbound', s.status, s.answered_by, s.outcome, 3,
            CASE WHEN s.status = 'completed' THEN 20 + b * 3 ELSE 0 END,
            day, 'bench', ts, ts + interval '1 second',
            CASE WHEN s.status = 'completed' THEN ts + interval '10 seconds' END,
            ts + interval '1 minute'
        FROM generate_series(1, {attempts}) g
        CROSS JOIN LATERAL (SELECT (g::bigint * 7919) % 100 AS b,
            DATE '{LAST_DAY}' - ((g / {CAMPAIGNS}) % {DAYS})::int AS day) k
        CROSS JOIN LATERAL (SELECT k.day + time '12:00' + (g % 36000) * interval '1 second'
            AS ts) t
        CROSS JOIN LATERAL (SELECT {OUTCOME_SQL}) AS s(status, answered_by, outcome);
        """
    )
    t1 = time.perf_counter()
    for _, definition in defs:
        await conn.execute(definition)
    t2 = time.perf_counter()
    await conn.execute(
        """
        INSERT INTO promises (debt_id, attempt_id, promised_date, amount_cents, status,
            source, created_at)
        SELECT a.debt_id, a.id, a.local_day + (a.id % 10)::int, 5000 + a.id % 20000,
            CASE WHEN a.local_day + (a.id % 10)::int >= DATE '%(last)s' THEN 'open'
                 WHEN a.id % 3 = 0 THEN 'broken' ELSE 'kept' END,
            'ivr', a.claimed_at
        FROM call_attempts a WHERE a.outcome = 'promise';
        INSERT INTO payments (debt_id, amount_cents, paid_on, external_ref, created_at)
        SELECT p.debt_id, p.amount_cents, p.promised_date, 'P' || p.id,
            p.promised_date + time '15:00'
        FROM promises p WHERE p.status = 'kept';
        INSERT INTO transfers (attempt_id, reason, status, requested_at, answered_at,
            ended_at, queue_wait_s, tried_agent_ids)
        SELECT a.id, 'asked',
            CASE WHEN a.id % 10 < 2 THEN 'abandoned' ELSE 'completed' END,
            a.claimed_at + interval '40 seconds',
            CASE WHEN a.id % 10 >= 2 THEN a.claimed_at + interval '55 seconds' END,
            CASE WHEN a.id % 10 >= 2 THEN a.claimed_at + (60 + a.id % 400) * interval '1 second'
            END,
            CASE WHEN a.id % 10 >= 2 THEN 15 END, '[]'
        FROM call_attempts a WHERE a.outcome = 'agent';
        """.replace("%(last)s", str(LAST_DAY))
    )
    for table in ("debtors", "debts", "call_attempts", "promises", "payments", "transfers"):
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM {table}))"
        )
    await conn.execute("VACUUM ANALYZE")
    n = await conn.fetchval("SELECT count(*) FROM call_attempts")
    await conn.close()
    print(
        f"built {n:,} attempts in {time.perf_counter() - t0:.0f} s "
        f"(load {t1 - t0:.0f} s, attempt indexes {t2 - t1:.0f} s)"
    )


def pct(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


Sessions = async_sessionmaker[AsyncSession]


async def timed(
    name: str, sessions: Sessions, n: int, fn: Callable[[AsyncSession, int], Awaitable[Any]]
) -> None:
    async with sessions() as s:
        await fn(s, 0)  # warm-up: statement caches, the first pages read
    ms: list[float] = []
    for i in range(n):
        async with sessions() as s:
            t = time.perf_counter()
            await fn(s, i)
            ms.append((time.perf_counter() - t) * 1000)
    p50, p95, p99 = pct(ms, 50), pct(ms, 95), pct(ms, 99)
    print(
        f"{name:<28} n={n:<4} p50 {p50:9.1f}  p95 {p95:9.1f}  p99 {p99:9.1f} ms"
        f"   p95/target {p95 / TARGET_MS:6.2f}"
    )


async def report_90d(s: AsyncSession, i: int) -> None:
    campaign = 1 + i % CAMPAIGNS
    rep = await campaign_report(s, campaign, FIRST_DAY, LAST_DAY, LAST_DAY)
    out = CampaignReportOut(
        campaign_id=campaign,
        campaign_name=f"bench-{campaign}",
        day_from=FIRST_DAY,
        to=LAST_DAY,
        refreshed_at=NOW,
        days=[_row(r) for r in rep.rows],
        totals=_row(rep.totals),
    )
    json.dumps(out.model_dump(mode="json", by_alias=True))


async def summary_day(s: AsyncSession, i: int) -> None:
    day = LAST_DAY - dt.timedelta(days=i % DAYS)
    rep = await day_summary(s, day, LAST_DAY)
    out = SummaryOut(
        day=day,
        refreshed_at=NOW,
        campaigns=[_row(r) for r in rep.rows],
        totals=_row(rep.totals),
    )
    json.dumps(out.model_dump(mode="json"))


async def raw_report_90d(s: AsyncSession, i: int) -> None:
    await compute_counts(s, FIRST_DAY, LAST_DAY, [1 + i % CAMPAIGNS])


async def raw_summary_day(s: AsyncSession, i: int) -> None:
    day = LAST_DAY - dt.timedelta(days=i % DAYS)
    await compute_counts(s, day, day, range(1, CAMPAIGNS + 1))  # through the campaign index


async def run(iterations: int, raw_iterations: int) -> None:
    engine = make_engine(dsn(DB).replace("postgresql://", "postgresql+asyncpg://"))
    sessions = make_sessionmaker(engine)
    t = time.perf_counter()
    async with sessions() as s, s.begin():
        rows = await rebuild(
            s,
            FIRST_DAY - dt.timedelta(days=40),
            LAST_DAY + dt.timedelta(days=10),
            NOW,
            whole_history=True,
        )
    print(f"roll-ups rebuilt from scratch: {rows:,} rows in {time.perf_counter() - t:.1f} s")
    await timed("report 90d (roll-ups)", sessions, iterations, report_90d)
    await timed("summary day (roll-ups)", sessions, iterations, summary_day)
    # The wallboard's snapshot as the live feed builds it (reachable debtors
    # cached for a minute, as there), then with that count re-read every time.
    cache = ReachableCache()

    async def wallboard(s: AsyncSession, i: int) -> None:
        await build_snapshot(s, NOW, cache)

    async def wallboard_cold(s: AsyncSession, i: int) -> None:
        await build_snapshot(s, NOW)

    await timed("wallboard snapshot", sessions, iterations, wallboard)
    await timed(
        "wallboard (reachable uncached)", sessions, max(5, iterations // 30), wallboard_cold
    )

    async def job(s: AsyncSession, i: int) -> None:
        async with s.begin():
            await refresh(s, NOW)

    await timed("refresh job (look-back 1d)", sessions, 5, job)
    await timed("before: report 90d (raw)", sessions, raw_iterations, raw_report_90d)
    await timed("before: summary day (raw)", sessions, raw_iterations, raw_summary_day)
    await engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--attempts", type=int, default=10_000_000)
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--raw-iterations", type=int, default=5)
    ap.add_argument("--keep", action="store_true", help="reuse the database of an earlier run")
    ap.add_argument("--build-only", action="store_true", help="build the database, time nothing")
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()}")
    if not args.keep:
        asyncio.run(build(args.attempts))
    if args.build_only:
        return
    asyncio.run(run(args.iterations, args.raw_iterations))
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
