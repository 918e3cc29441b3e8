"""The debtor's round trip end to end: the real service and the sandbox carrier
(calls and its Messages resource), on SQLite, one service per test.

1. A known number calls in, verifies by birth year, promises by keypad and
   accepts the SMS: the carrier receives a Pix code for the promised amount
   (decoded here from the BR Code spec, not by the product's reader), its
   status comes back signed until the store says delivered; the reminder job
   of that service sends one reminder on D-1 (clock moved), none after a payment.
2. SAIR from the debtor's phone: one confirmation reply, the debtor is opted
   out of SMS, and the reminder the job would send goes nowhere.
3. A number no debtor has presses 0 and an available agent is offered the call.
4. Two debtors share a phone: the caller picks the second by keypad, verifies,
   hears their creditor and amount, and never the other's.

The reminder's own rules (D-2 nothing, the window, once, a payment in between)
are proven through the sandbox by tests/integration/test_reminders.py.
"""

from __future__ import annotations

import asyncio
import binascii
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from ivr import clock
from ivr.calls.dialer import SchedulerPort, dialer_from_app
from ivr.messaging.sms_texts import reply_text
from ivr.sandbox.app import Sandbox
from ivr.sandbox.callee import CalleeScript, HangUp, Press, WaitForPrompt
from ivr.sandbox.config import SandboxConfig
from ivr.sandbox.messages import SandboxMessage
from ivr.store.creditors import CreditorPix, set_creditor_pix
from ivr.store.models import Debt, Debtor, Promise, SmsMessage, Transfer
from ivr.vocab.messages import SmsPurpose, SmsStatus
from scheduler.payments import record_payment
from scheduler.planner import Scheduler
from scheduler.reminders import ReminderReport
from scheduler.windows import business_day_on_or_after, is_business_day
from tests.e2e.harness import FROM_NUMBER, call_in, import_rows, running_service
from tests.support.agents import DesktopClient, agent_who_talks, agents_service, seed_agent

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

SPEED = 20.0  # 8 in the older e2e tests; keypad-only calls stay reliable at 20 (tried 24)
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
NUMBER = "+5511987650011"
MARIA = f"RT-1,Maria Souza,{NUMBER},150.00,2026-11-01,Loja Estrela,pt-BR,SP,,1985"
FIRST_QUESTION = """Keys pressed before the first question has started are not heard (the
welcome cannot be interrupted), and the sandbox hears a prompt that follows
another without a gap as one: so a caller waits for two prompts, and when the
question came straight after the welcome they answer it when it is asked again."""
PIX = CreditorPix("pix@lojaestrela.com.br", "LOJA ESTRELA", "SAO PAULO")


# ------------------------------------------------------------------ helpers


def promise_day() -> dt.date:
    """A business day at least six days ahead whose eve is a business day too
    (the reminder's D-1, inside the windows at noon)."""
    day = dt.datetime.now(SAO_PAULO).date() + dt.timedelta(days=6)
    while True:
        day = business_day_on_or_after(day, "BR", "SP")
        if is_business_day(day - dt.timedelta(days=1), "BR", "SP"):
            return day
        day += dt.timedelta(days=1)


def noon_before(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day - dt.timedelta(days=1), dt.time(12), SAO_PAULO)


async def run_reminders(svc, at: dt.datetime) -> ReminderReport:
    """The service's reminder job (as its scheduler runs it) with the clock at ``at``."""
    clock.set_offset((at - dt.datetime.now(dt.UTC)).total_seconds())
    job = Scheduler(svc.settings, svc.sessions, SchedulerPort(dialer_from_app(svc.app)))
    return await job.reminders()


@pytest.fixture
def moved_clock():
    yield
    clock.set_offset(0)


def tlv(text: str) -> dict[str, str]:
    """An EMV BR Code's fields: two-digit id, two-digit length, value, to the end."""
    fields, i = {}, 0
    while i < len(text):
        tag, size = text[i : i + 2], int(text[i + 2 : i + 4])
        fields[tag] = text[i + 4 : i + 4 + size]
        assert len(fields[tag]) == size, f"field {tag} is cut short"
        i += 4 + size
    return fields


def decode_pix(code: str) -> dict[str, str]:
    """Read a static Pix code as payments.md states it, checking its CRC first:
    CRC-16/CCITT-FALSE over everything up to and including "6304"."""
    assert code[-8:-4] == "6304", code
    crc = binascii.crc_hqx(code[:-4].encode("ascii"), 0xFFFF)
    assert f"{crc:04X}" == code[-4:], f"bad CRC in {code!r}"
    fields = tlv(code)
    tags = list(fields)
    assert tags[0] == "00" and tags[-1] == "63", tags
    return fields


def outbound(sb: Sandbox, to: str) -> list[SandboxMessage]:
    return [m for m in sb.sms.to(to) if m.direction == "outbound-api"]


