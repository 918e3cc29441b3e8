"""The SMS rule book, pure: each reason on its own, the on-call waiver, and when next."""

from __future__ import annotations

import datetime as dt

import pytest

from ivr.vocab.debtors import DebtorStatus
from ivr.vocab.messages import SmsPurpose
from scheduler.caps import CapPolicy
from scheduler.eligibility_sms import evaluate_sms
from scheduler.reasons_sms import is_mobile
from scheduler.snapshot import CampaignRules, DebtorSnapshot, DebtRow, PhoneRow, SmsFacts

NOW = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)  # Tuesday 12:00 in São Paulo
NIGHT = dt.datetime(2026, 11, 24, 23, 30, tzinfo=dt.UTC)  # 20:30 in São Paulo
MOBILE = "+5511987654321"
LANDLINE = "+551133334444"
CAMP = CampaignRules(
    id=1,
    active=True,
    policy=CapPolicy(),
    country="BR",
    windows=(),
    blocked=frozenset(),
    max_concurrent=5,
)


def snap(*phones: PhoneRow, **kw) -> DebtorSnapshot:
    s = DebtorSnapshot(
        id=7,
        country=kw.pop("country", "BR"),
        region="SP",
        timezone=kw.pop("timezone", "America/Sao_Paulo"),
        opted_out_at=None,
        quiet_until=None,
        **kw,
    )
    s.phones = list(phones) or [PhoneRow(1, MOBILE, 0, None)]
    s.debts = [DebtRow(10, "open", 1, dt.date(2026, 1, 10), None)]
    return s


def facts(**kw) -> SmsFacts:
    kw.setdefault("sms_opted_out_at", None)
    kw.setdefault("sms_allowed", True)
    kw.setdefault("sent_today", 0)
    kw.setdefault("daily_caps", {1: 1})
    return SmsFacts(**kw)


def judge(s=None, f=None, now=NOW, purpose=SmsPurpose.REMINDER, camp=CAMP, **kw):
    return evaluate_sms(s or snap(), f or facts(), {camp.id: camp}, now, purpose, **kw)


def test_allowed_inside_the_window() -> None:
    v = judge()
    assert v.allowed and v.reasons == []
    assert v.to_number == MOBILE and v.local_day == dt.date(2026, 11, 24)
    assert v.next_at == NOW and v.daily_cap == 1


def test_deceased_review_stops_sms() -> None:
    s = snap()
    s.status = DebtorStatus.DECEASED_REVIEW
    v = judge(s)
    assert not v.allowed and v.codes == ["deceased_review"] and v.next_at is None


def test_sms_opt_out_never_clears_by_itself() -> None:
    v = judge(f=facts(sms_opted_out_at=NOW - dt.timedelta(days=1)))
    assert v.codes == ["sms_opted_out"] and v.next_at is None
    assert "SAIR" in v.reasons[0].message


def test_sms_not_allowed() -> None:
    v = judge(f=facts(sms_allowed=False))
    assert v.codes == ["sms_not_allowed"]


def test_a_call_opt_out_is_not_an_sms_opt_out() -> None:
    s = snap()
    s.opted_out_at = NOW - dt.timedelta(days=3)
    assert judge(s).allowed


def test_landline_is_not_texted_and_the_mobile_is_chosen() -> None:
    v = judge(snap(PhoneRow(1, LANDLINE, 0, None)))
    assert v.codes == ["no_mobile_number"] and v.to_number is None
    assert v.reasons[0].detail["not_mobile"] == [LANDLINE]
    v = judge(snap(PhoneRow(1, LANDLINE, 0, None), PhoneRow(2, MOBILE, 1, None)))
    assert v.allowed and v.to_number == MOBILE and v.phone_id == 2


@pytest.mark.parametrize(
    ("number", "mobile"),
    [
        (MOBILE, True),
        (LANDLINE, False),
        ("+12015550123", True),  # US: FIXED_LINE_OR_MOBILE, the plan cannot tell
        ("+5511", False),
    ],
)
def test_mobile_by_number_type(number: str, mobile: bool) -> None:
    assert is_mobile(number) is mobile


