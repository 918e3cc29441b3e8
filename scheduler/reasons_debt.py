"""Rules about the debts: at least one must be open, in an active campaign, not
paused after "I already paid", not under an open promise and not within the
follow-up wait after a broken one; and which one a call is about.

The follow-up wait: when a promise (or a plan's instalment) is broken, the
debt may be called about again from the campaign's
``followup_after_broken_days`` after the day it broke (the day after its
date, in the debtor's calendar). The instalments still open in a broken
plan no longer hold calls back: the wait is what remains.

One module per kind of rule (person, debt, window, caps) so each can be
read, and changed, on its own; ``scheduler.eligibility`` joins them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from ivr.store.models import DebtStatus, PromiseStatus
from scheduler.frozen import direct_init
from scheduler.reasons import Reason, all_clear, reason
from scheduler.snapshot import CallbackRow, CampaignRules, DebtorSnapshot, DebtRow, PromiseRow
from scheduler.windows import local_midnight_utc

# The codes of this module: they hold only while no debt is callable.
DEBT_CODES = frozenset(
    {
        "debt_not_open",
        "no_campaign",
        "campaign_paused",
        "paid_pause",
        "open_promise",
        "broken_promise_followup",
    }
)


# The open status as a plain string: it compares equal to the same values as
# the member does, at a quarter of the cost (a str compared with a StrEnum
# member takes the subclass's reflected comparison), twice per debt of every
# person a tick evaluates.
_OPEN: str = DebtStatus.OPEN.value


@direct_init
@dataclass(frozen=True)
class DebtVerdict:
    """The debts a call may be about, and why none may when the list is empty."""

    candidates: list[DebtRow]
    reasons: list[Reason]  # empty while any debt is a candidate
    until: dt.datetime | None = None  # when the first debt clears of every reason


def _one_debt(
    debt: DebtRow,
    campaigns: dict[int, CampaignRules],
    promises: Sequence[PromiseRow],
    now: dt.datetime,
    today: dt.date,
    zone: str,
) -> list[Reason]:
    why: list[Reason] = []
    if debt.status != _OPEN:
        why.append(reason("debt_not_open", debt_id=debt.id, status=debt.status))
    rules = campaigns.get(debt.campaign_id) if debt.campaign_id is not None else None
    if debt.campaign_id is None or rules is None:
        why.append(reason("no_campaign", debt_id=debt.id))
    elif not rules.active:
        why.append(reason("campaign_paused", debt_id=debt.id, campaign_id=rules.id))
    if debt.paused_until is not None and debt.paused_until > now:
        why.append(
            reason(
                "paid_pause",
                debt.paused_until,
                debt_id=debt.id,
                paused_until=debt.paused_until.isoformat(),
            )
        )
    pending = [
        p
        for p in promises
        if p.status == PromiseStatus.OPEN and p.shields and p.promised_date >= today
    ]
    if pending:
        last = max(p.promised_date for p in pending)
        why.append(
            reason(
                "open_promise",
                local_midnight_utc(last + dt.timedelta(days=1), zone),
                debt_id=debt.id,
                promised_date=last.isoformat(),
            )
        )
    broken = [p for p in promises if p.status == PromiseStatus.BROKEN]
    wait = rules.followup_after_broken_days if rules is not None else 0
    if broken and wait > 0:
        last_broken = max(p.promised_date for p in broken)
        callable_from = last_broken + dt.timedelta(days=1 + wait)
        if callable_from > today:
            why.append(
                reason(
                    "broken_promise_followup",
                    local_midnight_utc(callable_from, zone),
                    debt_id=debt.id,
                    promised_date=last_broken.isoformat(),
                    callable_from=callable_from.isoformat(),
                )
            )
    return why


def debt_reasons(
    snap: DebtorSnapshot,
    campaigns: dict[int, CampaignRules],
    now: dt.datetime,
    today: dt.date,
    zone: str,
) -> DebtVerdict:
    """Which debts may be called about at ``now``; if none, every debt's reasons.

    ``today`` is the person's local day in ``zone`` (their primary zone): a
    promise holds through its promised date there.
    """
    open_promises: dict[int, list[PromiseRow]] = {}
    if snap.promises:
        open_promises = defaultdict(list)
        for p in snap.promises:
            open_promises[p.debt_id].append(p)
    candidates: list[DebtRow] = []
    per_debt: dict[int, list[Reason]] = {}
    for debt in snap.debts:
        why = _one_debt(debt, campaigns, open_promises.get(debt.id, ()), now, today, zone)
        per_debt[debt.id] = why
        if not why:
            candidates.append(debt)
    if not snap.debts:
        return DebtVerdict([], [reason("no_debt")])
    if candidates:
        return DebtVerdict(candidates, [])
    out = [r for debt in snap.debts for r in per_debt[debt.id]]
    known = [t for t in (all_clear(per_debt[d.id]) for d in snap.debts) if t is not None]
    return DebtVerdict([], out, min(known) if known else None)


def choose_debt(candidates: Sequence[DebtRow], callback: CallbackRow | None) -> DebtRow | None:
    """The debt a callback was about, else the one due first."""
    if callback is not None and callback.debt_id is not None:
        for d in candidates:
            if d.id == callback.debt_id:
                return d
    if len(candidates) == 1:
        return candidates[0]
    return min(candidates, key=lambda d: (d.due_date, d.id), default=None)


def open_debt_campaigns(
    snap: DebtorSnapshot, campaigns: dict[int, CampaignRules]
) -> list[CampaignRules]:
    """The campaigns of the person's open debts (their caps all apply to the person)."""
    return [
        campaigns[d.campaign_id]
        for d in snap.debts
        if d.status == _OPEN and d.campaign_id in campaigns
    ]
