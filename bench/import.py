"""Debtor import throughput, its memory, and what a running service sees meanwhile.

For each file size and backend: a fresh database, ``ivr import`` of N new
debtors (its own process, as in production), then the same file again (N
updates). Each phase prints its seconds, rows/s and peak resident memory:
the whole import (its process and the process that checks the rows, summed,
sampled every 50 ms) and its largest process (exact, from the kernel). The
peak must not grow with the file: compare 100,000 and 1,000,000 rows.

On SQLite a second process plays the running service: a small write
transaction every 20 ms through the standard sqlite3 module (same busy
timeout as the service), and the wait of each one is reported.

On PostgreSQL, ``--webhooks RATE`` runs ``ivr serve`` on the same database
and sends it signed /twilio/status requests at RATE per second (open loop),
first for IDLE_S seconds with nothing else running, then during each phase:
p50/p99 of both and the ratio of the p99s (the service must stay within 2x
of idle). The
service's log is kept next to the database and its tail printed if a
request fails.

Every figure is printed with the load average: other work on the machine
makes a figure worth little.

    .venv/bin/python bench/import.py --rows 100000,1000000 --backends postgres
    .venv/bin/python bench/import.py --rows 100000 --backends sqlite
    .venv/bin/python bench/import.py --rows 1000000 --backends postgres --webhooks 50 [--nice 10]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))  # bench/webhooks.py imports its sibling by name

import aiohttp  # noqa: E402
import webhooks as webhooks_bench  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from bench.service_process import database, free_port, wait_ready  # noqa: E402
from ivr.store.db import make_engine, make_sessionmaker  # noqa: E402
from ivr.store.importer import ensure_campaign  # noqa: E402

NICE: tuple[str, ...] = ()  # --nice N: the import process runs under ``nice -n N``
PHASES = ("insert", "update")
IDLE_S = 30  # the idle baseline: 1,500 requests at 50/s, so its p99 is not a handful of them


def portfolio(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("external_ref,name,phone,amount,due_date,creditor,locale,region\n")
        for i in range(rows):
            phones = f"+55119{i:08d}" + (f";+55219{i:08d}" if i % 3 == 0 else "")
            out.write(
                f"P{i},Pessoa {i} Souza,{phones},{10 + i % 900}.50,2026-12-01,Loja,pt-BR,SP\n"
            )


def load_avg() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Run:
    """One ``ivr import``: how long, what it printed, and its memory."""

    seconds: float
    output: str
    peak_mib: float  # the process tree's resident memory, summed, at its sampled peak
    largest_mib: float  # the largest single process's peak (the kernel's figure)


def _tree_rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and its descendants now (0 once gone)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(ln.split()[1]) for ln in f if ln.startswith("VmRSS:"))
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except (OSError, StopIteration, ValueError):
            continue
    return total


def run_import(csv_path: Path, env: dict[str, str], cwd: Path) -> Run:
    """``ivr import`` in its own process (under NICE), watched until it exits."""
    log = cwd / "import.err"
    started = time.perf_counter()
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [
                *NICE,
                sys.executable,
                *("-m", "ivr.cli", "import", str(csv_path), "--campaign", "bench"),
            ],
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=err,
        )
        peak = 0
        assert proc.stdout is not None
        os.set_blocking(proc.stdout.fileno(), False)
        out = b""
        while True:
            chunk = proc.stdout.read()
            out += chunk or b""
            peak = max(peak, _tree_rss_kib(proc.pid))
            done, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
        took = time.perf_counter() - started
        out += proc.stdout.read() or b""
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"ivr import failed:\n{log.read_text()[-3000:]}")
    return Run(took, out.decode().strip(), peak / 1024, usage.ru_maxrss / 1024)


def report(backend: str, phase: str, rows: int, run: Run) -> None:
    print(
        f"{backend:8} {phase:6} {rows:>8} rows by `ivr import` in {run.seconds:6.1f} s: "
        f"{rows / run.seconds:8.0f} rows/s, peak RSS {run.peak_mib:4.0f} MiB "
        f"(largest process {run.largest_mib:4.0f} MiB); {run.output} ({load_avg()})",
        flush=True,
    )


def service_env(url: str, workdir: Path) -> dict[str, str]:
    return dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        IVR_DATABASE_URL=url,
        IVR_PUBLIC_URL=webhooks_bench.PUBLIC,
        IVR_TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        IVR_TWILIO_AUTH_TOKEN=webhooks_bench.TOKEN,
        IVR_TWILIO_FROM_NUMBER="+551130000000",
        IVR_TWILIO_API_URL="http://127.0.0.1:9",
        IVR_SCHEDULER_ENABLED="false",
        IVR_CACHE_DIR=str(workdir / "cache"),
    )


def writer(db_file: str, stop: Any, results: Any) -> None:
    """The service's small writes, in their own process: one short transaction every 20 ms."""
    conn = sqlite3.connect(db_file, timeout=30, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=30000")
    campaign = conn.execute("SELECT id FROM campaigns WHERE name = 'bench'").fetchone()[0]
    waits: list[float] = []
    flip = failed = 0
    while not stop.is_set():
        started = time.perf_counter()
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE campaigns SET active = ? WHERE id = ?", (flip, campaign))
            conn.execute("COMMIT")
        except sqlite3.OperationalError:  # "database is locked" after the busy timeout
            failed += 1
        waits.append(time.perf_counter() - started)
        flip ^= 1
        time.sleep(0.02)
    conn.close()
    results.put((waits, failed))


async def run(backend: str, rows: int, csv_path: Path, workdir: Path, webhooks: float) -> None:
    async with database(backend, workdir) as url:
        engine = make_engine(url)
        async with make_sessionmaker(engine)() as s, s.begin():
            await ensure_campaign(s, "bench", "pt-BR")
        await engine.dispose()
        env = service_env(url, workdir)
        if webhooks and backend == "postgres":
            await with_webhooks(url, rows, csv_path, workdir, webhooks, env)
            return
        stop, results = mp.Event(), mp.Queue()  # type: ignore[var-annotated]
        proc = None
        if backend == "sqlite":
            proc = mp.Process(target=writer, args=(str(workdir / "bench.db"), stop, results))
            proc.start()
        try:
            for phase in PHASES:
                done = await asyncio.to_thread(run_import, csv_path, env, workdir)
                report(backend, phase, rows, done)
        finally:
            if proc is not None:
                stop.set()
                waits, failed = results.get(timeout=60)
                proc.join()
        if proc is not None and waits:
            ms = [w * 1000 for w in waits]
            print(
                f"{backend:8} concurrent writer: {len(ms)} writes, p50 {pct(ms, 0.5):.1f} ms, "
                f"p99 {pct(ms, 0.99):.1f} ms, max {max(ms):.1f} ms, failed {failed} ({load_avg()})"
            )


async def probe(port: int, rate: float, attempts: int, stop: asyncio.Event) -> list[float]:
    """Signed /twilio/status requests at ``rate`` per second until ``stop``: latencies in ms."""
    validator = RequestValidator(webhooks_bench.TOKEN)
    latencies: list[float] = []
    failures: list[int] = []

    async def one(i: int, http: aiohttp.ClientSession) -> None:
        attempt = i % attempts + 1
        path = f"/twilio/status?attempt={attempt}"
        params = {
            "CallSid": f"CA{attempt:032x}",
            "AccountSid": "AC" + "0" * 32,
            "CallStatus": "ringing",
            "SequenceNumber": str(i // attempts),
            "Direction": "outbound-api",
            "ApiVersion": "2010-04-01",
            "CallbackSource": "call-progress-events",
        }
        sig = validator.compute_signature(webhooks_bench.PUBLIC + path, params)
        started = time.perf_counter()
        async with http.post(
            f"http://127.0.0.1:{port}{path}", data=params, headers={"X-Twilio-Signature": sig}
        ) as r:
            await r.read()
            if r.status >= 300:
                failures.append(r.status)
                return
        latencies.append((time.perf_counter() - started) * 1000)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as http:
        tasks = []
        start = time.perf_counter()
        i = 0
        while not stop.is_set():
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, http)))
            i += 1
        await asyncio.gather(*tasks)
    if failures:
        raise RuntimeError(f"webhook failures: {failures[:5]} ({len(failures)} in all)")
    return latencies


