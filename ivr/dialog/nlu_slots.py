"""Slot extraction: dates, times, amounts, fractions and installment counts.

Rules run over the ``numeric`` form of an utterance (see ``nlu_text``), in a
fixed order, each claiming the characters it matched so a later, looser rule
cannot read the same words again ("dia 5" is a date, so its 5 is not also an
amount). Every match becomes a ``Mention`` with its position, which is what
lets corrections work: a mention directly followed by "não"/"no"
("sexta não, segunda") is dropped, and one directly preceded by it
("não na sexta, na segunda") is dropped when another mention of the same kind
remains. Of the mentions left, the first one after the last contrast word
("só", "mas", "only", "but") wins, else the first one.

Numbers left over after every rule ("vinte e oito", "cem") are read by size: up
to 31 a day of the month, above that an amount; in the ``offer_installments``
context a small number is a count of installments.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ivr.dialog import nlu_dates as cal

MentionValue = dt.date | dt.time | int | float
Handler = Callable[[re.Match[str], dt.date], list[tuple[str, MentionValue]] | None]

PT_MONTHS = {
    "janeiro": 1,
    "fevereiro": 2,
    "marco": 3,
    "abril": 4,
    "maio": 5,
    "junho": 6,
    "julho": 7,
    "agosto": 8,
    "setembro": 9,
    "outubro": 10,
    "novembro": 11,
    "dezembro": 12,
}
EN_MONTHS = {
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
EN_WEEKDAYS = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}

_PT_MONTH_RE = "|".join(PT_MONTHS)
_EN_MONTH_RE = "|".join(EN_MONTHS)
_EN_WEEKDAY_RE = "|".join(EN_WEEKDAYS)
_NUM = r"(\d+(?:\.\d+)?)"
_ORD = r"(?:st|nd|rd|th)?"

# Words that cancel an adjacent mention, and fillers allowed between them.
# "sexta não, segunda" / "friday no, monday": a negation right after a mention
# takes it back; "quinta, não sexta" / "thursday not friday": a negation right
# before a mention takes that one back. English "not" only looks forward.
NEGATIONS = {"pt": r"nao", "en": r"no|not"}
NEGATIONS_AFTER = {"pt": r"nao", "en": r"no"}
FILLERS = {"pt": r"na|no|em|dia|pra|para|a|o|de", "en": r"on|the|by|in|at"}
CONTRASTS = {"pt": r"so|mas|porem|somente|apenas", "en": r"only|but|just|instead"}


@dataclass(frozen=True)
class Mention:
    """One slot value found in the text, with where it was found."""

    kind: str  # date | time | daypart | amount | fraction | count
    start: int
    end: int
    value: MentionValue
    negated: bool = False


@dataclass(frozen=True)
class Slots:
    """The chosen value of each slot, plus what the choice was based on."""

    date: dt.date | None = None
    time: dt.time | None = None
    amount_cents: int | None = None
    fraction: float | None = None
    count: int | None = None
    mentions: tuple[Mention, ...] = field(default_factory=tuple)
    bare_number: bool = False

    @property
    def any(self) -> bool:
        return any(
            v is not None
            for v in (self.date, self.time, self.amount_cents, self.fraction, self.count)
        )

    @property
    def all_negated(self) -> bool:
        """Something was said, and every part of it was taken back."""
        return bool(self.mentions) and all(m.negated for m in self.mentions)


# ---------------------------------------------------------------- helpers


def _cents(whole: str, cents: str | None = None) -> int | None:
    value = round(float(whole) * 100)
    if cents is not None:
        value += int(cents)
    return value if value > 0 else None


def _hour(h: int, minute: int, period: str | None) -> dt.time | None:
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


def _minutes(text: str | None) -> int:
    if not text:
        return 0
    if text in ("meia", "half"):
        return 30
    return int(text)


def _numeric_date(match: re.Match[str], today: dt.date, order: str) -> dt.date | None:
    """Typed dates ("28/11", "12/05/2026", "2026-12-05") through dateparser."""
    import dateparser  # slow to import; only typed dates need it

    parsed = dateparser.parse(
        match.group(0),
        settings={
            "DATE_ORDER": order,
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": dt.datetime.combine(today, dt.time()),
        },
    )
    return parsed.date() if parsed else None


def _one(kind: str, value: MentionValue | None) -> list[tuple[str, MentionValue]] | None:
    return None if value is None else [(kind, value)]


# Handlers that both languages' rules share; each reads the groups of its pattern.

Found = list[tuple[str, MentionValue]] | None


def _days_ahead(m: re.Match[str], today: dt.date) -> Found:
    """Group 1 is a number of days from today."""
    return [("date", today + dt.timedelta(days=int(m.group(1))))]


def _weeks_ahead(m: re.Match[str], today: dt.date) -> Found:
    """Group 1 is a number of weeks from today."""
    return [("date", today + dt.timedelta(weeks=int(m.group(1))))]


def _day_and_month(months: dict[str, int], day: int, month: int) -> Handler:
    """A day number, a month name (``months`` gives its number) and an optional year
    in group 3, each in the group given."""

    def handler(m: re.Match[str], today: dt.date) -> Found:
        year = int(m.group(3)) if m.group(3) else None
        return _one(
            "date", cal.day_and_month(today, int(m.group(day)), months[m.group(month)], year)
        )

    return handler


def _clock(m: re.Match[str], today: dt.date) -> Found:
    """Group 1 the hour, group 2 the minutes (or "half"), group 3 the part of the day."""
    return _one("time", _hour(int(m.group(1)), _minutes(m.group(2)), m.group(3)))


def _clock_no_period(m: re.Match[str], today: dt.date) -> Found:
    """Group 1 the hour, group 2 the minutes, and no part of the day said."""
    return _one("time", _hour(int(m.group(1)), _minutes(m.group(2)), None))


def _amount(m: re.Match[str], today: dt.date) -> Found:
    """Group 1 the whole amount."""
    return _one("amount", _cents(m.group(1)))


def _amount_and_cents(m: re.Match[str], today: dt.date) -> Found:
    """Group 1 the whole amount, group 2 the cents (if said)."""
    return _one("amount", _cents(m.group(1), m.group(2)))


def _cents_alone(m: re.Match[str], today: dt.date) -> Found:
    """Group 1 a number of cents."""
    return _one("amount", _cents("0", m.group(1)))


def _count(m: re.Match[str], today: dt.date) -> Found:
    """Group 1 a number of installments (zero is not one)."""
    return _one("count", int(m.group(1)) or None)


# ---------------------------------------------------------------- rule tables


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    handler: Handler


def _r(pattern: str, handler: Handler) -> Rule:
    return Rule(re.compile(rf"\b(?:{pattern})\b"), handler)


def _pt_rules() -> list[Rule]:
    d = "date"
    t = "time"
    p = "daypart"
    return [
        # dates
        _r(
            r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}(?:/\d{2,4})?",
            lambda m, td: _one(d, _numeric_date(m, td, "DMY")),
        ),
        _r(r"depois de amanha", lambda m, td: [(d, td + dt.timedelta(days=2))]),
        _r(r"amanha", lambda m, td: [(d, td + dt.timedelta(days=1))]),
        _r(r"hoje", lambda m, td: [(d, td)]),
        _r(r"(?:(?:daqui a|daqui|em|dentro de) )?(\d+) dias?", _days_ahead),
        _r(r"(?:(?:daqui a|daqui|em|dentro de) )?(\d+) semanas?", _weeks_ahead),
        _r(
            r"(?:daqui a|daqui|em|dentro de) (\d+) m[eê]s(?:es)?",
            lambda m, td: [(d, cal.add_months(td, int(m.group(1))))],
        ),
        _r(
            r"wd(\d)(?: feira)? (?:da |na )?(?:semana que vem|proxima semana)",
            lambda m, td: [(d, cal.weekday_of_next_week(td, int(m.group(1))))],
        ),
        _r(
            r"(?:proxim[ao] )?wd(\d)(?: feira)?(?: que vem)?",
            lambda m, td: [(d, cal.next_weekday(td, int(m.group(1))))],
        ),
        _r(
            rf"(?:dia )?(\d{{1,2}}) (?:de )?({_PT_MONTH_RE})(?: de (\d{{4}}))?",
            _day_and_month(PT_MONTHS, day=1, month=2),
        ),
        _r(
            r"dia (\d{1,2}) (?:do|no) (?:mes que vem|proximo mes)",
            lambda m, td: _one(d, cal.day_of_month_offset(td, int(m.group(1)), 1)),
        ),
        _r(
            r"dia (\d{1,2})(?: (?:deste|desse|do) mes)?",
            lambda m, td: _one(d, cal.next_day_of_month(td, int(m.group(1)))),
        ),
        _r(
            r"(?:fim|final) do (?:mes que vem|proximo mes)",
            lambda m, td: [(d, cal.end_of_month(td, 1))],
        ),
        _r(r"(?:fim|final) d[oe] mes", lambda m, td: [(d, cal.end_of_month(td))]),
        _r(
            r"(?:comeco|inicio) do (?:mes que vem|proximo mes)",
            lambda m, td: [(d, cal.start_of_next_month(td))],
        ),
        _r(r"semana que vem|proxima semana", lambda m, td: [(d, cal.next_week_monday(td))]),
        _r(r"(?:fim|final) de semana", lambda m, td: [(d, cal.weekend(td))]),
        _r(r"mes que vem|proximo mes", lambda m, td: [(d, cal.next_month(td))]),
        _r(
            rf"(?:(?:em|no mes de|para|pra|ate|so em) )?({_PT_MONTH_RE})",
            lambda m, td: [(d, cal.month_alone(td, PT_MONTHS[m.group(1)]))],
        ),
        # times
        _r(
            r"(?:(?:as|a|pelas) )?(\d{1,2})(?:h|:)(\d{2})?(?: (?:da|de) (manha|tarde|noite))?",
            _clock,
        ),
        _r(
            r"(?:as|a|pelas|umas|das|depois das|a partir das|antes das) (\d{1,2})(?: horas?)?"
            r"(?: e (meia|\d{1,2}))?(?: horas?)?"
            r"(?: (?:da|de) (manha|tarde|noite|madrugada))?",
            _clock,
        ),
        _r(
            r"(\d{1,2}) horas?(?: e (meia|\d{1,2}))?(?: (?:da|de) (manha|tarde|noite|madrugada))?",
            _clock,
        ),
        _r(r"(?:ao |no )?meio dia", lambda m, td: [(t, dt.time(12, 0))]),
        _r(r"(?:a )?meia noite", lambda m, td: [(t, dt.time(0, 0))]),
        _r(r"(?:depois do|apos o) almoco", lambda m, td: [(p, dt.time(14, 0))]),
        _r(r"(?:na )?hora do almoco", lambda m, td: [(t, dt.time(12, 0))]),
        _r(r"(?:no )?(?:fim|final) da tarde", lambda m, td: [(p, dt.time(17, 0))]),
        _r(r"(?:de|da|pela|na parte da) manha", lambda m, td: [(p, dt.time(9, 0))]),
        _r(r"cedo", lambda m, td: [(p, dt.time(8, 0))]),
        _r(r"(?:a|de|da|pela|na parte da) tarde", lambda m, td: [(p, dt.time(14, 0))]),
        _r(r"(?:a|de|da|pela) noite", lambda m, td: [(p, dt.time(19, 0))]),
        # amounts
        _r(rf"brl {_NUM}(?: reais| real)?", _amount),
        _r(rf"usd {_NUM}(?: dolares| dolar)?", _amount),
        _r(
            rf"{_NUM} (?:reais|real|conto|contos|pila|pilas|dolares|dolar)"
            r"(?: (?:e )?(\d{1,2}) centavos?)?",
            _amount_and_cents,
        ),
        _r(r"(\d{1,2}) centavos?", _cents_alone),
        # fractions
        _r(r"(?:a )?metade", lambda m, td: [("fraction", 0.5)]),
        _r(
            r"o valor (?:total|todo|inteiro)|valor total|o total|tudo de uma vez|tudo|a vista"
            r"|integral|total",
            lambda m, td: [("fraction", 1.0)],
        ),
        # installment counts
        _r(r"(?:em )?(\d{1,2}) (?:vezes|parcelas|prestacoes|x)", _count),
        _r(r"parcelar em (\d{1,2})", _count),
    ]


def _en_rules() -> list[Rule]:
    d = "date"
    t = "time"
    p = "daypart"

    def wd(name: str) -> int:
        return EN_WEEKDAYS[name]

    return [
        # dates
        _r(
            r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}(?:/\d{2,4})?",
            lambda m, td: _one(d, _numeric_date(m, td, "MDY")),
        ),
        _r(r"(?:the )?day after tomorrow", lambda m, td: [(d, td + dt.timedelta(days=2))]),
        _r(r"the day after", lambda m, td: [(d, td + dt.timedelta(days=2))]),
        _r(r"tomorrow", lambda m, td: [(d, td + dt.timedelta(days=1))]),
        _r(r"today", lambda m, td: [(d, td)]),
        _r(r"tonight", lambda m, td: [(d, td), (p, dt.time(19, 0))]),
        _r(r"(?:(?:in|within) )?(\d+) days?(?: from (?:now|today))?", _days_ahead),
        _r(
            r"(?:in|within) (?:a|1) week|(?:a|1) week from (?:now|today)",
            lambda m, td: [(d, td + dt.timedelta(weeks=1))],
        ),
        _r(r"(?:(?:in|within) )?(\d+) weeks?(?: from (?:now|today))?", _weeks_ahead),
        _r(
            r"(?:in|within) (?:a|1) month|(?:a|1) month from (?:now|today)",
            lambda m, td: [(d, cal.add_months(td, 1))],
        ),
        _r(
            rf"({_EN_WEEKDAY_RE})s? (?:of )?next week|next weeks? ({_EN_WEEKDAY_RE})",
            lambda m, td: [(d, cal.weekday_of_next_week(td, wd(m.group(1) or m.group(2))))],
        ),
        _r(
            rf"(?:(?:next|this|on|coming|on the) )?({_EN_WEEKDAY_RE})",
            lambda m, td: [(d, cal.next_weekday(td, wd(m.group(1))))],
        ),
        _r(
            rf"(?:on )?({_EN_MONTH_RE}) (?:the )?(\d{{1,2}}){_ORD}(?: (\d{{4}}))?",
            _day_and_month(EN_MONTHS, day=2, month=1),
        ),
        _r(
            rf"(?:on )?(?:the )?(\d{{1,2}}){_ORD} of ({_EN_MONTH_RE})(?: (\d{{4}}))?",
            _day_and_month(EN_MONTHS, day=1, month=2),
        ),
        _r(
            rf"(?:on )?(?:the )?(\d{{1,2}}){_ORD} of next month",
            lambda m, td: _one(d, cal.day_of_month_offset(td, int(m.group(1)), 1)),
        ),
        _r(
            rf"(?:on )?the (\d{{1,2}}){_ORD}|(\d{{1,2}})(?:st|nd|rd|th)",
            lambda m, td: _one(d, cal.next_day_of_month(td, int(m.group(1) or m.group(2)))),
        ),
        _r(
            r"(?:at )?(?:the )?end of (?:the )?next month",
            lambda m, td: [(d, cal.end_of_month(td, 1))],
        ),
        _r(
            r"(?:at )?(?:the )?end of (?:the |this )?month",
            lambda m, td: [(d, cal.end_of_month(td))],
        ),
        _r(
            r"(?:at )?the (?:beginning|start) of (?:the )?next month",
            lambda m, td: [(d, cal.start_of_next_month(td))],
        ),
        _r(r"next week", lambda m, td: [(d, cal.next_week_monday(td))]),
        _r(r"(?:(?:on )?(?:the|this) )?weekend", lambda m, td: [(d, cal.weekend(td))]),
        _r(r"next month", lambda m, td: [(d, cal.next_month(td))]),
        _r(
            rf"in ({_EN_MONTH_RE})", lambda m, td: [(d, cal.month_alone(td, EN_MONTHS[m.group(1)]))]
        ),
        # times
        _r(
            r"(?:at )?(\d{1,2})(?::(\d{2})| (\d{2}))? ?(am|pm|a m|p m)",
            lambda m, td: _one(
                t, _hour(int(m.group(1)), _minutes(m.group(2) or m.group(3)), m.group(4))
            ),
        ),
        _r(r"(?:at )?(\d{1,2}):(\d{2})", _clock_no_period),
        _r(
            r"(?:at )?(?:half|quarter) past (\d{1,2})",
            lambda m, td: _one(t, _hour(int(m.group(1)), 30 if "half" in m.group(0) else 15, None)),
        ),
        _r(
            r"at (\d{1,2})(?: (\d{2}))?(?: oclock)?(?: in the (morning|afternoon|evening)"
            r"| at (night))?",
            lambda m, td: _one(
                t, _hour(int(m.group(1)), _minutes(m.group(2)), m.group(3) or m.group(4))
            ),
        ),
        _r(r"(\d{1,2}) oclock", lambda m, td: _one(t, _hour(int(m.group(1)), 0, None))),
        _r(r"(?:after|around|before) (\d{1,2})(?: (\d{2}))?(?: oclock)?", _clock_no_period),
        _r(r"(?:at )?(?:noon|midday)", lambda m, td: [(t, dt.time(12, 0))]),
        _r(r"(?:at )?midnight", lambda m, td: [(t, dt.time(0, 0))]),
        _r(r"after lunch", lambda m, td: [(p, dt.time(14, 0))]),
        _r(r"(?:at )?lunch ?time", lambda m, td: [(t, dt.time(12, 0))]),
        _r(r"(?:(?:in the|this|early in the) )?morning", lambda m, td: [(p, dt.time(9, 0))]),
        _r(r"(?:(?:in the|this) )?afternoon", lambda m, td: [(p, dt.time(14, 0))]),
        _r(r"(?:(?:in the|this) )?evening|at night", lambda m, td: [(p, dt.time(19, 0))]),
        # amounts
        _r(rf"usd {_NUM}(?: dollars?)?", _amount),
        _r(rf"{_NUM} (?:dollars?|bucks?)(?: (?:and )?(\d{{1,2}}) cents?)?", _amount_and_cents),
        _r(r"(\d{1,2}) cents?", _cents_alone),
        # fractions
        _r(
            r"half(?: of (?:it|that|the (?:amount|balance|debt)))?",
            lambda m, td: [("fraction", 0.5)],
        ),
        _r(
            r"it all|all of it|all at once|everything"
            r"|the (?:full|whole|entire|total) (?:amount|balance|thing)"
            r"|full amount|in full|the total|the whole thing",
            lambda m, td: [("fraction", 1.0)],
        ),
        # installment counts
        _r(r"(?:in )?(\d{1,2}) (?:monthly )?(?:installments?|payments|parts)", _count),
    ]


RULES: dict[str, list[Rule]] = {"pt": _pt_rules(), "en": _en_rules()}
_BARE_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")


# ---------------------------------------------------------------- extraction


def _overlaps(span: tuple[int, int], taken: Sequence[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def find_mentions(
    numeric: str, lang: str, today: dt.date, context: str | None = None
) -> tuple[list[Mention], bool]:
    """Every slot mention in ``numeric``; the flag says a bare number was read."""
    found: list[Mention] = []
    taken: list[tuple[int, int]] = []
    for rule in RULES[lang]:
        for match in rule.pattern.finditer(numeric):
            span = match.span()
            if span[0] == span[1] or _overlaps(span, taken):
                continue
            try:
                values = rule.handler(match, today)
            except (ValueError, OverflowError):  # "daqui a 99999999 dias"
                values = None
            if not values:
                continue
            taken.append(span)
            found.extend(Mention(kind, span[0], span[1], value) for kind, value in values)
    bare = False
    for match in _BARE_NUMBER.finditer(numeric):
        span = match.span()
        if _overlaps(span, taken):
            continue
        number = float(match.group(0))
        kind: str
        value: MentionValue | None
        if context == "offer_installments" and number.is_integer() and 2 <= number <= 24:
            kind, value = "count", int(number)
        elif number.is_integer() and 1 <= number <= 31:
            kind, value = "date", cal.next_day_of_month(today, int(number))
        else:
            kind, value = "amount", _cents(match.group(0))
        if value is None:
            continue
        bare = True
        taken.append(span)
        found.append(Mention(kind, span[0], span[1], value))
    found.sort(key=lambda m: (m.start, m.kind))
    return _mark_negations(found, numeric, lang), bare


def _mark_negations(mentions: list[Mention], text: str, lang: str) -> list[Mention]:
    neg = NEGATIONS[lang]
    after = re.compile(rf"\s+(?:{NEGATIONS_AFTER[lang]})\b")
    before = re.compile(rf"\b(?:{neg})\s+(?:(?:{FILLERS[lang]})\s+)*$")
    strong = [bool(after.match(text, m.end)) for m in mentions]
    weak = [bool(before.search(text[: m.start])) for m in mentions]
    result: list[Mention] = []
    for i, m in enumerate(mentions):
        negated = strong[i]
        if not negated and weak[i]:
            # "não sexta" alone is a correction ("no: Friday"), not a refusal of
            # Friday; it only cancels Friday when something else replaces it.
            negated = any(
                j != i and other.kind == m.kind and not strong[j] and not weak[j]
                for j, other in enumerate(mentions)
            )
        result.append(Mention(m.kind, m.start, m.end, m.value, negated))
    return result


def choose(mentions: Sequence[Mention], kind: str, text: str, lang: str) -> Any:
    """The value of ``kind`` the caller means (see the module docstring)."""
    live = [m for m in mentions if m.kind == kind and not m.negated]
    if not live:
        return None
    contrasts = [c.end() for c in re.finditer(rf"\b(?:{CONTRASTS[lang]})\b", text)]
    if contrasts:
        later = [m for m in live if m.start >= contrasts[-1]]
        if later:
            return later[0].value
    return live[0].value


def combine_time(hour: dt.time | None, part: dt.time | None) -> dt.time | None:
    """Join a clock hour with a part of the day ("à noite depois das oito" is
    20:00, "de manhã às sete" is 07:00); either alone stands as it is."""
    if hour is None:
        return part
    if part is None:
        return hour
    if part.hour >= 12 and hour.hour < 12:
        return hour.replace(hour=hour.hour + 12)
    if part.hour < 12 and 13 <= hour.hour <= 19:
        return hour.replace(hour=hour.hour - 12)
    return hour


def extract(numeric: str, lang: str, today: dt.date, context: str | None = None) -> Slots:
    """Read every slot of one utterance."""
    mentions, bare = find_mentions(numeric, lang, today, context)
    return Slots(
        date=choose(mentions, "date", numeric, lang),
        time=combine_time(
            choose(mentions, "time", numeric, lang), choose(mentions, "daypart", numeric, lang)
        ),
        amount_cents=choose(mentions, "amount", numeric, lang),
        fraction=choose(mentions, "fraction", numeric, lang),
        count=choose(mentions, "count", numeric, lang),
        mentions=tuple(mentions),
        bare_number=bare,
    )
