"""Reminder SMS through the planner's job, on a moved clock, through the real
twilio library to the sandbox carrier's Messages resource, over a real
database (SQLite and PostgreSQL).

The promise is due on Thursday 26 Nov 2026 (São Paulo, UTC-3); the campaign
reminds one day before, inside the default Brazilian windows (08:00-20:00).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr import clock
from ivr.calls.dialer import CarrierDialer, SchedulerPort
from ivr.config import Settings
from ivr.messaging.outbox import SMS_STATUS_PATH, UNSUBSCRIBED
from ivr.sandbox.app import Sandbox
from ivr.sandbox.messages import SandboxMessage
from ivr.sandbox.testkit import ServiceStub
from ivr.store.messages import add_outbound
from ivr.store.models import Debt, Debtor, Promise, PromiseStatus, SmsMessage
from ivr.telephony.rest import TwilioCalls
from ivr.vocab.messages import SmsPurpose, SmsStatus
from scheduler import reminders as reminders_mod
from scheduler.payments import record_payment
from scheduler.planner import Scheduler
from tests.support.claims import make_campaign, make_debtor

D = dt.date(2026, 11, 26)  # Thursday
MOBILE = "+5511987654321"
FROM = "+551130000000"


def sp(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A São Paulo wall-clock time as UTC (no DST there since 2019)."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC) + dt.timedelta(
        hours=3
    )


def move_clock(to: dt.datetime) -> None:
    """Move the service's one clock (``ivr.clock``) so that it reads ``to`` now."""
    clock.set_offset((to - dt.datetime.now(dt.UTC)).total_seconds())


@dataclass
class Env:
    sched: Scheduler
    sandbox: Sandbox
    service: ServiceStub
    sessions: async_sessionmaker[AsyncSession]

    @property
    def sent(self) -> list[SandboxMessage]:
        """Every message the carrier accepted from the service, oldest first."""
        return [m for m in self.sandbox.sms.messages.values() if m.direction == "outbound-api"]

    async def run(self, at: dt.datetime) -> reminders_mod.ReminderReport:
        move_clock(at)
        return await self.sched.reminders()


@pytest.fixture
async def env(sessions, db_url: str, sandbox: Sandbox, service: ServiceStub) -> AsyncIterator[Env]:
    settings = Settings(
        database_url=db_url,
        public_url=service.url,
        twilio_account_sid=sandbox.account_sid,
        twilio_auth_token=sandbox.auth_token,
        twilio_from_number=FROM,
        twilio_api_url=sandbox.url,
    )
    twilio = TwilioCalls(sandbox.account_sid, sandbox.auth_token, api_url=sandbox.url)
    port = SchedulerPort(CarrierDialer(settings, twilio, sessions, voice=None))
    try:
        yield Env(Scheduler(settings, sessions, port, worker_id="t"), sandbox, service, sessions)
    finally:
        clock.set_offset(0)
        await twilio.close()


async def promise_for(
    sessions, *, date: dt.date = D, amount: int = 5_000, camp_kw=None, **debtor_kw
) -> tuple[int, int]:
    """A debtor with one open promise made five days before ``date``: (debtor, promise)."""
    async with sessions() as s, s.begin():
        camp = await make_campaign(s, **(camp_kw or {"reminder_days_before": 1}))
        d = await make_debtor(s, camp, **debtor_kw)
        p = Promise(
            debt_id=d.debts[0].id,
            promised_date=date,
            amount_cents=amount,
            created_at=sp(date - dt.timedelta(days=5), 10),
        )
        s.add(p)
        await s.flush()
        return d.id, p.id


async def reminders_of(sessions, promise_id: int) -> list[SmsMessage]:
    async with sessions() as s:
        rows = await s.scalars(
            select(SmsMessage).where(
                SmsMessage.promise_id == promise_id, SmsMessage.purpose == SmsPurpose.REMINDER
            )
        )
        return list(rows.all())


