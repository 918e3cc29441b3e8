"""How a slot rule is written, and the value readers every language shares.

A rule is a pattern over the ``numeric`` form of an utterance (see
``nlu_text``) and a handler that turns its match into ``(kind, value)`` pairs
(kind: date, time, daypart, amount, fraction or count). The patterns are
per language (``nlu_rules_pt``, ``nlu_rules_en``); what a matched day, hour or
amount *means* is the same in every language, so those readers live here once,
and a language's table only says which words mean what.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from ivr.dialog import nlu_dates as cal

MentionValue = dt.date | dt.time | int | float
Found = list[tuple[str, MentionValue]] | None
Handler = Callable[[re.Match[str], dt.date], Found]

NUM = r"(\d+(?:\.\d+)?)"  # a whole or decimal number, as group 1
ORD = r"(?:st|nd|rd|th)?"  # an English ordinal suffix, if said
TYPED_DATE = r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}(?:/\d{2,4})?"


@dataclass(frozen=True)
class Mention:
    """One slot value found in the text, with where it was found."""

    kind: str  # date | time | daypart | amount | fraction | count | monthly | now | rest
    start: int
    end: int
    value: MentionValue
    negated: bool = False


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    handler: Handler


def rule(pattern: str, handler: Handler) -> Rule:
    """A rule matching ``pattern`` as whole words."""
    return Rule(re.compile(rf"\b(?:{pattern})\b"), handler)


# ---------------------------------------------------------------- values


def cents(whole: str, part: str | None = None) -> int | None:
    """An amount in cents from its whole part and, if said, its cents."""
    value = round(float(whole) * 100)
    if part is not None:
        value += int(part)
    return value if value > 0 else None


def hour(h: int, minute: int, period: str | None) -> dt.time | None:
    """Resolve a spoken hour; without a period, 1..7 means the afternoon."""
    if period in ("tarde", "noite", "pm", "p m", "afternoon", "evening", "night"):
        if h < 12:
            h += 12
    elif period in ("am", "a m", "manha", "madrugada", "morning"):
        if h == 12:
            h = 0
    elif 1 <= h <= 7:
        h += 12
    if not (0 <= h <= 23 and 0 <= minute <= 59):
        return None
    return dt.time(h, minute)


def minutes(text: str | None) -> int:
    """Spoken minutes: none, "half"/"meia", or a number."""
    if not text:
        return 0
    if text in ("meia", "half"):
        return 30
    return int(text)


def one(kind: str, value: MentionValue | None) -> Found:
    """One mention of ``kind``, or none when the value could not be read."""
    return None if value is None else [(kind, value)]


def _first_group(m: re.Match[str]) -> str:
    """The first group that matched (alternatives put the same value in either)."""
    return next(g for g in m.groups() if g is not None)


# ---------------------------------------------------------------- handlers


def fixed(kind: str, value: MentionValue) -> Handler:
    """The words always mean ``value`` ("meio dia" is 12:00, "half" is 0.5)."""
    return lambda m, today: [(kind, value)]


def days_from_today(days: int) -> Handler:
    """The words name a day relative to today ("amanhã", "tomorrow")."""
    return lambda m, today: [("date", today + dt.timedelta(days=days))]


def date_from(read: Callable[[dt.date], dt.date]) -> Handler:
    """The words name a day computed from today ("fim do mês", "next week")."""
    return lambda m, today: [("date", read(today))]


def next_weekday(weekday_of: Callable[[str], int]) -> Handler:
    """The first group that matched names a weekday (``weekday_of`` gives its
    number, Monday 0): its next occurrence."""
    return lambda m, today: [("date", cal.next_weekday(today, weekday_of(_first_group(m))))]


def weekday_of_next_week(weekday_of: Callable[[str], int]) -> Handler:
    """The first group that matched names a weekday of next week."""
    return lambda m, today: [("date", cal.weekday_of_next_week(today, weekday_of(_first_group(m))))]


def typed_date(order: str) -> Rule:
    """Typed dates ("28/11", "12/05/2026", "2026-12-05"); ``order`` is the
    language's day/month order for dateparser ("DMY", "MDY")."""

    def handler(m: re.Match[str], today: dt.date) -> Found:
        import dateparser  # slow to import; only typed dates need it

        parsed = dateparser.parse(
            m.group(0),
            settings={
                "DATE_ORDER": order,
                "PREFER_DATES_FROM": "future",
                "RELATIVE_BASE": dt.datetime.combine(today, dt.time()),
            },
        )
        return one("date", parsed.date() if parsed else None)

    return rule(TYPED_DATE, handler)


