"""IVR_CLOCK_OFFSET_SECONDS moves the one clock the service and the sandbox read."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ivr import clock
from ivr.sandbox import records
from ivr.store import models

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def restore_clock() -> Iterator[None]:
    yield
    clock.set_offset(0)


def test_offset_moves_service_and_sandbox_time(restore_clock: None) -> None:
    real = dt.datetime.now(dt.UTC)
    clock.set_offset(3 * 86400)
    for now in (
        clock.utcnow(),
        models.utcnow(),
        records.utcnow(),
        records.SandboxCall(sid="CA1", account_sid="AC1", to="+1", from_="+2").date_created,
    ):
        assert dt.timedelta(days=3) <= now - real < dt.timedelta(days=3, seconds=5)
        assert now.tzinfo is not None
    clock.set_offset(0)
    assert abs(models.utcnow() - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)


def test_cli_applies_the_setting_and_refuses_a_bad_one(tmp_path: Path) -> None:
    code = (
        "import sys, datetime as dt; from ivr import cli; from ivr.store import models;"
        "cli.cmd_migrate = lambda s, a: print((models.utcnow() - dt.datetime.now(dt.UTC)).days);"
        "sys.exit(cli.main(['migrate']))"
    )
    env = {
        "PYTHONPATH": str(ROOT),
        "IVR_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        "IVR_CLOCK_OFFSET_SECONDS": str(10 * 86400 + 60),
    }
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "10"
    env["IVR_CLOCK_OFFSET_SECONDS"] = "soon"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 2
    assert "IVR_CLOCK_OFFSET_SECONDS" in done.stderr