async def test_one_reminder_the_day_before_inside_the_window(env: Env) -> None:
    debtor_id, promise_id = await promise_for(env.sessions)
    two_days_before = await env.run(sp(D - dt.timedelta(days=2), 12))
    assert two_days_before.sent == 0 and env.sent == []
    early = await env.run(sp(D - dt.timedelta(days=1), 7, 30))  # before the window opens
    assert early.sent == 0 and early.held_codes == {"outside_window": 1}
    assert env.sent == []

    first = await env.run(sp(D - dt.timedelta(days=1), 12))
    assert first.sent == 1
    assert len(env.sent) == 1
    sent = env.sent[0]
    assert sent.to == MOBILE and sent.from_ == FROM
    assert sent.body == (
        "Loja: lembrete do pagamento de R$ 50,00 combinado para 26/11/2026. "
        "Responda SAIR para nao receber mais SMS."
    )
    assert sent.num_segments == 1  # plain GSM-7 characters: one part
    assert sent.status_callback is not None
    assert sent.status_callback.startswith(f"{env.service.url}{SMS_STATUS_PATH}?sms=")
    # The carrier takes it to the handset and reports each step, signed.
    assert (await env.sandbox.sms.wait_for_final(sent.sid)).status is SmsStatus.DELIVERED
    hooks = await env.service.wait_for(SMS_STATUS_PATH)
    assert hooks and all(h.signature_valid for h in hooks)

    again = await env.run(sp(D - dt.timedelta(days=1), 12, 5))
    on_the_day = await env.run(sp(D, 10))
    assert again.sent == on_the_day.sent == 0 and len(env.sent) == 1
    (row,) = await reminders_of(env.sessions, promise_id)
    assert row.debtor_id == debtor_id and row.status is SmsStatus.QUEUED
    assert row.message_sid and row.local_day == D - dt.timedelta(days=1)


async def test_outside_the_window_nothing_then_on_the_promised_day(env: Env) -> None:
    _, promise_id = await promise_for(env.sessions)
    # 20:30 on the day before: too late; the date has not passed, so the
    # reminder goes the next morning, and never after the date.
    assert (await env.run(sp(D - dt.timedelta(days=1), 20, 30))).sent == 0
    assert (await env.run(sp(D, 9))).sent == 1
    _, late_id = await promise_for(env.sessions, date=D - dt.timedelta(days=1))
    assert (await env.run(sp(D, 12))).sent == 0
    assert await reminders_of(env.sessions, late_id) == []
    assert len(await reminders_of(env.sessions, promise_id)) == 1


async def test_a_payment_cancels_the_reminder(env: Env) -> None:
    _, promise_id = await promise_for(env.sessions)
    async with env.sessions() as s, s.begin():
        debt_id = (await s.get(Promise, promise_id)).debt_id
        result = await record_payment(
            s,
            debt_id=debt_id,
            amount_cents=5_000,
            paid_on=D - dt.timedelta(days=2),
            payment_ref="pay-1",
            now=sp(D - dt.timedelta(days=2), 15),
        )
    assert result.promises_kept == 1
    assert (await env.run(sp(D - dt.timedelta(days=1), 12))).sent == 0
    assert env.sent == []


async def test_a_payment_between_reading_and_sending_is_seen(env: Env, monkeypatch) -> None:
    """The promise is re-read under its row lock: a payment recorded after the
    candidates were read still cancels the reminder."""
    _, promise_id = await promise_for(env.sessions)
    original = reminders_mod._reserve

    async def pay_then_reserve(sessions, pid, *args):
        async with sessions() as s, s.begin():
            debt_id = (await s.get(Promise, promise_id)).debt_id
            await record_payment(
                s, debt_id=debt_id, amount_cents=5_000, paid_on=D, payment_ref="p2"
            )
        return await original(sessions, pid, *args)

    monkeypatch.setattr(reminders_mod, "_reserve", pay_then_reserve)
    report = await env.run(sp(D - dt.timedelta(days=1), 12))
    assert report.sent == 0 and report.passed == 1 and env.sent == []


async def test_no_reminder_to_an_sms_opted_out_debtor(env: Env) -> None:
    debtor_id, _ = await promise_for(env.sessions)
    async with env.sessions() as s, s.begin():
        await s.execute(
            update(Debtor)
            .where(Debtor.id == debtor_id)
            .values(sms_opted_out_at=sp(D - dt.timedelta(days=4), 9))
        )
    assert (await env.run(sp(D - dt.timedelta(days=1), 12))).sent == 0
    assert env.sent == []


