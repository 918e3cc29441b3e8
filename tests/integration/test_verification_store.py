"""What a call's identity answers do to the store, on SQLite and PostgreSQL:
a reported death stops every contact and waits for a supervisor; an opt-out
before verification stops the number, after it the person."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ivr.calls.call_end import WRITES_END_LIMIT_S
from ivr.calls.context import DebtorCalendar, load_call_setup
from ivr.calls.recorder import CallRecorder
from ivr.dialog import events as ev
from ivr.document_digits import hash_document, tail_matches
from ivr.store.models import (
    AttemptStatus,
    CallAttempt,
    Callback,
    CallbackStatus,
    CallEvent,
    Debtor,
    DebtorReview,
    DebtorStatus,
    NumberOptOut,
    ReviewKind,
)
from ivr.store.reviews import open_reviews
from scheduler.claim import claim_batch
from scheduler.explain import explain
from tests.support.claims import make_campaign, make_debtor

T0 = dt.datetime(2026, 11, 24, 13, 0, tzinfo=dt.UTC)  # Tuesday 10:00 in São Paulo
MOBILE = "+5511987654321"
OTHER = "+5511976543210"
CALENDAR = DebtorCalendar(ZoneInfo("America/Sao_Paulo"), "BR", "SP", 2)


async def _answered_call(sessions, debtor_id: int, phone_id: int, to: str = MOBILE) -> int:
    """A finished call to the debtor, as the recorder finds it mid-conversation."""
    async with sessions() as s, s.begin():
        attempt = CallAttempt(
            debtor_id=debtor_id,
            phone_id=phone_id,
            to_number=to,
            status=AttemptStatus.COMPLETED,
            local_day=T0.date(),
            claimed_at=T0 - dt.timedelta(days=1),
            ended_at=T0 - dt.timedelta(days=1),
            outcome="wrong_party",
        )
        s.add(attempt)
        await s.flush()
        return attempt.id


async def _persist(sessions, attempt_id: int, *actions: ev.Action) -> None:
    recorder = CallRecorder(sessions, attempt_id, "CA" + "0" * 32, on_failure=lambda: None)
    recorder.calendar = CALENDAR
    try:
        for action in actions:
            await recorder.persist(action)
    finally:
        assert await recorder.close(WRITES_END_LIMIT_S)  # everything queued was written


async def test_a_reported_death_stops_every_contact_and_opens_a_review(sessions) -> None:
    async with sessions() as s, s.begin():
        camp = await make_campaign(s, min_gap_minutes=0)
        d = await make_debtor(s, camp, phones=(MOBILE, OTHER))
        debtor_id, phone_id = d.id, d.phones[0].id
        s.add(Callback(debtor_id=debtor_id, due_at=T0 + dt.timedelta(hours=1)))
    attempt_id = await _answered_call(sessions, debtor_id, phone_id)

    await _persist(sessions, attempt_id, ev.ReportDeceased())

    async with sessions() as s:
        debtor = await s.get(Debtor, debtor_id)
        assert debtor is not None and debtor.status is DebtorStatus.DECEASED_REVIEW
        assert debtor.opted_out_at is None  # not an opt-out: a case for review
        callbacks = (await s.scalars(select(Callback.status))).all()
        assert callbacks == [CallbackStatus.CANCELLED]
        reviews = await open_reviews(s)
        assert len(reviews) == 1
        item = reviews[0]
        assert item.review.kind is ReviewKind.DECEASED
        assert (item.review.attempt_id, item.review.e164) == (attempt_id, MOBILE)
        assert item.review.reported_at is not None and item.external_ref == d.external_ref
        assert item.status is DebtorStatus.DECEASED_REVIEW
        kinds = (await s.scalars(select(CallEvent.kind))).all()
        assert "deceased_reported" in kinds
        # The rule book refuses the person, on every number, and says why.
        verdict = await explain(s, debtor_id, T0)
    assert not verdict.callable and "deceased_review" in verdict.codes
    assert await claim_batch(sessions, T0, 10, "w1") == []
    assert await claim_batch(sessions, T0 + dt.timedelta(days=2), 10, "w1") == []

    # Said again on a later call: still one open review.
    again = await _answered_call(sessions, debtor_id, phone_id)
    await _persist(sessions, again, ev.ReportDeceased())
    async with sessions() as s:
        assert len((await s.scalars(select(DebtorReview.id))).all()) == 1


async def test_opt_out_before_verification_stops_the_number_not_the_person(sessions) -> None:
    async with sessions() as s, s.begin():
        camp = await make_campaign(s, min_gap_minutes=0)
        d = await make_debtor(s, camp, phones=(MOBILE, OTHER))
        debtor_id, phone_id = d.id, d.phones[0].id
        # Another debtor listing the same number (a shared family phone).
        other = await make_debtor(s, camp, phones=(MOBILE,))
        other_id = other.id
    attempt_id = await _answered_call(sessions, debtor_id, phone_id)

    await _persist(sessions, attempt_id, ev.OptOutNumber())
    await _persist(sessions, attempt_id, ev.OptOutNumber())  # twice: one row

    async with sessions() as s:
        debtor = await s.get(Debtor, debtor_id)
        assert debtor is not None and debtor.opted_out_at is None
        assert (await s.scalars(select(NumberOptOut.e164))).all() == [MOBILE]
        mine = await explain(s, debtor_id, T0)
        theirs = await explain(s, other_id, T0)
    # The person is still reached, at their other number.
    assert mine.callable and mine.to_number == OTHER
    # Whoever else lists only that number is not called there.
    assert not theirs.callable
    assert {"no_valid_phone", "number_opted_out"} <= set(theirs.codes)
    claims = await claim_batch(sessions, T0, 10, "w1")
    assert [(c.debtor_id, c.to_number) for c in claims] == [(debtor_id, OTHER)]


async def test_opt_out_after_verification_stops_the_person(sessions) -> None:
    async with sessions() as s, s.begin():
        camp = await make_campaign(s, min_gap_minutes=0)
        d = await make_debtor(s, camp, phones=(MOBILE, OTHER))
        debtor_id, phone_id = d.id, d.phones[0].id
    attempt_id = await _answered_call(sessions, debtor_id, phone_id)

    await _persist(sessions, attempt_id, ev.OptOut())

    async with sessions() as s:
        debtor = await s.get(Debtor, debtor_id)
        assert debtor is not None and debtor.opted_out_at is not None
        assert (await s.scalars(select(NumberOptOut.id))).all() == []
        assert "opted_out" in (await explain(s, debtor_id, T0)).codes
    assert await claim_batch(sessions, T0, 10, "w1") == []


async def test_the_call_knows_the_campaigns_policy_and_the_document_hash(sessions) -> None:
    async with sessions() as s, s.begin():
        camp = await make_campaign(s, verification_policy="name_and_factor")
        d = await make_debtor(s, camp)
        d.document_digits = hash_document("123.456.789-09")
        debtor_id, phone_id = d.id, d.phones[0].id
        default = await make_campaign(s)
        assert default.verification_policy == "name"
    attempt_id = await _answered_call(sessions, debtor_id, phone_id)
    async with sessions() as s, s.begin():
        attempt = await s.get(CallAttempt, attempt_id)
        assert attempt is not None
        attempt.campaign_id = camp.id
    async with sessions() as s:
        setup = await load_call_setup(s, attempt_id)
    assert setup is not None
    assert setup.context.verification == "name_and_factor"
    assert tail_matches("8909", setup.context.document_digits)
    assert not tail_matches("1234", setup.context.document_digits)