def days_ahead(m: re.Match[str], today: dt.date) -> Found:
    """The first group that matched is a number of days from today."""
    return [("date", today + dt.timedelta(days=int(_first_group(m))))]


def weeks_ahead(m: re.Match[str], today: dt.date) -> Found:
    """Group 1 is a number of weeks from today."""
    return [("date", today + dt.timedelta(weeks=int(m.group(1))))]


def months_ahead(m: re.Match[str], today: dt.date) -> Found:
    """Group 1 is a number of months from today."""
    return [("date", cal.add_months(today, int(m.group(1))))]


def day_of_month(m: re.Match[str], today: dt.date) -> Found:
    """The first group that matched is a day of this month (or the next, if past)."""
    return one("date", cal.next_day_of_month(today, int(_first_group(m))))


def day_of_next_month(m: re.Match[str], today: dt.date) -> Found:
    """Group 1 is a day of next month."""
    return one("date", cal.day_of_month_offset(today, int(m.group(1)), 1))


def day_and_month(months: dict[str, int], day: int, month: int) -> Handler:
    """A day number, a month name (``months`` gives its number) and an optional year
    in group 3, each in the group given."""

    def handler(m: re.Match[str], today: dt.date) -> Found:
        year = int(m.group(3)) if m.group(3) else None
        return one(
            "date", cal.day_and_month(today, int(m.group(day)), months[m.group(month)], year)
        )

    return handler


def month_alone(months: dict[str, int]) -> Handler:
    """Group 1 is a month name alone ("em dezembro"): its next occurrence."""
    return lambda m, today: [("date", cal.month_alone(today, months[m.group(1)]))]


def first_of_month(months: dict[str, int]) -> Handler:
    """Group 1 is a month name ("começo de dezembro"): its first day, this year
    or next."""
    return lambda m, today: one("date", cal.day_and_month(today, 1, months[m.group(1)]))


def clock(m: re.Match[str], today: dt.date) -> Found:
    """Group 1 the hour, group 2 the minutes (or "half"), group 3 the part of the day."""
    return one("time", hour(int(m.group(1)), minutes(m.group(2)), m.group(3)))


def clock_no_period(m: re.Match[str], today: dt.date) -> Found:
    """Group 1 the hour, group 2 the minutes, and no part of the day said."""
    return one("time", hour(int(m.group(1)), minutes(m.group(2)), None))


def amount(m: re.Match[str], today: dt.date) -> Found:
    """Group 1 the whole amount."""
    return one("amount", cents(m.group(1)))


def amount_and_cents(m: re.Match[str], today: dt.date) -> Found:
    """Group 1 the whole amount, group 2 the cents (if said)."""
    return one("amount", cents(m.group(1), m.group(2)))


def cents_alone(m: re.Match[str], today: dt.date) -> Found:
    """Group 1 a number of cents."""
    return one("amount", cents("0", m.group(1)))


def count(m: re.Match[str], today: dt.date) -> Found:
    """Group 1 a number of installments (zero is not one)."""
    return one("count", int(m.group(1)) or None)


def per_month(m: re.Match[str], today: dt.date) -> Found:
    """Group 1 an amount paid every month: an amount and a ``monthly`` mention."""
    value = cents(m.group(1))
    return None if value is None else [("amount", value), ("monthly", value)]


def now(m: re.Match[str], today: dt.date) -> Found:
    """ "Agora" / "now": today, as a day of a payment plan only."""
    return [("now", today)]


def weekday_after_next(weekday_of: Callable[[str], int]) -> Handler:
    """The first group that matched names a weekday: the one after its next occurrence."""
    return lambda m, today: [("date", cal.weekday_after_next(today, weekday_of(_first_group(m))))]


def business_day(country: str, next_month: int) -> Handler:
    """Group 1 is n of the n-th business day (none said: "ultimo"/"last", the
    last); the group ``next_month`` says it is next month's."""

    def handler(m: re.Match[str], today: dt.date) -> Found:
        n = int(m.group(1)) if m.group(1) else -1
        ahead = 1 if m.group(next_month) else 0
        return one("date", cal.business_day(today, n, country, ahead) if n else None)

    return handler
