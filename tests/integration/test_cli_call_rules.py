"""``ivr call`` as a supervisor runs it: the dialer's rule book, reasons, overrides.

A real ``ivr call`` process against a real database (SQLite and PostgreSQL)
and the sandbox carrier. The wall clock cannot be moved for a child process,
so each debtor is given a fixed-offset zone (``Etc/GMT±N``) in which *now* is
the local hour the case needs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ivr.sandbox.app import Sandbox
from ivr.sandbox.config import SandboxConfig
from ivr.store.db import make_engine, make_sessionmaker
from ivr.store.models import AttemptStatus, CallAttempt, CallEvent, Debtor
from ivr.web.api_debtors import attempts_out
from scheduler.explain import explain
from scheduler.windows import is_holiday
from tests.support.claims import make_campaign, make_debtor

US_NUMBER = "+12125550123"
BR_NUMBER = "+5511987654321"


def zone_where_now_is(hours: range, country: str, weekdays: range = range(7)) -> str:
    """A fixed-offset zone in which the current local hour is in ``hours`` on a working day."""
    now = dt.datetime.now(dt.UTC)
    for offset in range(-12, 15):
        name = "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"
        local = now.astimezone(ZoneInfo(name))
        if (
            local.hour in hours
            and local.weekday() in weekdays
            and not is_holiday(local.date(), country)
        ):
            return name
    raise AssertionError(f"no zone where the hour is in {hours}")


@dataclass
class Run:
    code: int
    out: str
    err: str


async def ivr_call(db_url: str, sb: Sandbox, cwd: Path, *args: str, **env: str) -> Run:
    """Run ``ivr call`` in a child process (without blocking the sandbox's loop)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
    clean.update(
        IVR_DATABASE_URL=db_url,
        IVR_PUBLIC_URL="https://ivr.example",
        IVR_TWILIO_ACCOUNT_SID=sb.account_sid,
        IVR_TWILIO_AUTH_TOKEN=sb.auth_token,
        IVR_TWILIO_FROM_NUMBER="+551130000000",
        IVR_TWILIO_API_URL=sb.url,
        IVR_CACHE_DIR=str(cwd / "cache"),
        **env,
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ivr.cli",
        "call",
        *args,
        cwd=cwd,
        env=clean,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return Run(proc.returncode, out.decode(), err.decode())


async def test_call_refused_over_the_cap_and_outside_the_window_override_recorded(
    db_url: str, tmp_path: Path
) -> None:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    now = dt.datetime.now(dt.UTC)
    try:
        async with sessions() as s, s.begin():
            us = await make_campaign(s, country="US", locale="en-US", daily_cap=2)
            us_zone = zone_where_now_is(range(10, 19), "US")
            # Midday in the debtor's zone: inside the window, two calls already today.
            capped = await make_debtor(
                s,
                us,
                phones=[US_NUMBER],
                country="US",
                region="NY",
                timezone=us_zone,
                ref="CAPPED",
            )
            for minutes in (30, 20):
                s.add(
                    CallAttempt(
                        debtor_id=capped.id,
                        debt_id=capped.debts[0].id,
                        phone_id=capped.phones[0].id,
                        campaign_id=us.id,
                        to_number=US_NUMBER,
                        status=AttemptStatus.NO_ANSWER,
                        # The debtor's own day: before 07:00 UTC it is yesterday there.
                        local_day=now.astimezone(ZoneInfo(us_zone)).date(),
                        claimed_at=now - dt.timedelta(minutes=minutes),
                        ended_at=now - dt.timedelta(minutes=minutes - 1),
                    )
                )
            br = await make_campaign(s, country="BR")
            night = await make_debtor(
                s,
                br,
                phones=[BR_NUMBER],
                timezone=zone_where_now_is(range(1, 5), "BR"),
                ref="NIGHT",
            )
            capped_id, night_id = capped.id, night.id

        async with Sandbox(SandboxConfig(speed=20.0)) as sb:
            # Over the daily cap and inside the gap: refused, with explain's words.
            r = await ivr_call(db_url, sb, tmp_path, "CAPPED")
            assert r.code == 1, (r.out, r.err)
            async with sessions() as s:
                why = await explain(s, capped_id, dt.datetime.now(dt.UTC))
            assert set(why.codes) == {"daily_cap", "min_gap"}
            for reason in why.reasons:
                assert f"{reason.code}: {reason.message}" in r.err
            assert "Traceback" not in r.err and not sb.calls

            # Outside every window at night: refused, and an override cannot pass it.
            r = await ivr_call(db_url, sb, tmp_path, "NIGHT")
            assert r.code == 1 and "outside_window: outside the call window" in r.err
            r = await ivr_call(
                db_url, sb, tmp_path, "NIGHT", "--override-caps", "--reason", "asked", "--by", "ana"
            )
            assert r.code == 1 and "outside_window" in r.err, (r.out, r.err)
            assert not sb.calls

            # An override needs a reason.
            r = await ivr_call(db_url, sb, tmp_path, "CAPPED", "--override-caps")
            assert r.code != 0 and "--reason" in r.err and not sb.calls

            # With a reason it passes the caps and the gap, and is recorded.
            r = await ivr_call(
                db_url,
                sb,
                tmp_path,
                "CAPPED",
                "--override-caps",
                "--reason",
                "debtor asked to be called now",
                "--by",
                "ana",
            )
            assert r.code == 0, (r.out, r.err)
            assert [c.to for c in sb.calls.values()] == [US_NUMBER]

        async with sessions() as s:
            attempts = (
                await s.scalars(
                    select(CallAttempt)
                    .where(CallAttempt.debtor_id == capped_id)
                    .order_by(CallAttempt.id)
                )
            ).all()
            assert len(attempts) == 3
            last = attempts[-1]
            assert last.override_by == "ana"
            assert last.override_reason == "debtor asked to be called now"
            assert set((last.override_codes or "").split(",")) == {"daily_cap", "min_gap"}
            assert last.call_sid and last.call_sid in r.out
            event = await s.scalar(
                select(CallEvent).where(
                    CallEvent.attempt_id == last.id, CallEvent.kind == "caps_overridden"
                )
            )
            assert event is not None and event.data["by"] == "ana"
            shown = (await attempts_out(s, [last]))[0]
            assert shown.override is not None
            assert shown.override.by == "ana" and shown.override.at == last.claimed_at
            assert set(shown.override.waived) == {"daily_cap", "min_gap"}
            nobody = await s.scalar(select(CallAttempt).where(CallAttempt.debtor_id == night_id))
            assert nobody is None
            assert await s.get(Debtor, night_id) is not None
    finally:
        await engine.dispose()


async def test_override_is_recorded_with_the_os_user_by_default(
    db_url: str, tmp_path: Path
) -> None:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as s, s.begin():
            us = await make_campaign(s, country="US", locale="en-US")
            await make_debtor(
                s,
                us,
                phones=[US_NUMBER],
                country="US",
                region="NY",
                timezone=zone_where_now_is(range(10, 19), "US"),
                ref="FREE",
            )
        async with Sandbox(SandboxConfig(speed=20.0)) as sb:
            r = await ivr_call(
                db_url, sb, tmp_path, "FREE", "--override-caps", "--reason", "test",
                USER="carla", LOGNAME="carla",
            )  # fmt: skip
            assert r.code == 0, r.err
        async with sessions() as s:
            a = await s.scalar(select(CallAttempt))
            assert a is not None and a.override_reason == "test"
            assert a.override_by == "carla" and a.override_codes == ""
    finally:
        await engine.dispose()
