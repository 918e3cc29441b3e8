"""A lost final status callback does not leave a person "in a call" for ever."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ivr.calls.dialer import SchedulerPort, dialer_from_app
from ivr.sandbox.app import Sandbox
from ivr.sandbox.config import SandboxConfig
from ivr.store.models import AttemptStatus, CallAttempt, Debtor, utcnow
from scheduler.dialer import Dialer
from tests.e2e.harness import running_service


async def test_silent_calls_are_settled_from_the_carrier(
    db_url: str, tmp_path: Path, tts_cache: Path
) -> None:
    async with (
        Sandbox(SandboxConfig(speed=20.0)) as sb,
        running_service(db_url, sb, tts_cache) as svc,
    ):
        dialer = dialer_from_app(svc.app)
        # A real call on the carrier that ends at once.
        sid = await dialer.carrier.create(
            to="+5511987654321",
            from_="+551130000000",
            url="https://elsewhere.example/hangup",
            status_callback="https://elsewhere.example/status",
            amd_callback=None,
        )
        await dialer.carrier.redirect(sid, twiml="<Response><Hangup/></Response>")
        ended = await sb.wait_for_call_end(sid, timeout=30)
        long_ago = utcnow() - dt.timedelta(hours=3)
        async with svc.sessions() as s, s.begin():
            d = Debtor(external_ref="R1", name="Maria")
            s.add(d)
            await s.flush()
            known = CallAttempt(
                debtor_id=d.id,
                to_number="+5511987654321",
                call_sid=sid,
                status=AttemptStatus.IN_PROGRESS,
                local_day=long_ago.date(),
                claimed_at=long_ago,
                placed_at=long_ago,
            )
            s.add(known)
            await s.flush()
            known_id = known.id
        async with svc.sessions() as s, s.begin():
            d2 = Debtor(external_ref="R2", name="João")
            s.add(d2)
            await s.flush()
            ghost = CallAttempt(
                debtor_id=d2.id,
                to_number="+5511987654322",
                call_sid="CA" + "f" * 32,
                status=AttemptStatus.RINGING,
                local_day=long_ago.date(),
                claimed_at=long_ago,
                placed_at=long_ago,
            )
            recent = CallAttempt(
                debtor_id=d2.id,
                to_number="+5511987654322",
                call_sid="CA" + "e" * 32,
                status=AttemptStatus.COMPLETED,
                local_day=long_ago.date(),
            )
            s.add_all([ghost, recent])
            await s.flush()
            ghost_id = ghost.id
        d = Dialer(svc.sessions, SchedulerPort(dialer))
        assert await d.reconcile_silent_calls() == 2
        async with svc.sessions() as s:
            a = await s.get(CallAttempt, known_id)
            assert a.status is AttemptStatus.COMPLETED
            assert a.duration_s == ended.duration
            assert a.outcome == "no_contact"
            g = await s.get(CallAttempt, ghost_id)
            assert g.status is AttemptStatus.FAILED
        assert await d.reconcile_silent_calls() == 0  # settled once
