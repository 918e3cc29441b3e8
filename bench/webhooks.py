"""Webhook latency under load: signed /twilio/status and /twilio/voice requests.

The service runs as its own process (``ivr serve --keypad-only``); this
process is the load generator. It sends requests open-loop at a fixed rate
(so a slow server cannot slow the arrivals down), each one signed with
twilio-python's RequestValidator over the public URL, and prints latency
percentiles and the achieved rate, for SQLite and for PostgreSQL.

    .venv/bin/python bench/webhooks.py [--rate 300] [--seconds 20] [--backends sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import asyncpg
from service_process import free_port, wait_ready
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = "https://ivr.bench"
TOKEN = "bench-auth-token"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


async def seed(url: str, attempts: int) -> None:
    from ivr.store.db import make_engine, make_sessionmaker
    from ivr.store.migrate import upgrade_async
    from ivr.store.models import CallAttempt, Debt, Debtor, Phone

    await upgrade_async(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    async with sessions() as s, s.begin():
        for i in range(attempts):
            d = Debtor(external_ref=f"B{i}", name=f"Pessoa {i}")
            d.phones.append(Phone(e164=f"+55119{i:08d}"))
            d.debts.append(
                Debt(creditor="Loja", amount_cents=10000 + i, due_date=dt.date(2026, 11, 1))
            )
            s.add(d)
        await s.flush()
        ids = (await s.execute(Debtor.__table__.select())).all()
        for row in ids:
            s.add(
                CallAttempt(
                    debtor_id=row.id,
                    to_number="+5511900000000",
                    local_day=dt.date(2026, 11, 23),
                    call_sid=f"CA{row.id:032x}",
                )
            )
    await engine.dispose()


async def load(port: int, rate: float, seconds: float, attempts: int) -> dict[str, object]:
    validator = RequestValidator(TOKEN)
    base = f"http://127.0.0.1:{port}"
    latencies: list[float] = []
    errors: dict[int | str, int] = {}
    total = int(rate * seconds)
    seq: dict[int, int] = {}

    async def one(i: int, http: aiohttp.ClientSession) -> None:
        attempt = i % attempts + 1
        if i % 2 == 0:
            n = seq.get(attempt, 0)
            seq[attempt] = n + 1
            path = f"/twilio/status?attempt={attempt}"
            status = ["initiated", "ringing", "in-progress"][min(n, 2)]
            params = {
                "CallSid": f"CA{attempt:032x}",
                "AccountSid": "AC" + "0" * 32,
                "CallStatus": status,
                "SequenceNumber": str(n),
                "Direction": "outbound-api",
                "ApiVersion": "2010-04-01",
                "CallbackSource": "call-progress-events",
            }
        else:
            path = f"/twilio/voice?attempt={attempt}"
            params = {
                "CallSid": f"CA{attempt:032x}",
                "AccountSid": "AC" + "0" * 32,
                "CallStatus": "in-progress",
                "Direction": "outbound-api",
            }
        sig = validator.compute_signature(PUBLIC + path, params)
        t0 = time.perf_counter()
        try:
            async with http.post(
                base + path, data=params, headers={"X-Twilio-Signature": sig}
            ) as r:
                await r.read()
                if r.status >= 300:
                    errors[r.status] = errors.get(r.status, 0) + 1
                    return
        except aiohttp.ClientError as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            return
        latencies.append((time.perf_counter() - t0) * 1000)

    conn = aiohttp.TCPConnector(limit=512)
    async with aiohttp.ClientSession(connector=conn) as http:
        tasks = []
        start = time.perf_counter()
        for i in range(total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, http)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] if latencies else 0.0
        )

    return {
        "sent": total,
        "ok": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50": pct(50),
        "p90": pct(90),
        "p99": pct(99),
        "max": latencies[-1] if latencies else 0.0,
        "mean": statistics.fmean(latencies) if latencies else 0.0,
    }


async def run_backend(backend: str, rate: float, seconds: float, attempts: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="ivr-bench-"))
    pg_name = f"ivr_bench_wh_{os.getpid()}"
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    else:
        conn = await asyncpg.connect(PG_ADMIN)
        await conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{pg_name}"')
        await conn.close()
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{pg_name}"
    await seed(url, attempts)
    port = free_port()
    env = dict(
        os.environ,
        IVR_DATABASE_URL=url,
        IVR_PUBLIC_URL=PUBLIC,
        IVR_TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        IVR_TWILIO_AUTH_TOKEN=TOKEN,
        IVR_TWILIO_FROM_NUMBER="+551130000000",
        IVR_TWILIO_API_URL="http://127.0.0.1:9",
        IVR_SCHEDULER_ENABLED="false",
        IVR_CACHE_DIR=str(tmp / "cache"),
    )
    proc = subprocess.Popen(  # noqa: ASYNC220 (started once, before the measurement)
        [
            sys.executable,
            "-m",
            "ivr.cli",
            "serve",
            "--keypad-only",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await wait_ready(port, proc)
        # Warm-up at the target rate: the connection pool fills, statements get prepared.
        await load(port, rate, 3, attempts)
        for r in (rate, rate * 2):
            res = await load(port, r, seconds, attempts)
            print(
                f"{backend:8s} target {r:5.0f}/s  achieved {res['rps']:6.1f}/s  "
                f"p50 {res['p50']:6.2f} ms  p90 {res['p90']:6.2f} ms  p99 {res['p99']:6.2f} ms  "
                f"max {res['max']:7.2f} ms  ok {res['ok']}/{res['sent']}  errors {res['errors']}",
                flush=True,
            )
    finally:
        proc.terminate()
        proc.wait(10)
        if backend == "postgres":
            conn = await asyncpg.connect(PG_ADMIN)
            await conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            await conn.close()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rate", type=float, default=300)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--attempts", type=int, default=2000)
    p.add_argument("--backends", default="sqlite,postgres")
    args = p.parse_args()
    print(f"signed webhook load, {os.cpu_count()} cores; service and load in separate processes")
    for backend in args.backends.split(","):
        asyncio.run(run_backend(backend, args.rate, args.seconds, args.attempts))


if __name__ == "__main__":
    main()
