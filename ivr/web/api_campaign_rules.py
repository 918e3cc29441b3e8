"""The checks on a campaign's settings beyond their shape: windows and caps.

Ranges on one weekday may not overlap, and a range outside the country's
default calling hours (see the compliance reference) is refused unless the
request says ``allow_outside_defaults``. Each error carries a code and its
values (``overlap``, ``outside_default_hours``, ``no_default_hours``,
``below_daily_cap``) so a page can say it in its user's language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ivr.web.api_campaign_schemas import MIDNIGHT, WindowIn
from ivr.web.api_common import FieldError
from scheduler.windows import default_windows

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _minutes(t: dt.time, *, end: bool = False) -> float:
    """Minutes since local midnight; an ``end`` of 00:00 is the day's end (1440)."""
    if end and t == MIDNIGHT:
        return 24 * 60.0
    return t.hour * 60 + t.minute + (t.second + t.microsecond / 1e6) / 60


def hhmm(t: dt.time, *, end: bool = False) -> str:
    if end and t == MIDNIGHT:
        return "24:00"
    return t.strftime("%H:%M:%S" if t.second else "%H:%M")


def window_errors(
    windows: Sequence[WindowIn], country: str, allow_outside_defaults: bool, field: str = "windows"
) -> list[FieldError]:
    """Overlaps on a weekday, and ranges outside the country's default hours."""
    errors: list[FieldError] = []
    seen: list[tuple[int, WindowIn]] = []
    for i, w in enumerate(windows):
        lo, hi = _minutes(w.start), _minutes(w.end, end=True)
        for j, other in seen:
            if other.weekday != w.weekday:
                continue
            if lo < _minutes(other.end, end=True) and _minutes(other.start) < hi:
                other_range = f"{hhmm(other.start)}-{hhmm(other.end, end=True)}"
                errors.append(
                    FieldError(
                        f"{field}[{i}]",
                        f"overlaps {field}[{j}] on {DAY_NAMES[w.weekday]} ({other_range})",
                        "overlap",
                        {"range": other_range},
                    )
                )
                break
        seen.append((i, w))
    if allow_outside_defaults:
        return errors
    defaults = default_windows(country)
    for i, w in enumerate(windows):
        lo, hi = _minutes(w.start), _minutes(w.end, end=True)
        same_day = [d for d in defaults if d.weekday == w.weekday]
        if any(_minutes(d.start) <= lo and hi <= _minutes(d.end, end=True) for d in same_day):
            continue
        hours = ", ".join(f"{hhmm(d.start)}-{hhmm(d.end, end=True)}" for d in same_day)
        if same_day:
            why = f"outside the default calling hours for {country} on {DAY_NAMES[w.weekday]} "
            why += f"({hours})"
            code = "outside_default_hours"
        else:
            why = f"{country} has no default calling hours on {DAY_NAMES[w.weekday]}"
            code = "no_default_hours"
        why += "; set allow_outside_defaults to insist"
        errors.append(FieldError(f"{field}[{i}]", why, code, {"hours": hours, "country": country}))
    return errors


def caps_errors(daily: int, weekly: int) -> list[FieldError]:
    if weekly < daily:
        why = f"must be at least daily_cap ({daily})"
        return [FieldError("weekly_cap", why, "below_daily_cap", {"daily_cap": daily})]
    return []
