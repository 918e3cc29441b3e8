"""Rules about when: inside the call window in the person's local time, off
holidays and supervisor-blocked dates, in every zone they may be in.

The calendar itself is ``scheduler.windows`` and the legal hours
``scheduler.legal``; this module turns them into the supervisor's reasons.
One module per kind of rule (person, debt, window, caps) so each can be
read, and changed, on its own; ``scheduler.eligibility`` joins them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

from scheduler.legal import effective_windows
from scheduler.reasons import Reason, reason
from scheduler.snapshot import CampaignRules
from scheduler.windows import Window, closed_reasons

# The codes of this module: they clear when a window opens (see next_open).
WINDOW_CODES = frozenset({"outside_window", "holiday", "blocked_date"})


def windows_for(rules: CampaignRules | None, countries: tuple[str, ...]) -> tuple[Window, ...]:
    """The campaign's hours for its own country's debtors, the defaults for
    anyone else, and never past the law (see ``scheduler.legal``)."""
    if rules is None:
        return effective_windows((), None, countries)
    return effective_windows(rules.windows, rules.country, countries)


def window_reasons(
    now: dt.datetime,
    zones: Sequence[str],
    windows: Sequence[Window],
    country: str,
    region: str | None,
    blocked: frozenset[dt.date],
    countries: Sequence[str],
) -> list[Reason]:
    """One reason per closing code, naming every zone it holds in and its local time there."""
    window_codes: dict[str, list[str]] = defaultdict(list)
    for zone, codes in closed_reasons(now, zones, windows, country, region, blocked).items():
        for code in codes:
            window_codes[code].append(zone)
    return [
        reason(
            code,
            zones=in_zones,
            local_times=_local_times(now, in_zones),
            countries=list(countries),
        )
        for code, in_zones in window_codes.items()
    ]


def _local_times(now: dt.datetime, zones: Iterable[str]) -> dict[str, str]:
    return {z: now.astimezone(ZoneInfo(z)).strftime("%a %Y-%m-%d %H:%M") for z in zones if z}
