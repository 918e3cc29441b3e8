"""Is a campaign's dialer placing calls now, and if not, why (for the wallboard).

A pure function of facts the wallboard already read: the campaign's rules
(``scheduler.eligibility_load.load_campaign_rules``), its live outbound
calls, how many people it may still call, and the planner's hints. The
window question is the rule book's own (``scheduler.windows`` with the
effective windows of ``scheduler.reasons_window``), asked in every zone of
the campaign's country: the campaign is open when any of its debtors may be
in an open window. Who exactly is callable stays the claim's business;
"no one callable" here means the planner parked everybody, each until the
instant the rule book named.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ivr.vocab.dialer import DialerReason, DialerState
from scheduler.reasons_window import windows_for
from scheduler.snapshot import CampaignRules
from scheduler.windows import closed_reasons, is_callable_at, next_open
from scheduler.zones import COUNTRY_ZONES, reference_zone

# The first code that holds, in this order, names why the window is closed.
_CLOSED_ORDER = (DialerReason.HOLIDAY, DialerReason.BLOCKED_DATE, DialerReason.OUTSIDE_WINDOW)


@dataclass(frozen=True)
class DialerStatus:
    state: DialerState
    reason: DialerReason | None = None
    # outside_window: when a window opens; no_one_callable: the planner's next look.
    next_at: dt.datetime | None = None
    paused_at: dt.datetime | None = None
    paused_by: str | None = None


@dataclass(frozen=True)
class DialerFacts:
    """What the wallboard read about one campaign."""

    live_outbound: int
    reachable: int | None  # people with an open debt, not opted out (None: unknown)
    due: bool | None  # someone is due for the planner now (None: unknown)
    next_hint: dt.datetime | None = None
    paused: tuple[dt.datetime, str | None] | None = None


def campaign_zones(country: str) -> tuple[str, ...]:
    return COUNTRY_ZONES.get(country.upper(), (reference_zone(country),))


def window_status(rules: CampaignRules, now: dt.datetime) -> DialerStatus | None:
    """``outside_window`` with its cause and next opening, or None when it is open somewhere."""
    windows = windows_for(rules, (rules.country,))
    zones = campaign_zones(rules.country)
    if any(is_callable_at(now, (z,), windows, rules.country, None, rules.blocked) for z in zones):
        return None
    home = reference_zone(rules.country)
    codes = set(
        closed_reasons(now, (home,), windows, rules.country, None, rules.blocked).get(home, ())
    )
    why = next((r for r in _CLOSED_ORDER if r.value in codes), DialerReason.OUTSIDE_WINDOW)
    openings = [
        at
        for z in zones
        if (at := next_open(now, (z,), windows, rules.country, None, rules.blocked)) is not None
    ]
    return DialerStatus(DialerState.OUTSIDE_WINDOW, why, min(openings, default=None))


def dialer_status(rules: CampaignRules, now: dt.datetime, facts: DialerFacts) -> DialerStatus:
    """The campaign's dialer in one word, with its reason and the time that matters."""
    if not rules.active:
        at, by = facts.paused if facts.paused else (None, None)
        return DialerStatus(DialerState.PAUSED, paused_at=at, paused_by=by)
    closed = window_status(rules, now)
    if closed is not None:
        return closed
    if facts.live_outbound >= rules.max_concurrent > 0:
        return DialerStatus(DialerState.FULL)
    if facts.live_outbound == 0 and facts.reachable == 0:
        return DialerStatus(DialerState.NO_ONE_CALLABLE, DialerReason.NO_OPEN_DEBTS)
    if facts.live_outbound == 0 and facts.due is False:
        return DialerStatus(DialerState.NO_ONE_CALLABLE, DialerReason.WAITING, facts.next_hint)
    return DialerStatus(DialerState.RUNNING)