async def stored_sms(svc, purpose: SmsPurpose) -> list[SmsMessage]:
    async with svc.sessions() as s:
        rows = await s.scalars(
            select(SmsMessage).where(SmsMessage.purpose == purpose).order_by(SmsMessage.id)
        )
        return list(rows.all())


# ------------------------------------------------------------------ the tests


async def test_promise_by_phone_gets_a_pix_sms_then_one_reminder_and_none_after_paying(
    db_url, tmp_path, tts_cache, moved_clock
) -> None:
    day = promise_day()
    script = CalleeScript(
        steps=[
            WaitForPrompt(),  # welcome (see FIRST_QUESTION)
            WaitForPrompt(),  # "am I speaking with Maria?"
            Press("1"),
            WaitForPrompt(),  # birth year
            Press("1985#"),
            WaitForPrompt(),  # notice
            WaitForPrompt(),  # the balance
            WaitForPrompt(),  # the menu
            Press(f"{day.day:02d}{day.month:02d}#"),
            WaitForPrompt(),  # read-back
            Press("1"),
            WaitForPrompt(),  # noted
            WaitForPrompt(),  # "may I send you the details to pay by SMS?"
            Press("1"),
        ]
    )
    async with (
        Sandbox(SandboxConfig(speed=SPEED)) as sb,
        running_service(db_url, sb, tts_cache) as svc,
    ):
        await import_rows(svc, tmp_path, [MARIA])
        async with svc.sessions() as s, s.begin():
            await set_creditor_pix(s, "Loja Estrela", PIX)
        seen = await call_in(sb, svc, script, NUMBER)
        assert "ask_sms_consent" in seen.prompts, seen.prompts
        promise = seen.promise
        assert promise is not None and promise.promised_date == day
        assert promise.amount_cents == 15_000

        # The carrier got the payment message, from our number, with a Pix code.
        [sms] = await sb.sms.wait_for(NUMBER, timeout=60)
        assert sms.from_ == FROM_NUMBER and sms.direction == "outbound-api"
        assert sms.body.startswith("Loja Estrela"), sms.body
        pix = decode_pix(sms.body[sms.body.index("000201") :])
        assert pix["54"] == "150.00" and pix["53"] == "986" and pix["58"] == "BR"
        assert tlv(pix["26"]) == {"00": "br.gov.bcb.pix", "01": PIX.key}
        assert (pix["59"], pix["60"]) == (PIX.merchant_name, PIX.city)
        assert tlv(pix["62"])["05"] == f"PRM{promise.id:010d}"  # the txid names the promise
        # Its status comes back (signed) until the store says delivered.
        assert (await sb.sms.wait_for_final(sms.sid)).status is SmsStatus.DELIVERED
        assert sms.status_callbacks and all(cb.status == 204 for cb in sms.status_callbacks), (
            sms.status_callbacks
        )
        [row] = await stored_sms(svc, SmsPurpose.PAYMENT_DETAILS)
        assert (row.message_sid, row.promise_id, row.attempt_id) == (
            sms.sid,
            promise.id,
            seen.attempt.id,
        )
        assert row.status is SmsStatus.DELIVERED

        # D-1 at noon: the service's reminder job writes once.
        first = await run_reminders(svc, noon_before(day))
        assert first.sent == 1, first
        reminders = outbound(sb, NUMBER)[1:]
        assert len(reminders) == 1 and "lembrete" in reminders[0].body
        assert "150,00" in reminders[0].body and f"{day:%d/%m/%Y}" in reminders[0].body

        async with svc.sessions() as s, s.begin():
            paid = await record_payment(
                s,
                debt_id=promise.debt_id,
                amount_cents=15_000,
                paid_on=day - dt.timedelta(days=1),
                payment_ref="rt-pay-1",
            )
        assert paid.promises_kept == 1
        again = await run_reminders(svc, noon_before(day) + dt.timedelta(minutes=30))
        assert again.sent == 0 and len(outbound(sb, NUMBER)) == 2


NEIGHBOUR = "+5511987650033"
ANA = f"RT-4,Ana Lima,{NEIGHBOUR},80.00,2026-11-01,Loja Estrela,pt-BR,SP,,1979"


