"""Calls the person places to the service's number, end to end through the sandbox.

Seen before: an inbound call from a known number was hung up on
(``/twilio/voice`` answered ``<Hangup/>`` to anything not ours).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from ivr.sandbox.app import Sandbox
from ivr.sandbox.callee import CalleeScript, Press, WaitForPrompt
from ivr.sandbox.config import SandboxConfig
from ivr.store.migrate import upgrade_async
from scheduler.windows import business_day_on_or_after
from tests.e2e.harness import call_in, import_rows, running_service

NUMBER = "+5511987650001"
ROW = f"IN-1001,Maria Souza,{NUMBER},150.00,2026-11-01,Loja Estrela,pt-BR,SP,,1985"


async def test_known_number_verifies_hears_the_balance_and_promises(
    tmp_path: Path, tts_cache: Path
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'ivr.db'}"
    await upgrade_async(db)
    today = dt.datetime.now(dt.UTC).astimezone(ZoneInfo("America/Sao_Paulo")).date()
    day = business_day_on_or_after(today + dt.timedelta(days=6), "BR", "SP")
    script = CalleeScript(
        steps=[
            WaitForPrompt(),  # welcome, then "am I speaking with Maria?"
            Press("1"),
            WaitForPrompt(),  # birth year, please
            Press("1985#"),
            WaitForPrompt(),  # notice
            WaitForPrompt(),  # the balance
            WaitForPrompt(),  # the menu: a date, 5, 6, 0...
            Press(f"{day.day:02d}{day.month:02d}#"),
            WaitForPrompt(),  # read-back
            Press("1"),
        ]
    )
    async with Sandbox(SandboxConfig(speed=8.0)) as sb, running_service(db, sb, tts_cache) as svc:
        await import_rows(svc, tmp_path, [ROW])
        seen = await call_in(sb, svc, script, NUMBER)
    call, attempt, promise, prompts = seen.call, seen.attempt, seen.promise, seen.prompts
    assert prompts[:3] == ["inbound_welcome", "inbound_confirm_name", "check_birth_year"], prompts
    assert "inbound_balance" in prompts and "promise_thanks" in prompts, prompts
    assert attempt.direction == "inbound"
    assert attempt.debtor_id is not None and attempt.verified_at is not None
    assert attempt.outcome == "promise"
    assert promise is not None and promise.promised_date == day
    assert promise.amount_cents == 15000
    assert call.status == "completed"


async def test_forged_caller_id_failing_the_factor_hears_nothing_of_the_debt(
    tmp_path: Path, tts_cache: Path
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'ivr.db'}"
    await upgrade_async(db)
    script = CalleeScript(
        steps=[
            WaitForPrompt(),
            Press("1"),  # "yes, I am Maria"
            WaitForPrompt(),
            Press("1990#"),
            WaitForPrompt(),
            Press("1991#"),
            WaitForPrompt(),
            Press("1992#"),
            WaitForPrompt(),
        ]
    )
    async with Sandbox(SandboxConfig(speed=8.0)) as sb, running_service(db, sb, tts_cache) as svc:
        await import_rows(svc, tmp_path, [ROW])
        seen = await call_in(sb, svc, script, NUMBER)
    attempt, promise, prompts = seen.attempt, seen.promise, seen.prompts
    assert prompts[-1] == "inbound_unverified", prompts
    said = seen.said
    assert "Estrela" not in said and "cento e cinquenta" not in said, said
    assert not {"inbound_balance", "notice_first", "reason"} & set(prompts)
    assert attempt.verified_at is None and promise is None
    assert attempt.outcome == "no_contact"
