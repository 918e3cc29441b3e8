"""The offered "N parcelas de X" becomes one plan of dated instalments."""

from __future__ import annotations

import datetime as dt

from ivr.dialog.flow_guards import instalment_schedule
from ivr.plan_rules import PlanLimits, plan_problems
from tests.unit.test_dialog import make_ctx


def _check_plan(ctx, plan) -> None:
    """Whatever the schedule, it sums to the debt and is a plan the rules accept."""
    assert sum(c for _, c in plan) == ctx.amount_cents
    limits = PlanLimits(ctx.max_instalments, ctx.max_plan_days)
    owed = ctx.amount_cents
    assert plan_problems(plan, earliest=plan[0][0], owed_cents=owed, limits=limits) == []


def test_monthly_from_the_first_date_last_takes_the_rest():
    ctx = make_ctx(amount_cents=25000, installments=3)
    plan = instalment_schedule(ctx, dt.date(2026, 12, 7))  # a Monday
    assert plan == (
        (dt.date(2026, 12, 7), 8334),
        (dt.date(2027, 1, 7), 8334),
        (dt.date(2027, 2, 8), 8332),  # 7 Feb 2027 is a Sunday: the next business day
    )
    _check_plan(ctx, plan)


def test_month_end_is_clamped():
    ctx = make_ctx(amount_cents=30000, installments=2)
    plan = instalment_schedule(ctx, dt.date(2027, 1, 29))
    assert [d for d, _ in plan] == [dt.date(2027, 1, 29), dt.date(2027, 3, 1)]  # 28 Feb: Sunday
    _check_plan(ctx, plan)


def test_a_short_campaign_limit_spreads_the_instalments_inside_it():
    ctx = make_ctx(amount_cents=30000, installments=3, max_plan_days=30)
    plan = instalment_schedule(ctx, dt.date(2026, 12, 7))
    days = [d for d, _ in plan]
    assert (days[-1] - days[0]).days <= 30
    assert days == sorted(set(days))
    _check_plan(ctx, plan)


def test_too_little_to_split_is_one_promise():
    ctx = make_ctx(amount_cents=2, installments=3)
    assert instalment_schedule(ctx, dt.date(2026, 12, 7)) == ((dt.date(2026, 12, 7), 1),)