def test_number_level_blocks() -> None:
    stranger_said_stop = PhoneRow(1, MOBILE, 0, None, opted_out_at=NOW - dt.timedelta(days=2))
    v = judge(snap(stranger_said_stop))
    assert v.codes == ["no_mobile_number", "number_opted_out"]
    wrong = PhoneRow(1, MOBILE, 0, NOW - dt.timedelta(days=2))
    assert judge(snap(wrong)).codes == ["no_mobile_number"]


def test_outside_window_waits_for_the_next_opening() -> None:
    v = judge(now=NIGHT)
    assert v.codes == ["outside_window"]
    assert v.next_at == dt.datetime(2026, 11, 25, 11, 0, tzinfo=dt.UTC)  # 08:00 local


def test_holiday_and_blocked_date_are_the_calls() -> None:
    holiday = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)  # Black Awareness Day
    assert judge(now=holiday).codes == ["holiday"]
    blocked = CampaignRules(**{**CAMP.__dict__, "blocked": frozenset({NOW.date()})})
    assert judge(camp=blocked).codes == ["blocked_date"]


def test_campaign_windows_apply() -> None:
    from scheduler.windows import Window

    mornings = tuple(Window(d, dt.time(8), dt.time(10)) for d in range(7))
    camp = CampaignRules(**{**CAMP.__dict__, "windows": mornings})
    assert judge(camp=camp).codes == ["outside_window"]  # 12:00 local


def test_daily_cap_clears_at_local_midnight() -> None:
    v = judge(f=facts(sent_today=1))
    assert v.codes == ["sms_daily_cap"]
    assert v.reasons[0].detail == {"sent_today": 1, "daily_cap": 1}
    assert v.next_at == dt.datetime(2026, 11, 25, 11, 0, tzinfo=dt.UTC)  # next day, 08:00
    assert judge(f=facts(sent_today=1, daily_caps={1: 2})).allowed


def test_strictest_cap_of_the_persons_campaigns() -> None:
    other = CampaignRules(**{**CAMP.__dict__, "id": 2})
    s = snap()
    s.debts.append(DebtRow(11, "open", 2, dt.date(2026, 2, 1), None))
    v = evaluate_sms(
        s,
        facts(sent_today=1, daily_caps={1: 3, 2: 1}),
        {1: CAMP, 2: other},
        NOW,
        SmsPurpose.REMINDER,
        campaign_id=1,
    )
    assert v.codes == ["sms_daily_cap"] and v.daily_cap == 1


def test_paused_campaign_holds_a_reminder() -> None:
    paused = CampaignRules(**{**CAMP.__dict__, "active": False})
    assert judge(camp=paused, campaign_id=1).codes == ["campaign_paused"]


def test_payment_details_on_the_line_pass_the_window_only() -> None:
    v = judge(now=NIGHT, purpose=SmsPurpose.PAYMENT_DETAILS, on_call=True)
    assert v.allowed and v.next_at == NIGHT
    # Not on the line: the window holds as for any SMS.
    assert judge(now=NIGHT, purpose=SmsPurpose.PAYMENT_DETAILS).codes == ["outside_window"]
    # On the line, opt-out, the mobile and the cap still hold.
    v = judge(
        snap(PhoneRow(1, LANDLINE, 0, None)),
        facts(sms_opted_out_at=NOW, sent_today=1),
        now=NIGHT,
        purpose=SmsPurpose.PAYMENT_DETAILS,
        on_call=True,
    )
    assert v.codes == ["sms_opted_out", "no_mobile_number", "sms_daily_cap"]


def test_opt_out_confirmation_is_owed_whatever_the_rules() -> None:
    v = judge(
        f=facts(sms_opted_out_at=NOW, sent_today=5),
        now=NIGHT,
        purpose=SmsPurpose.OPT_OUT_CONFIRMATION,
    )
    assert v.allowed and v.reasons == []


def test_us_debtor_without_a_zone_uses_the_numbers_zone() -> None:
    # No zone on record: the number's zone (New Jersey: New York time), as for calls.
    s = snap(PhoneRow(1, "+12015550123", 0, None), country="US", timezone=None)
    us = CampaignRules(**{**CAMP.__dict__, "country": "US"})
    at = dt.datetime(2026, 11, 24, 13, 30, tzinfo=dt.UTC)  # 08:30 New York
    assert judge(s, now=at, camp=us).allowed
    assert judge(s, now=at - dt.timedelta(hours=1), camp=us).codes == ["outside_window"]
