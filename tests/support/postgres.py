"""The PostgreSQL server the tests need: where it is, whether it answers, what to do if not.

Half of the database tests run on PostgreSQL, and the concurrency tests only
there, so a missing server must stop a run with instructions rather than skip
those tests quietly (a green run would then say nothing about PostgreSQL).
tests/conftest.py checks once per session, before any test runs, and the
``run`` script checks before ruff and mypy (``python -m tests.support.postgres``)
so the answer comes first.
"""

from __future__ import annotations

import asyncio
import os
import sys

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
PG_ADMIN_URL = os.environ.get("IVR_TEST_POSTGRES_URL", DEFAULT_URL)
"""A database on the server, as a role that may CREATE DATABASE (test databases are cloned)."""


def pg_database_url(dbname: str) -> str:
    """The admin URL with its database replaced by ``dbname``."""
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{dbname}"


async def pg_exec(sql: str) -> None:
    """Run one statement on the admin database (CREATE/DROP DATABASE need no transaction)."""
    import asyncpg

    dsn = PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def pg_problem() -> str | None:
    """None if the server answers ``SELECT 1``; otherwise why not, in one line."""
    try:
        asyncio.run(pg_exec("SELECT 1"))
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def missing_postgres(problem: str) -> str:
    """What a developer reads when the server does not answer: the cause and three ways on."""
    return f"""PostgreSQL is not reachable at {PG_ADMIN_URL}
  ({problem})

The tests run every database test on SQLite and on PostgreSQL, and need a
server that lets the user in IVR_TEST_POSTGRES_URL connect without a password
(trust auth) and create databases. Default: {DEFAULT_URL}

Start one, either
  docker run -d --name ivr-test-postgres -p 127.0.0.1:5432:5432 \\
      -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16
or, on Debian/Ubuntu,
  sudo apt-get install -y postgresql
  # put this line above the other 'host' lines of
  # /etc/postgresql/*/main/pg_hba.conf, then: sudo service postgresql restart
  host all all 127.0.0.1/32 trust

Or point the tests at another server (a password in the URL works too):
  export IVR_TEST_POSTGRES_URL=postgresql+asyncpg://USER[:PASSWORD]@HOST:PORT/postgres

To run only the SQLite half on purpose: python -m pytest -m "not postgres"
"""


if __name__ == "__main__":
    found = pg_problem()
    if found is not None:
        print(missing_postgres(found), file=sys.stderr)
        sys.exit(1)
