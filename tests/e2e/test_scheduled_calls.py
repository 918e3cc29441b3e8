"""The scheduler drives real calls through the service's carrier port and the sandbox.

The clock is fixed inside the Brazilian window (a Wednesday afternoon in
São Paulo), so the test does not depend on when it runs.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ivr.calls.dialer import SchedulerPort, dialer_from_app
from ivr.sandbox.app import Sandbox
from ivr.sandbox.callee import CalleeScript, Press, WaitForPrompt
from ivr.sandbox.config import SandboxConfig
from ivr.store.models import CallAttempt
from scheduler.planner import Scheduler
from tests.e2e.harness import import_rows, running_service

WEDNESDAY_AFTERNOON = dt.datetime(2026, 11, 25, 14, 0, tzinfo=ZoneInfo("America/Sao_Paulo"))
SUNDAY = dt.datetime(2026, 11, 22, 14, 0, tzinfo=ZoneInfo("America/Sao_Paulo"))


async def test_tick_places_calls_inside_the_window_only(
    db_url: str, tmp_path: Path, tts_cache: Path
) -> None:
    numbers = ["+5511987650001", "+5511987650002"]
    async with (
        Sandbox(SandboxConfig(speed=8.0)) as sb,
        running_service(db_url, sb, tts_cache) as svc,
    ):
        await import_rows(
            svc,
            tmp_path,
            [
                f"S-{i},Pessoa {i},{n},99.90,2026-11-01,Loja,pt-BR,SP,America/Sao_Paulo,"
                for i, n in enumerate(numbers)
            ],
        )
        for n in numbers:
            sb.add_callee(
                n, CalleeScript(steps=[WaitForPrompt(), Press("2"), WaitForPrompt(), Press("2")])
            )
        port = SchedulerPort(dialer_from_app(svc.app))

        # Each scheduler's account pacer holds a connection of its own (on
        # PostgreSQL) once it has dialed: stopped here, as the service stops its own.
        sunday = Scheduler(svc.settings, svc.sessions, port, clock=lambda: SUNDAY)
        now = WEDNESDAY_AFTERNOON.astimezone(dt.UTC)
        sched = Scheduler(svc.settings, svc.sessions, port, clock=lambda: now)
        try:
            report = await sunday.tick()
            assert report.claims == [], "never on a Sunday"

            report = await sched.tick()
            assert len(report.claims) == 2
            outcomes = await sched.drain()
            assert sorted(o.result for o in outcomes) == ["placed", "placed"]
            for n in numbers:
                call = await sb.wait_for_call(n)
                await sb.wait_for_call_end(call.sid, timeout=90)
            # Same instant again: a call just happened (minimum gap), nothing to claim.
            again = await sched.tick()
            assert again.claims == []
            async with svc.sessions() as s:
                attempts = (await s.scalars(select(CallAttempt))).all()
            assert len(attempts) == 2
            assert {a.outcome for a in attempts} == {"wrong_party"}
            assert all(a.status.value == "completed" for a in attempts)
        finally:
            await sunday.stop()
            await sched.stop()
