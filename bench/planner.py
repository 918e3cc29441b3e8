"""Planner bench: claim the next 500 attempts out of a million debtors on PostgreSQL.

Builds ``ivr_bench`` (``--debtors``, default 1,000,000, each with a phone and
a debt, and a week of past attempts for one in five of them) with
``generate_series``, then runs 20 ticks (after one untimed warm-up tick) at a
fixed instant inside the Brazilian window and prints p50/p95 of:

* select: the queue query alone (``FOR UPDATE SKIP LOCKED``, rolled back);
* claim: :func:`scheduler.claim.claim_batch` for 500 (lock, load, evaluate
  every rule, insert the attempts, store the hints), in its parts (separate
  transactions at once; ``--parts N`` to choose), with this process's CPU
  and the time of each phase (``ClaimStats.ms``: the slowest part's);
* tick: :meth:`scheduler.planner.Scheduler.tick` (the claim plus handing the
  claims to the dialer; the calls themselves are not placed);

with the load average before and after, and then ``EXPLAIN (ANALYZE)`` of the
queue, the snapshot and the insert statements on one batch (rolled back).

Start-up objects are frozen for the collector, as ``ivr serve`` does
(``--no-gc-freeze``: not). The phones carry their stored facts
(``ivr.number_facts``), as the importer writes them; ``--no-facts`` leaves
them NULL (parsed on every read, as before migration ``0028_planner``).
``--series`` prints each claim's and tick's time in order (a slow p95:
one outlier or a drift?). ``--batch N`` sets the claims per tick; with too
few due debtors for full batches the batch is made smaller, and said so. ``--keep`` leaves the
database for a later ``--reuse`` (which migrates it, and vacuums away the
previous run's dead hints first). Run:
``.venv/bin/python bench/planner.py [--debtors N] [--batch N] [--parts N] [--keep|--reuse]``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
from sqlalchemy import text

from bench.service_process import dsn as bench_dsn
from bench.service_process import new_migrated_database
from ivr.config import Settings
from ivr.number_facts import stored_facts
from ivr.store.db import make_engine, make_sessionmaker
from ivr.store.migrate import upgrade_async
from scheduler.batch_sql import PG_CLAIM, PG_CLAIM_HELD, PG_LOCK
from scheduler.claim import ClaimStats, claim_batch
from scheduler.eligibility_load_pg import snapshot_sql
from scheduler.planner import Scheduler

ADMIN = os.environ.get("IVR_BENCH_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
DB = os.environ.get("IVR_BENCH_DB", "ivr_bench")
NOW = dt.datetime(2026, 11, 24, 14, 0, tzinfo=dt.UTC)  # Tuesday 11:00 in São Paulo
GC_FREEZE = "--no-gc-freeze" not in sys.argv
NO_FACTS = "--no-facts" in sys.argv
SERIES = "--series" in sys.argv  # also print every claim's and tick's time, in order
BATCH = 500
TICKS = 20
PARTS: int | None = None  # the claim's own default

ZONES = "ARRAY['America/Sao_Paulo','America/Manaus','America/Recife','America/Bahia',NULL]"
DDDS = ["11", "21", "31", "41", "51", "61", "71", "81", "92", "68"]


def dsn(db: str) -> str:
    return bench_dsn(ADMIN, db)


async def build(n: int) -> None:
    """Fill the bench database with ``n`` debtors; prints each step's time (the
    10-million build is long: these say which step to expect it in)."""
    conn = await asyncpg.connect(await new_migrated_database(ADMIN, DB))
    t = time.perf_counter()
    step = [t]

    def done(what: str) -> None:
        now = time.perf_counter()
        print(f"  {what}: {now - step[0]:.1f} s", flush=True)
        step[0] = now

    await conn.execute(
        """
        INSERT INTO campaigns (id, name, locale, country, active, daily_cap, weekly_cap,
            min_gap_minutes, quiet_days_after_rpc, paid_pause_business_days,
            max_concurrent_calls, max_promise_days, blocked_dates, company_name,
            callback_number, created_at)
        SELECT g, 'bench-' || g, 'pt-BR', 'BR', true, 2, 7, 240, 0, 2, 100000, 30, '[]',
            'Central', '', now()
        FROM generate_series(1, 10) g;
        SELECT setval('campaigns_id_seq', 10);
        """
    )
    # name_key as the importer writes it (ivr.store.name_key.fold_name): the
    # index on it is one the planner's hint updates must maintain too.
    await conn.execute(
        f"""
        INSERT INTO debtors (id, external_ref, name, name_key, locale, country, region,
            timezone, created_at, updated_at, next_attempt_at)
        SELECT g, 'B' || g, 'Pessoa ' || g, 'pessoa ' || g, 'pt-BR', 'BR', 'SP',
            ({ZONES})[1 + g % 5], now(), now(),
            CASE WHEN g % 2 = 0 THEN $1::timestamptz - (g % 1440) * interval '1 minute'
                 ELSE $1::timestamptz + (g % 1440) * interval '1 minute' END
        FROM generate_series(1, $2::int) g;
        """,
        NOW,
        n,
    )
    done("debtors")
    # The phones carry their stored facts (ivr.number_facts) as the importer
    # writes them: one value per area code, from a parse of a number of it.
    facts = [stored_facts(f"+55{d}912345678") for d in DDDS]
    await conn.execute(
        """
        INSERT INTO phones (debtor_id, e164, position, number_country, number_zones)
        SELECT g, '+55' || ($2::text[])[1 + g % 10] || '9' || lpad(g::text, 8, '0'), 0,
            ($3::text[])[1 + g % 10], ($4::text[])[1 + g % 10]
        FROM generate_series(1, $1::int) g
        """,
        n,
        DDDS,
        [None if NO_FACTS else f[0] for f in facts],
        [None if NO_FACTS else f[1] for f in facts],
    )
    done("phones")
    await conn.execute(
        """
        INSERT INTO debts (debtor_id, campaign_id, creditor, amount_cents, currency, due_date,
            status, created_at)
        SELECT g, 1 + g % 10, 'Loja', 10000 + g % 50000, 'BRL', DATE '2026-10-01', 'open', now()
        FROM generate_series(1, $1::int) g
        """,
        n,
    )
    done("debts")
    if not NO_FACTS:
        await check_number_facts(conn, n)
    # A week of history for one debtor in five: 1 to 3 finished attempts each.
    await conn.execute(
        """
        INSERT INTO call_attempts (debtor_id, debt_id, phone_id, campaign_id, to_number,
            status, last_sequence, local_day, claimed_at, ended_at, outcome, claimed_by)
        SELECT d.id, d.id, d.id, 1 + d.id % 10, '+5500000000',
            'completed', 0, (ts AT TIME ZONE 'America/Sao_Paulo')::date, ts, ts, 'no_contact',
            'seed'
        FROM generate_series(1, $2::int, 5) AS d(id)
        CROSS JOIN LATERAL (
            SELECT $1::timestamptz - (k * 31 + d.id % 97) * interval '1 hour' AS ts
            FROM generate_series(1, 1 + d.id % 3) k
        ) h;
        """,
        NOW,
        n,
    )
    done("past attempts")
    for table in ("debtors", "phones", "debts", "call_attempts"):
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )
    await conn.execute("VACUUM ANALYZE")
    done("vacuum analyze")
    rows = await conn.fetchval("SELECT count(*) FROM debtors")
    hist = await conn.fetchval("SELECT count(*) FROM call_attempts")
    await conn.close()
    print(f"built {rows:,} debtors, {hist:,} past attempts in {time.perf_counter() - t:.1f} s")


async def check_number_facts(conn: asyncpg.Connection, n: int) -> None:
    """A random sample of 2,000 phones checked against a real parse of its own
    number, so the bench cannot run on facts a parse would not give."""
    sample = await conn.fetch(
        "SELECT e164, number_country, number_zones FROM phones "
        "WHERE id IN (SELECT 1 + floor(random() * $1)::int FROM generate_series(1, 2000))",
        n,
    )
    wrong = [r["e164"] for r in sample if stored_facts(r["e164"]) != (r[1], r[2])]
    if wrong:
        raise SystemExit(f"stored facts differ from a parse for {len(wrong)} numbers: {wrong[:5]}")


DUE_SQL = "SELECT count(*) FROM debtors WHERE opted_out_at IS NULL AND next_attempt_at <= $1"


def fit_batch(due: int) -> None:
    """Every timed claim takes a full batch, so the run needs ``2 * TICKS + 1`` of
    them among the due debtors (each claimed one is pushed past the run by the
    minimum gap): a small database gets a smaller batch, said so, rather than
    ticks that run out of people."""
    global BATCH
    fits = due // (2 * TICKS + 1)
    if fits < BATCH:
        if fits < 1:
            raise SystemExit(f"only {due} debtors due: build at least {2 * TICKS + 1}")
        print(f"only {due:,} debtors due: batch {BATCH} -> {fits} (full batches on every tick)")
        BATCH = fits


async def finish_calls(raw: asyncpg.Connection) -> None:
    await raw.execute(
        "UPDATE call_attempts SET status = 'completed', ended_at = claimed_at, "
        "outcome = 'no_contact' WHERE status = 'claimed'"
    )


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def run() -> None:
    url = dsn(DB).replace("postgresql://", "postgresql+asyncpg://")
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    raw = await asyncpg.connect(dsn(DB))
    # A reused database starts as a fresh one: the previous run's hints left
    # dead entries at the head of the queue's index, and its writes a
    # checkpoint to come; neither is this run's work.
    await raw.execute("VACUUM ANALYZE debtors, call_attempts")
    await raw.execute("CHECKPOINT")
    fit_batch(await raw.fetchval(DUE_SQL, NOW))
    load_before = os.getloadavg()

    select_ms: list[float] = []
    for i in range(TICKS):
        async with raw.transaction():
            t = time.perf_counter()
            await raw.fetch(PG_LOCK, NOW + dt.timedelta(seconds=i), BATCH)
            select_ms.append((time.perf_counter() - t) * 1000)

    # One untimed tick first: a long-running service has its zone, holiday and
    # statement caches warm after its first tick.
    await claim_batch(sessions, NOW - dt.timedelta(seconds=1), BATCH, "warmup")
    await finish_calls(raw)
    if GC_FREEZE:  # as `ivr serve` does once started (ivr.cli._freeze_startup_objects)
        gc.collect()
        gc.freeze()

    claim_ms: list[float] = []
    cpu_ms: list[float] = []  # this process's CPU inside the claim (the rest is the database)
    phases: dict[str, list[float]] = {}
    claimed = 0
    for i in range(TICKS):
        stats = ClaimStats()
        at = NOW + dt.timedelta(seconds=i)
        t, c = time.perf_counter(), time.process_time()
        claims = await claim_batch(sessions, at, BATCH, "bench", stats=stats, parts=PARTS)
        claim_ms.append((time.perf_counter() - t) * 1000)
        cpu_ms.append((time.process_time() - c) * 1000)
        claimed += len(claims)
        assert stats.examined == BATCH, stats
        for name, ms in stats.ms.items():
            phases.setdefault(name, []).append(ms)
        await finish_calls(raw)  # untimed: the calls end before the next tick

    class NoCarrier:
        async def place(self, attempt: Any, debtor: Any, phone: Any) -> str:
            raise AssertionError("the bench does not place calls")

        async def fetch(self, call_sid: str) -> None:
            return None

        async def find_calls(self, to: str, after: dt.datetime) -> list:
            return []

    clock_box = [NOW + dt.timedelta(minutes=1)]
    settings = Settings(account_cps=1000, scheduler_tick_seconds=1)
    sched = Scheduler(settings, sessions, NoCarrier(), clock=lambda: clock_box[0], max_batch=BATCH)
    tick_ms: list[float] = []
    tick_claims = 0
    for i in range(TICKS):
        clock_box[0] = NOW + dt.timedelta(minutes=1, seconds=i)
        t = time.perf_counter()
        report = await sched.tick(dial=False)
        tick_ms.append((time.perf_counter() - t) * 1000)
        tick_claims += len(report.claims)
        await finish_calls(raw)

    load_after = os.getloadavg()
    print()
    print(
        f"{TICKS} ticks of {BATCH} at {NOW.isoformat()} (claimed {claimed} + {tick_claims}), "
        f"in {PARTS or 'default'} parts, gc {'frozen' if GC_FREEZE else 'not frozen'}"
    )
    series = [
        ("select", select_ms),
        ("claim", claim_ms),
        ("  cpu", cpu_ms),
        *((f"  {name}", values) for name, values in phases.items()),
        ("tick", tick_ms),
    ]
    for name, values in series:
        print(
            f"  {name:10s} p50 {statistics.median(values):7.1f} ms   p95 {pct(values, 95):7.1f} ms"
            f"   max {max(values):7.1f} ms"
        )
    print("  (phases: the slowest part's time in each, per claim)")
    if SERIES:
        print("  claim series:", " ".join(f"{v:.0f}" for v in claim_ms))
        print("  tick series: ", " ".join(f"{v:.0f}" for v in tick_ms))
    print(f"load average before {load_before}, after {load_after}")
    await explain(raw)
    async with engine.connect() as conn:
        n = await conn.scalar(text("SELECT count(*) FROM call_attempts WHERE claimed_by = 'bench'"))
    print(f"\nattempts claimed by the bench: {n}")
    await raw.close()
    await engine.dispose()


async def explain(raw: asyncpg.Connection) -> None:
    """The plans of the claim's three big statements on one batch, rolled back."""
    tr = raw.transaction()
    await tr.start()
    try:
        at = NOW + dt.timedelta(hours=2)
        plan = await raw.fetch("EXPLAIN (ANALYZE, BUFFERS) " + PG_LOCK, at, BATCH)
        print("\nEXPLAIN ANALYZE (queue):\n" + "\n".join(r[0] for r in plan))
        ids = [r[0] for r in await raw.fetch(PG_LOCK, at, BATCH)]
        held = bool(await raw.fetchval("SELECT current_setting('is_superuser') = 'on'"))
        snap = snapshot_sql(locked=True, hold_keys=held)  # as the claim reads
        plan = await raw.fetch("EXPLAIN (ANALYZE, BUFFERS) " + snap, ids, at, at.date())
        print(f"\nEXPLAIN ANALYZE (snapshots of {len(ids)}):\n" + "\n".join(r[0] for r in plan))
        n = len(ids)
        rows = await raw.fetch(
            "SELECT d.id, t.id, p.id, t.campaign_id, p.e164 FROM unnest($1::int[]) AS d(id) "
            "JOIN debts t ON t.debtor_id = d.id JOIN phones p ON p.debtor_id = d.id",
            ids,
        )
        cols = list(zip(*rows, strict=True))
        args: list[Any] = [ids, [at + dt.timedelta(hours=4)] * n, list(cols[0]), list(cols[1])]
        args += [list(cols[2]), list(cols[3]), [None] * len(rows), list(cols[4])]
        args += [[at.date()] * len(rows), "claimed", "explain", at]
        sql = PG_CLAIM
        if held:
            await raw.execute("SET LOCAL session_replication_role = replica")  # as the claim
            args.append(len(set(cols[3])))
            sql = PG_CLAIM_HELD
        plan = await raw.fetch("EXPLAIN (ANALYZE, BUFFERS, WAL) " + sql, *args)
        print(f"\nEXPLAIN ANALYZE (insert {len(rows)} attempts, {n} hints):")
        print("\n".join(r[0] for r in plan))
    finally:
        await tr.rollback()


async def main() -> None:
    global BATCH, PARTS
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--debtors", type=int, default=1_000_000)
    ap.add_argument("--reuse", action="store_true", help="keep an existing ivr_bench")
    ap.add_argument("--keep", action="store_true", help="do not drop ivr_bench afterwards")
    ap.add_argument(
        "--no-gc-freeze",
        action="store_true",
        help="leave the start-up objects to the collector (ivr serve freezes them)",
    )
    ap.add_argument("--parts", type=int, help="claim each batch in N transactions at once")
    ap.add_argument(
        "--no-facts",
        action="store_true",
        help="leave the phones' stored facts NULL (rows written by a path that skips them)",
    )
    ap.add_argument("--batch", type=int, default=BATCH, help="claims per tick (default 500)")
    ap.add_argument("--series", action="store_true", help="print every claim's and tick's time")
    args = ap.parse_args()
    BATCH, PARTS = args.batch, args.parts
    if args.reuse:
        await upgrade_async(dsn(DB).replace("postgresql://", "postgresql+asyncpg://"))
    else:
        await build(args.debtors)
    try:
        await run()
    finally:
        if not args.keep:
            admin = await asyncpg.connect(ADMIN)
            await admin.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
            await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
