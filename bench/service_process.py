"""Start ``ivr serve`` as its own process for a benchmark and wait until it answers."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO

import aiohttp
import asyncpg

from ivr.store.migrate import upgrade_async

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def dsn(admin: str, db: str) -> str:
    """The libpq URL of database ``db`` on the server ``admin`` points at."""
    base, _, _ = admin.rpartition("/")
    return f"{base}/{db}"


async def new_migrated_database(admin: str, db: str) -> str:
    """Drop and create ``db`` on ``admin``'s server, migrate it, return its URL
    (the big benches fill it themselves and keep it by name between runs)."""
    conn = await asyncpg.connect(admin)
    await conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    await conn.execute(f'CREATE DATABASE "{db}"')
    await conn.close()
    url = dsn(admin, db)
    await upgrade_async(url.replace("postgresql://", "postgresql+asyncpg://"))
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_ready(port: int, proc: subprocess.Popen[bytes], tries: int = 600) -> None:
    """Poll /healthz every 100 ms; fail at once if the service exits."""
    async with aiohttp.ClientSession() as http:
        for _ in range(tries):
            if proc.poll() is not None:
                raise RuntimeError("service exited during start-up")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                    if r.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError("service did not start")


def spawn_service(
    env: dict[str, str],
    port: int,
    cwd: Path,
    log: IO[bytes] | int = subprocess.DEVNULL,
    launcher: tuple[str, ...] = ("-m", "ivr.cli"),
) -> subprocess.Popen[bytes]:
    """``ivr serve`` on 127.0.0.1:``port`` in its own process, stderr to ``log``
    (``launcher``: how Python starts the command line, e.g. a script wrapping it)."""
    return subprocess.Popen(
        [sys.executable, *launcher, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )


def stop_service(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM (the service drains: live calls get up to a minute), then kill."""
    proc.terminate()
    try:
        proc.wait(75)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


@contextlib.asynccontextmanager
async def database(backend: str, workdir: Path) -> AsyncIterator[str]:
    """A migrated throw-away database for one benchmark run: its URL."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        await upgrade_async(url)
        yield url
        return
    name = f"ivr_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(PG_ADMIN)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    try:
        await upgrade_async(url)
        yield url
    finally:
        conn = await asyncpg.connect(PG_ADMIN)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()