async def test_sair_opts_the_debtor_out_and_their_due_reminder_stays_home(
    db_url, tmp_path, tts_cache, moved_clock
) -> None:
    day = promise_day()
    async with (
        Sandbox(SandboxConfig(speed=SPEED)) as sb,
        running_service(db_url, sb, tts_cache) as svc,
    ):
        await import_rows(svc, tmp_path, [MARIA, ANA])
        async with svc.sessions() as s, s.begin():
            for debt in (await s.scalars(select(Debt))).all():  # both promised to pay on ``day``
                s.add(
                    Promise(
                        debt_id=debt.id,
                        promised_date=day,
                        amount_cents=debt.amount_cents,
                        created_at=noon_before(day) - dt.timedelta(days=3),
                    )
                )

        inbound = await sb.send_inbound_sms(from_=NUMBER, to=FROM_NUMBER, body="SAIR")
        [hook] = inbound.callbacks
        assert hook.status == 200 and not inbound.errors, (hook, inbound.errors)
        [reply] = sb.sms.replies_to(inbound.sid)
        assert reply.direction == "outbound-reply" and (reply.from_, reply.to) == (
            FROM_NUMBER,
            NUMBER,
        )
        assert reply.body == reply_text(SmsPurpose.OPT_OUT_CONFIRMATION, "pt-BR")
        async with svc.sessions() as s:
            maria = await s.scalar(select(Debtor).where(Debtor.external_ref == "RT-1"))
        assert maria is not None and maria.sms_opted_out_at is not None

        # D-1 at noon both reminders are due: only the neighbour's goes.
        report = await run_reminders(svc, noon_before(day))
        assert report.sent == 1, report
        assert len(outbound(sb, NEIGHBOUR)) == 1 and outbound(sb, NUMBER) == []
        assert [r.to_number for r in await stored_sms(svc, SmsPurpose.REMINDER)] == [NEIGHBOUR]
        assert [m.sid for m in sb.sms.to(NUMBER)] == [reply.sid]  # the confirmation, only


UNKNOWN = "+5511987650099"


async def test_a_number_nobody_has_presses_zero_and_an_agent_is_offered_the_call(
    db_url, tmp_path, tts_cache
) -> None:
    async with (
        Sandbox(SandboxConfig(speed=SPEED)) as sb,
        agents_service(db_url, sb, tts_cache) as svc,
    ):
        await import_rows(svc, tmp_path, [MARIA])  # type: ignore[arg-type]
        ana = await seed_agent(svc.sessions, "ana")
        # Ana hears the whisper, talks with the caller a while, and hangs up.
        sb.add_callee(ana.endpoint, agent_who_talks(30))
        # The welcome, then "key your reference, or 0 for a person" (see FIRST_QUESTION).
        script = CalleeScript(steps=[WaitForPrompt(), WaitForPrompt(), Press("0")])
        async with DesktopClient(svc.url, ana.api_key) as desk:
            seen = asyncio.create_task(call_in(sb, svc, script, UNKNOWN))
            offer = await desk.wait_for(lambda m: m["type"] == "offer", timeout=45)
            pop = offer["pop"]
            assert pop["transfer"]["reason"] == "asked_for_agent"
            assert pop["debtor"] is None and pop["debt"] is None  # nobody was identified
            assert pop["caller"]["number"] == UNKNOWN
            await desk.wait_for(lambda m: m["type"] == "connected", timeout=60)
            await desk.wait_for(lambda m: m["type"] == "ended", timeout=60)
            call = await seen
        assert call.prompts[0] == "inbound_welcome" and call.attempt.debtor_id is None
        assert "Estrela" not in call.said and "cento e cinquenta" not in call.said
        [leg] = sb.calls_to(ana.endpoint)
        assert leg.parent_call_sid == call.call.sid
        async with svc.sessions() as s:
            row = await s.scalar(select(Transfer).where(Transfer.attempt_id == call.attempt.id))
        assert row is not None and row.agent_id == ana.id and row.answered_at is not None


SHARED = "+5511987650022"
FAMILY = [
    f"RT-2,Maria Souza,{SHARED},150.00,2026-11-01,Loja Estrela,pt-BR,SP,,1985",
    f"RT-3,João Lima,{SHARED},320.00,2026-10-15,Banco Aurora,pt-BR,SP,,1990",
]


async def test_two_people_on_one_phone_the_caller_picks_the_second_and_hears_only_theirs(
    db_url, tmp_path, tts_cache
) -> None:
    script = CalleeScript(
        steps=[
            WaitForPrompt(),  # welcome (see FIRST_QUESTION)
            WaitForPrompt(),  # "who is speaking? 1 for Maria, 2 for João"
            Press("2"),
            WaitForPrompt(),  # João's birth year
            Press("1990#"),
            WaitForPrompt(),  # notice
            WaitForPrompt(),  # the balance
            HangUp(),
        ]
    )
    async with (
        Sandbox(SandboxConfig(speed=SPEED)) as sb,
        running_service(db_url, sb, tts_cache) as svc,
    ):
        await import_rows(svc, tmp_path, FAMILY)
        seen = await call_in(sb, svc, script, SHARED)
        async with svc.sessions() as s:
            joao = await s.scalar(select(Debtor).where(Debtor.external_ref == "RT-3"))
    assert joao is not None
    choose = next(
        e.data["text"] for e in seen.events if e.data.get("prompt_id") == "inbound_choose_person"
    )
    assert "1 para Maria" in choose and "2 para João" in choose, choose
    assert "inbound_balance" in seen.prompts, seen.prompts
    assert seen.attempt.debtor_id == joao.id and seen.attempt.verified_at is not None
    said = seen.said
    assert "Banco Aurora" in said and "trezentos e vinte" in said, said
    assert "Estrela" not in said and "cento e cinquenta" not in said, said
