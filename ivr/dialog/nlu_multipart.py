"""Answers in more than one part: a range of days and a plan of payments.

Both are read from the slot mentions (``nlu_slots``) once every rule has run,
because they are about how mentions stand to each other, not about words:

* a **range** is two days joined as one: "entre dia 10 e dia 15", "do dia 5 ao
  dia 10", "between friday and monday", "from the 5th to the 10th", or two days
  offered as alternatives ("dia 20 ou 21", "the 20th or the 21st"). The result
  is its first and last day; the promise date is the first (the flow can hold
  the caller to the earliest day they named), ``date_end`` the last.
* a **plan** is two or more portions of the debt, each with its own day:
  "metade agora e o resto dia 20", "cem hoje e cem na sexta", "half now and
  half on the 20th". Each portion is paired with the day said next to it (before
  or after); a portion without a day ("não dá tudo de uma vez, ...") is no
  instalment. "O resto" / "the rest" is whatever the other instalments leave:
  a fraction when they are all fractions, else no amount at all. "Ou" / "or"
  means alternatives, never a plan.

In both, a day said after another but falling before it is read as its next
occurrence after that one: each day alone is the first such day from today,
so "entre segunda e quarta" said on a Monday gives next Monday and *this*
Wednesday, and "metade dia 10 e o resto dia 25" said on the 23rd gives the
10th of next month and the 25th of this one. A gap under a week moves the
later day on by weeks (a weekday), a longer one by months (a day of the month).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ivr.dialog import nlu_dates as cal
from ivr.dialog.nlu_slot_rules import Mention


@dataclass(frozen=True)
class PlannedPayment:
    """One instalment the caller proposed: a day and what is paid on it.

    At most one of ``amount_cents`` (money) and ``fraction`` (of the whole
    debt) is set; neither means "the rest", whatever the other instalments
    leave of the debt."""

    date: dt.date
    amount_cents: int | None = None
    fraction: float | None = None

    @property
    def is_rest(self) -> bool:
        return self.amount_cents is None and self.fraction is None

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "amount_cents": self.amount_cents,
            "fraction": self.fraction,
        }


#: Mention kinds that are a portion of the debt, and kinds that are a day.
PORTIONS = frozenset({"amount", "fraction", "rest"})
DAYS = frozenset({"date", "now"})
_ALTERNATIVE = {"pt": r"ou", "en": r"or"}
_FILLER = {"pt": r"(?:(?:o|a|no|na|dia|pro|pra|para)\s+)*", "en": r"(?:(?:the|on)\s+)*"}
_RANGE_OPEN = {"pt": r"entre|de|do|desde", "en": r"between|from"}
_RANGE_JOIN = {"pt": r"e|a|ao|ate", "en": r"and|to|through|thru|till|until"}


def after(earlier: dt.date, later: dt.date) -> dt.date:
    """``later`` moved on to fall on or after ``earlier`` (see the module docstring)."""
    if later >= earlier:
        return later
    if earlier - later < dt.timedelta(days=7):
        return later + dt.timedelta(days=7)
    for months in range(1, 13):
        moved = cal.add_months(later, months)
        if moved >= earlier:
            return moved
    return later  # pragma: no cover - a day is at most a year ahead


def _joined(lang: str, words: str) -> re.Pattern[str]:
    return re.compile(rf"\s*,?\s*(?:{words})\s+{_FILLER[lang]}")


def _day(mention: Mention) -> dt.date:
    assert isinstance(mention.value, dt.date), mention
    return mention.value


def _fraction(mention: Mention) -> float:
    assert isinstance(mention.value, float), mention
    return mention.value


def find_range(mentions: Sequence[Mention], text: str, lang: str) -> tuple[dt.date, dt.date] | None:
    """The first and last day of a range of days said in ``text``, if any."""
    days = [m for m in mentions if m.kind == "date" and not m.negated]
    opened = re.compile(rf"\b(?:{_RANGE_OPEN[lang]})\s+{_FILLER[lang]}$")
    join = _joined(lang, _RANGE_JOIN[lang])
    alternative = _joined(lang, _ALTERNATIVE[lang])
    for first, second in itertools.pairwise(days):
        between = text[first.end : second.start]
        is_range = bool(join.fullmatch(between) and opened.search(text[: first.start]))
        if is_range or alternative.fullmatch(between):
            low = _day(first)
            high = after(low, _day(second))
            if low < high:
                return low, high
    return None


def find_plan(mentions: Sequence[Mention], text: str, lang: str) -> tuple[PlannedPayment, ...]:
    """The instalments of a payment plan said in ``text``; empty when none."""
    if re.search(rf"\b(?:{_ALTERNATIVE[lang]})\b", text):
        return ()
    pairs: list[list[Mention | None]] = []  # [portion, day]
    for mention in mentions:
        if mention.negated or mention.kind not in PORTIONS | DAYS:
            continue
        slot = 0 if mention.kind in PORTIONS else 1
        if not pairs or pairs[-1][slot] is not None:
            pairs.append([None, None])
        pairs[-1][slot] = mention
    dated = [(portion, day) for portion, day in pairs if portion is not None and day is not None]
    if len(dated) < 2:
        return ()
    fractions = [_fraction(p) for p, _ in dated if p.kind == "fraction"]
    rests = sum(p.kind == "rest" for p, _ in dated)
    rest_fraction: float | None = None
    if rests == 1 and len(fractions) == len(dated) - 1 and sum(fractions) < 1:
        rest_fraction = round(1 - sum(fractions), 4)
    plan: list[PlannedPayment] = []
    for portion, day in dated:
        when = after(plan[-1].date, _day(day)) if plan else _day(day)
        if portion.kind == "amount":
            assert isinstance(portion.value, int)
            plan.append(PlannedPayment(when, amount_cents=portion.value))
        elif portion.kind == "fraction":
            plan.append(PlannedPayment(when, fraction=_fraction(portion)))
        else:
            plan.append(PlannedPayment(when, fraction=rest_fraction))
    return tuple(plan)
