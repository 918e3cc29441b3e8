"""A running service keeps writing while ``ivr import`` loads a big file on SQLite.

Seen: an import of 12,000 rows held one write transaction for 69 s, and the
service's writes failed after waiting 30 s. The import now commits in small
batches and leaves gaps, so another writer waits a few tens of milliseconds.
This is a functional check with a generous bound; bench/import.py measures.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import time
from pathlib import Path

from sqlalchemy import update

from ivr.store.db import make_engine, make_sessionmaker
from ivr.store.models import Campaign

ROWS = 6000
MAX_WAIT_S = 1.0


def portfolio(path: Path, rows: int) -> None:
    lines = ["external_ref,name,phone,amount,due_date,creditor"]
    for i in range(rows):
        lines.append(f"C{i},Pessoa {i},+55119{i:08d},{10 + i % 90}.50,2026-12-01,Loja")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


async def test_store_writes_never_wait_long_during_an_import(
    sqlite_template: Path, tmp_path: Path
) -> None:
    db_path = tmp_path / "ivr.db"
    await asyncio.to_thread(shutil.copyfile, sqlite_template, db_path)
    url = f"sqlite+aiosqlite:///{db_path}"
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    async with sessions() as s, s.begin():
        s.add(Campaign(name="live"))
    csv_path = tmp_path / "big.csv"
    portfolio(csv_path, ROWS)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
    env.update(IVR_DATABASE_URL=url, IVR_CACHE_DIR=str(tmp_path / "cache"))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "ivr.cli", "import", str(csv_path)),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    finished = asyncio.ensure_future(proc.communicate())
    waits: list[float] = []
    try:
        while not finished.done():
            started = time.perf_counter()
            async with sessions() as s, s.begin():
                await s.execute(
                    update(Campaign)
                    .where(Campaign.name == "live")
                    .values(active=len(waits) % 2 == 0)
                )
            waits.append(time.perf_counter() - started)
            await asyncio.sleep(0.02)
        out, err = (b.decode() for b in await finished)
    finally:
        if proc.returncode is None:
            proc.kill()
        await engine.dispose()
    assert proc.returncode == 0, err
    assert f"imported {ROWS} new" in out
    assert len(waits) > 10, "the import finished before the writer could overlap it"
    assert max(waits) < MAX_WAIT_S, f"a write waited {max(waits):.2f}s (of {len(waits)} writes)"
