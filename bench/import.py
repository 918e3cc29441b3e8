"""Debtor import throughput, and how long a concurrent writer waits on SQLite.

For each backend: a fresh database, an import of N new debtors, then the
same file again (N updates). Prints rows/s for both. On SQLite a second
process plays the running service: a small write transaction every 20 ms
through the standard sqlite3 module (same busy timeout as the service),
and the wait of each one is reported (p50, p99, max).

    .venv/bin/python bench/import.py [--rows 100000] [--backends sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.service_process import database  # noqa: E402
from ivr.store.db import make_engine, make_sessionmaker  # noqa: E402
from ivr.store.importer import ensure_campaign, import_debtors  # noqa: E402


def portfolio(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("external_ref,name,phone,amount,due_date,creditor,locale,region\n")
        for i in range(rows):
            phones = f"+55119{i:08d}" + (f";+55219{i:08d}" if i % 3 == 0 else "")
            out.write(
                f"B{i},Pessoa {i} Souza,{phones},{10 + i % 900}.50,2026-12-01,Loja,pt-BR,SP\n"
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


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(backend: str, rows: int, csv_path: Path, workdir: Path) -> None:
    async with database(backend, workdir) as url:
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        async with sessions() as s, s.begin():
            await ensure_campaign(s, "bench", "pt-BR")
        stop, results = mp.Event(), mp.Queue()  # type: ignore[var-annotated]
        proc = None
        if backend == "sqlite":
            proc = mp.Process(target=writer, args=(str(workdir / "bench.db"), stop, results))
            proc.start()
        waits: list[float] = []
        failed = 0
        try:
            for phase in ("insert", "update"):
                started = time.perf_counter()
                report = await import_debtors(sessions, csv_path, campaign="bench")
                took = time.perf_counter() - started
                assert report.ok == rows and not report.errors, report.errors[:3]
                print(
                    f"{backend:8} {phase:6} {rows} rows in {took:6.1f} s: {rows / took:8.0f} rows/s"
                )
        finally:
            if proc is not None:
                stop.set()
                waits, failed = results.get(timeout=60)
                proc.join()
            await engine.dispose()
        if waits:
            ms = [w * 1000 for w in waits]
            print(
                f"{backend:8} concurrent writer: {len(ms)} writes, p50 {pct(ms, 0.5):.1f} ms, "
                f"p99 {pct(ms, 0.99):.1f} ms, max {max(ms):.1f} ms, failed {failed}"
            )


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--backends", default="sqlite,postgres")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "portfolio.csv"
        portfolio(csv_path, args.rows)
        for backend in args.backends.split(","):
            workdir = Path(tmp) / backend
            workdir.mkdir()
            await run(backend, args.rows, csv_path, workdir)


if __name__ == "__main__":
    asyncio.run(main())
