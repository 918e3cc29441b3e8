"""US English slot rules: which words name a date, time, amount or count.

The rules are tried in this order and each claims the characters it matched
(see ``nlu_slots``), so a longer, more specific phrase comes before the looser
one it contains ("the day after tomorrow" before "tomorrow"). What a matched
number means is read by the shared handlers of ``nlu_slot_rules``.
"""

from __future__ import annotations

import datetime as dt

from ivr.dialog import nlu_dates as cal
from ivr.dialog import nlu_slot_rules as r
from ivr.dialog.nlu_slot_rules import NUM, ORD, Rule, fixed, hour, minutes, one, rule

MONTHS = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
}
WEEKDAYS = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
_MONTH = "|".join(MONTHS)
_WEEKDAY = "|".join(WEEKDAYS)
_FROM_NOW = r"(?: from (?:now|today))?"

DATES = [
    r.typed_date("MDY"),
    rule(
        rf"(?:(?:on|by) )?the (?:(\d{{1,2}}){ORD}|last) business day"
        r"(?: of (?:the |this )?(?:(next) )?month)?",
        r.business_day("US", next_month=2),
    ),
    rule(
        r"(?:(?:not )?until )?after christmas",
        r.date_from(lambda td: cal.day_after_date(td, 12, 25)),
    ),
    rule(
        r"(?:(?:not )?until )?after (?:the )?new years?(?: day| eve)?",
        r.date_from(lambda td: cal.day_after_date(td, 1, 1)),
    ),
    rule(r"(?:(?:not )?until )?after thanksgiving", r.date_from(cal.after_thanksgiving)),
    rule(r"(?:the )?week after next", r.date_from(cal.week_after_next)),
    rule(
        r"(?:at )?(?:the )?end of next week",
        r.date_from(lambda td: cal.weekday_of_next_week(td, 4)),
    ),
    rule(
        rf"(?:the )?({_WEEKDAY}) after next|a week from ({_WEEKDAY})",
        r.weekday_after_next(WEEKDAYS.__getitem__),
    ),
    rule(r"(?:the )?day after tomorrow", r.days_from_today(2)),
    rule(r"the day after", r.days_from_today(2)),
    rule(r"tomorrow", r.days_from_today(1)),
    rule(r"today", r.days_from_today(0)),
    rule(r"tonight", lambda m, td: [("date", td), ("daypart", dt.time(19, 0))]),
    rule(rf"(?:(?:in|within) )?(\d+) days?{_FROM_NOW}", r.days_ahead),
    rule(r"(?:in|within) (?:a|1) week|(?:a|1) week from (?:now|today)", r.days_from_today(7)),
    rule(rf"(?:(?:in|within) )?(\d+) weeks?{_FROM_NOW}", r.weeks_ahead),
    rule(
        r"(?:in|within) (?:a|1) month|(?:a|1) month from (?:now|today)",
        r.date_from(lambda td: cal.add_months(td, 1)),
    ),
    rule(
        rf"({_WEEKDAY})s? (?:of )?next week|next weeks? ({_WEEKDAY})",
        r.weekday_of_next_week(WEEKDAYS.__getitem__),
    ),
    rule(
        rf"(?:(?:next|this|on|coming|on the) )?({_WEEKDAY})",
        r.next_weekday(WEEKDAYS.__getitem__),
    ),
    rule(
        rf"(?:on )?({_MONTH}) (?:the )?(\d{{1,2}}){ORD}(?: (\d{{4}}))?",
        r.day_and_month(MONTHS, day=2, month=1),
    ),
    rule(
        rf"(?:on )?(?:the )?(\d{{1,2}}){ORD} of ({_MONTH})(?: (\d{{4}}))?",
        r.day_and_month(MONTHS, day=1, month=2),
    ),
    rule(rf"(?:on )?(?:the )?(\d{{1,2}}){ORD} of next month", r.day_of_next_month),
    rule(rf"(?:on )?the (\d{{1,2}}){ORD}|(\d{{1,2}})(?:st|nd|rd|th)", r.day_of_month),
    rule(
        r"(?:at )?(?:the )?end of (?:the )?next month",
        r.date_from(lambda td: cal.end_of_month(td, 1)),
    ),
    rule(r"(?:at )?(?:the )?end of (?:the |this )?month", r.date_from(cal.end_of_month)),
    rule(
        r"(?:(?:at|by) )?the (?:beginning|start) of (?:the )?(?:next )?month|early next month",
        r.date_from(cal.start_of_next_month),
    ),
    rule(r"next week", r.date_from(cal.next_week_monday)),
    rule(r"(?:(?:on )?(?:the|this) )?weekend", r.date_from(cal.weekend)),
    rule(r"next month", r.date_from(cal.next_month)),
    rule(rf"in ({_MONTH})", r.month_alone(MONTHS)),
]

