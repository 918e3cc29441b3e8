"""SIGTERM drains ``ivr serve``: the live call finishes, unplaced claims go back, exit 0.

``ivr serve`` runs as its own process (as in production) against the sandbox
carrier running in the test. Its planner claims three debtors at once but
may dial only one every 20 s, so when the first call is live the other two
claims are still waiting for their turn: those must be given back, the live
call must end normally (the promise recorded), and ``/readyz`` must say 503
while the replica drains.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
from sqlalchemy import select

from ivr.demo import keypad_promise
from ivr.sandbox.app import Sandbox
from ivr.sandbox.config import SandboxConfig
from ivr.store.db import open_sessions
from ivr.store.importer import import_debtors
from ivr.store.migrate import upgrade_async
from ivr.store.models import AttemptStatus, CallAttempt, CallWindow, Campaign, Debtor, Promise
from scheduler.windows import business_day_on_or_after
from tests.e2e.harness import CSV_HEADER, FROM_NUMBER, PUBLIC, business_hours_offset

ROOT = Path(__file__).resolve().parents[2]
SERVE = [sys.executable, "-m", "ivr.cli", "serve", "--keypad-only"]
NUMBERS = ["+5511987650101", "+5511987650102", "+5511987650103"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _prepare(db_url: str, tmp_path: Path) -> None:
    await upgrade_async(db_url)
    csv = tmp_path / "portfolio.csv"
    rows = [
        f"D-{i},Pessoa Teste {i},{n},321.00,2026-11-01,Loja,pt-BR,SP,America/Sao_Paulo,"
        for i, n in enumerate(NUMBERS)
    ]
    csv.write_text(CSV_HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    async with open_sessions(db_url) as sessions:
        report = await import_debtors(sessions, csv)
        assert report.errors == []
        async with sessions() as s, s.begin():
            campaign = await s.scalar(select(Campaign))
            assert campaign is not None
            for day in range(7):  # open all day, every day (the legal hours still apply)
                s.add(
                    CallWindow(
                        campaign_id=campaign.id,
                        weekday=day,
                        start=dt.time(0, 0),
                        end=dt.time(23, 59, 59),
                    )
                )


async def _http_status(http: aiohttp.ClientSession, url: str) -> tuple[int, dict]:
    async with http.get(url) as r:
        return r.status, await r.json()


async def test_sigterm_lets_the_live_call_finish_and_releases_unplaced_claims(
    tmp_path: Path, tts_cache: Path
) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'ivr.db'}"
    await _prepare(db_url, tmp_path)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    offset = business_hours_offset()  # the replica's clock: a business hour
    promise_day = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset)).date()
    promise_day = business_day_on_or_after(promise_day + dt.timedelta(days=5), "BR", "SP")
    log_path = tmp_path / "serve.log"
    async with Sandbox(SandboxConfig(speed=2.0)) as sb, aiohttp.ClientSession() as http:
        for n in NUMBERS:
            sb.add_callee(n, keypad_promise(promise_day))
        sb.config.rewrite_base[PUBLIC] = base
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "IVR_DATABASE_URL": db_url,
            "IVR_PUBLIC_URL": PUBLIC,
            "IVR_TWILIO_ACCOUNT_SID": sb.account_sid,
            "IVR_TWILIO_AUTH_TOKEN": sb.auth_token,
            "IVR_TWILIO_FROM_NUMBER": FROM_NUMBER,
            "IVR_TWILIO_API_URL": sb.url,
            "IVR_CACHE_DIR": str(tts_cache),
            "IVR_ACCOUNT_CPS": "0.05",  # one call per 20 s: the 2nd and 3rd claims wait
            "IVR_SCHEDULER_TICK_SECONDS": "20",
            "IVR_DRAIN_TIMEOUT_SECONDS": "90",
            # The rule book keeps legal hours whatever the campaign's windows say.
            "IVR_CLOCK_OFFSET_SECONDS": str(offset),
        }
        with log_path.open("wb") as log_file:
            proc = subprocess.Popen(  # noqa: ASYNC220 (started once; polled below)
                [*SERVE, "--host", "127.0.0.1", "--port", str(port)],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log_file,
            )
            try:
                # The first claim is dialled at once and answered.
                deadline = time.monotonic() + 90
                live = None
                while live is None:
                    assert proc.poll() is None, log_path.read_text()
                    assert time.monotonic() < deadline, "no call was placed"
                    live = next(
                        (c for c in sb.calls.values() if c.status == "in-progress" and c.heard),
                        None,
                    )
                    await asyncio.sleep(0.05)
                assert len(sb.calls) == 1
                status, body = await _http_status(http, f"{base}/readyz")
                assert status == 200, body

                proc.send_signal(signal.SIGTERM)
                status, body = 0, {}
                for _ in range(100):
                    status, body = await _http_status(http, f"{base}/readyz")
                    if status == 503:
                        break
                    await asyncio.sleep(0.05)
                assert status == 503 and "draining" in body["failed"], body
                status, _ = await _http_status(http, f"{base}/healthz")
                assert status == 200

                ended = await sb.wait_for_call_end(live.sid, timeout=120)
                assert ended.status == "completed"
                code = await asyncio.to_thread(proc.wait, 60)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        assert code == 0, log_path.read_text()
        assert len(sb.calls) == 1, "nothing was dialled after SIGTERM"

    async with open_sessions(db_url) as sessions, sessions() as s:
        attempts = (await s.scalars(select(CallAttempt))).all()
        promises = (await s.scalars(select(Promise))).all()
        debtors = (await s.scalars(select(Debtor))).all()
    # The live call was not cut: it ran the whole conversation.
    assert len(attempts) == 1
    assert attempts[0].status is AttemptStatus.COMPLETED
    assert attempts[0].outcome == "promise"
    assert [p.promised_date for p in promises] == [promise_day]
    # No claim is stranded: the two unplaced ones are gone and their people due now.
    called = attempts[0].debtor_id
    now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset)
    for d in debtors:
        if d.id != called:
            assert d.next_attempt_at is not None
            at = d.next_attempt_at
            at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
            assert at <= now

    lines = []
    for raw in log_path.read_text().splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            lines.append(json.loads(raw))
    events = [x.get("event") for x in lines]
    assert "service.draining" in events and "service.drained" in events
    released = [x for x in lines if x.get("event") == "service.claims_released"]
    assert released and released[0]["n"] == 2
    text = log_path.read_text()
    assert "Running job" not in text and "BEGIN Twilio API Request" not in text
    assert all(n not in text for n in NUMBERS)