async def test_one_sms_a_day_per_debtor(env: Env) -> None:
    debtor_id, first = await promise_for(env.sessions)
    async with env.sessions() as s, s.begin():
        debt = (await s.scalars(select(Debt).where(Debt.debtor_id == debtor_id))).one()
        other = Debt(
            debtor_id=debtor_id,
            creditor="Loja",
            amount_cents=9_000,
            due_date=dt.date(2026, 2, 1),
            campaign_id=debt.campaign_id,
        )
        s.add(other)
        await s.flush()
        s.add(
            Promise(
                debt_id=other.id,
                promised_date=D,
                amount_cents=3_000,
                created_at=sp(D - dt.timedelta(days=5), 10),
            )
        )
    day_before = await env.run(sp(D - dt.timedelta(days=1), 12))
    assert day_before.sent == 1 and day_before.held_codes == {"sms_daily_cap": 1}
    assert (await env.run(sp(D - dt.timedelta(days=1), 16))).sent == 0
    # The next local day the cap is free again, and the date has not passed.
    assert (await env.run(sp(D, 9))).sent == 1
    assert len(env.sent) == 2
    assert {m.body.split(" de ")[1] for m in env.sent} == {
        "R$ 50,00 combinado para 26/11/2026. Responda SAIR para nao receber mais SMS.",
        "R$ 30,00 combinado para 26/11/2026. Responda SAIR para nao receber mais SMS.",
    }
    assert len(await reminders_of(env.sessions, first)) == 1


async def test_payment_details_sent_today_take_the_days_sms(env: Env) -> None:
    debtor_id, _ = await promise_for(env.sessions)
    async with env.sessions() as s, s.begin():
        await add_outbound(
            s,
            debtor_id=debtor_id,
            purpose=SmsPurpose.PAYMENT_DETAILS,
            to=MOBILE,
            from_=FROM,
            body="pix",
            local_day=D - dt.timedelta(days=1),
        )
    report = await env.run(sp(D - dt.timedelta(days=1), 12))
    assert report.sent == 0 and report.held_codes == {"sms_daily_cap": 1}


async def test_unsubscribed_at_the_carrier_stops_sms(env: Env) -> None:
    debtor_id, promise_id = await promise_for(env.sessions)
    # The carrier's opt-out list holds the pair (on Twilio: the recipient
    # replied STOP to this sender), so it refuses the send with 21610.
    env.sandbox.sms.unsubscribed.add((MOBILE, FROM))
    report = await env.run(sp(D - dt.timedelta(days=1), 12))
    assert report.refused == 1 and report.sent == 0
    (row,) = await reminders_of(env.sessions, promise_id)
    assert row.status is SmsStatus.FAILED and row.error_code == UNSUBSCRIBED
    async with env.sessions() as s:
        assert (await s.get(Debtor, debtor_id)).sms_opted_out_at is not None
    env.sandbox.sms.unsubscribed.discard((MOBILE, FROM))
    assert (await env.run(sp(D, 9))).sent == 0  # opted out now: not tried again


async def test_two_runs_at_once_send_one(env: Env) -> None:
    """Two replicas' jobs at the same instant (PostgreSQL: row locks, SKIP
    LOCKED and the unique index): one reminder."""
    _, promise_id = await promise_for(env.sessions)
    move_clock(sp(D - dt.timedelta(days=1), 12))
    reports = await asyncio.gather(env.sched.reminders(), env.sched.reminders())
    assert sum(r.sent for r in reports) == 1
    assert len(env.sent) == 1 and len(await reminders_of(env.sessions, promise_id)) == 1


async def test_the_store_refuses_a_second_live_reminder(sessions) -> None:
    debtor_id, promise_id = await promise_for(sessions)

    async def write(status: SmsStatus | None = None) -> None:
        async with sessions() as s, s.begin():
            row = await add_outbound(
                s,
                debtor_id=debtor_id,
                purpose=SmsPurpose.REMINDER,
                to=MOBILE,
                from_=FROM,
                body="x",
                local_day=D,
                promise_id=promise_id,
            )
            if status is not None:
                row.status = status

    await write(SmsStatus.FAILED)
    await write()  # a refused one does not count
    with pytest.raises(IntegrityError):
        await write()


async def test_a_campaign_without_reminders_sends_none(env: Env) -> None:
    await promise_for(env.sessions, camp_kw={"reminder_days_before": 0})
    assert (await env.run(sp(D - dt.timedelta(days=1), 12))).sent == 0


async def test_not_on_the_day_the_promise_was_made(env: Env) -> None:
    _, promise_id = await promise_for(env.sessions)
    async with env.sessions() as s, s.begin():
        await s.execute(
            update(Promise)
            .where(Promise.id == promise_id)
            .values(created_at=sp(D - dt.timedelta(days=1), 10), status=PromiseStatus.OPEN)
        )
    assert (await env.run(sp(D - dt.timedelta(days=1), 12))).sent == 0
    assert (await env.run(sp(D, 9))).sent == 1