TIMES = [
    rule(
        r"(?:at )?(\d{1,2})(?::(\d{2})| (\d{2}))? ?(am|pm|a m|p m)",
        lambda m, td: one(
            "time", hour(int(m.group(1)), minutes(m.group(2) or m.group(3)), m.group(4))
        ),
    ),
    rule(r"(?:at )?(\d{1,2}):(\d{2})", r.clock_no_period),
    rule(
        r"(?:at )?(?:half|quarter) past (\d{1,2})",
        lambda m, td: one("time", hour(int(m.group(1)), 30 if "half" in m.group(0) else 15, None)),
    ),
    rule(
        r"at (\d{1,2})(?: (\d{2}))?(?: oclock)?(?: in the (morning|afternoon|evening)"
        r"| at (night))?",
        lambda m, td: one(
            "time", hour(int(m.group(1)), minutes(m.group(2)), m.group(3) or m.group(4))
        ),
    ),
    rule(r"(\d{1,2}) oclock", lambda m, td: one("time", hour(int(m.group(1)), 0, None))),
    rule(r"(?:after|around|before) (\d{1,2})(?: (\d{2}))?(?: oclock)?", r.clock_no_period),
    rule(r"(?:at )?(?:noon|midday)", fixed("time", dt.time(12, 0))),
    rule(r"(?:at )?midnight", fixed("time", dt.time(0, 0))),
    rule(r"after lunch", fixed("daypart", dt.time(14, 0))),
    rule(r"(?:at )?lunch ?time", fixed("time", dt.time(12, 0))),
    rule(r"(?:(?:in the|this|early in the) )?morning", fixed("daypart", dt.time(9, 0))),
    rule(r"(?:(?:in the|this) )?afternoon", fixed("daypart", dt.time(14, 0))),
    rule(r"(?:(?:in the|this) )?evening|at night", fixed("daypart", dt.time(19, 0))),
]

AMOUNTS = [
    rule(
        rf"(?:usd )?{NUM}(?: (?:dollars?|bucks?))? (?:(?:a|per|each|every) month|monthly)",
        r.per_month,
    ),
    rule(rf"usd {NUM}(?: dollars?)?", r.amount),
    rule(rf"{NUM} (?:dollars?|bucks?)(?: (?:and )?(\d{{1,2}}) cents?)?", r.amount_and_cents),
    rule(r"(\d{1,2}) cents?", r.cents_alone),
    # fractions of the debt
    rule(r"half(?: of (?:it|that|the (?:amount|balance|debt)))?", fixed("fraction", 0.5)),
    rule(
        r"it all|all of it|all at once|everything"
        r"|the (?:full|whole|entire|total) (?:amount|balance|thing)"
        r"|full amount|in full|the total|the whole thing",
        fixed("fraction", 1.0),
    ),
    # parts of a payment plan ("half now and the rest on the 20th")
    rule(r"the rest(?: of it)?|the remainder|whats left|the balance", fixed("rest", 1)),
    rule(r"(?:right )?now", r.now),
    # installment counts
    rule(r"(?:in )?(\d{1,2}) (?:monthly )?(?:installments?|payments|parts)", r.count),
]

RULES: list[Rule] = DATES + TIMES + AMOUNTS