async def probe_for(port: int, rate: float, seconds: float, attempts: int) -> list[float]:
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(seconds, stop.set)
    return await probe(port, rate, attempts, stop)


def summary(ms: list[float]) -> str:
    return f"{len(ms)} requests, p50 {pct(ms, 0.5):6.1f} ms, p99 {pct(ms, 0.99):6.1f} ms"


async def with_webhooks(
    url: str, rows: int, csv_path: Path, workdir: Path, rate: float, env: dict[str, str]
) -> None:
    """The service answers webhooks while ``ivr import`` runs in its own process."""
    attempts = 200
    await webhooks_bench.seed(url, attempts)
    port = free_port()
    serve = [sys.executable, "-m", "ivr.cli", "serve", "--keypad-only"]
    log = workdir / "service.log"
    with log.open("wb") as out:
        service = subprocess.Popen(  # noqa: ASYNC220 (started once, before the measurement)
            [*serve, "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        await wait_ready(port, service)
        await probe_for(port, rate, 3, attempts)  # warm-up
        idle = await probe_for(port, rate, IDLE_S, attempts)
        print(f"postgres webhooks at {rate:.0f}/s, idle:          {summary(idle)} ({load_avg()})")
        for phase in PHASES:
            stop = asyncio.Event()
            probing = asyncio.create_task(probe(port, rate, attempts, stop))
            try:
                done = await asyncio.to_thread(run_import, csv_path, env, workdir)
            finally:
                stop.set()
                try:
                    busy = await probing
                except RuntimeError:
                    print(log.read_text(errors="replace")[-4000:])
                    raise
            report("postgres", phase, rows, done)
            ratio = pct(busy, 0.99) / pct(idle, 0.99)
            print(
                f"postgres webhooks at {rate:.0f}/s, during {phase}: {summary(busy)}; "
                f"p99 {ratio:.1f}x idle ({load_avg()})",
                flush=True,
            )
    finally:
        service.terminate()
        service.wait(10)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="100000", help="file sizes, comma-separated")
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument(
        "--webhooks", type=float, default=0, help="PostgreSQL: webhook rate during the import"
    )
    ap.add_argument("--nice", type=int, default=0, help="run `ivr import` under nice -n N")
    args = ap.parse_args()
    if args.nice:
        global NICE
        NICE = ("nice", "-n", str(args.nice))
    print(f"{os.cpu_count()} cores, {load_avg()}", flush=True)
    for rows in (int(n) for n in args.rows.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            csv_path = Path(tmp) / "portfolio.csv"
            portfolio(csv_path, rows)
            for backend in args.backends.split(","):
                workdir = Path(tmp) / backend
                workdir.mkdir()
                await run(backend, rows, csv_path, workdir, args.webhooks)


if __name__ == "__main__":
    asyncio.run(main())
