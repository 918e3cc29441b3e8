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

An amount said per month ("cinquenta por mês") is both an ``amount`` and a
``monthly`` mention. "Agora"/"now" (``now``) and "o resto"/"the rest"
(``rest``) only matter inside a payment plan; ranges of days and plans are
read from the mentions by ``nlu_multipart``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ivr.dialog import nlu_dates as cal
from ivr.dialog import nlu_rules_en, nlu_rules_pt
from ivr.dialog.nlu_multipart import PlannedPayment, find_plan, find_range
from ivr.dialog.nlu_slot_rules import Mention, MentionValue, Rule, cents

#: The slot rules of each language, in the order they are tried.
RULES: dict[str, list[Rule]] = {"pt": nlu_rules_pt.RULES, "en": nlu_rules_en.RULES}
_BARE_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")

# Words that cancel an adjacent mention, and fillers allowed between them.
# "sexta não, segunda" / "friday no, monday": a negation right after a mention
# takes it back; "quinta, não sexta" / "thursday not friday": a negation right
# before a mention takes that one back. English "not" only looks forward.
NEGATIONS = {"pt": r"nao", "en": r"no|not"}
NEGATIONS_AFTER = {"pt": r"nao", "en": r"no"}
FILLERS = {"pt": r"na|no|em|dia|pra|para|a|o|de", "en": r"on|the|by|in|at"}
CONTRASTS = {"pt": r"so|mas|porem|somente|apenas", "en": r"only|but|just|instead"}
#: Mention kinds that mean something only as part of a payment plan.
PLAN_ONLY = frozenset({"now", "rest"})


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
    date_end: dt.date | None = None
    monthly_cents: int | None = None
    plan: tuple[PlannedPayment, ...] = ()

    @property
    def any(self) -> bool:
        return any(
            v is not None
            for v in (self.date, self.time, self.amount_cents, self.fraction, self.count)
        )

    @property
    def all_negated(self) -> bool:
        """Something was said, and every part of it was taken back."""
        said = [m for m in self.mentions if m.kind not in PLAN_ONLY]
        return bool(said) and all(m.negated for m in said)


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
            kind, value = "amount", cents(match.group(0))
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
    day_range = find_range(mentions, numeric, lang)
    return Slots(
        date=day_range[0] if day_range else choose(mentions, "date", numeric, lang),
        time=combine_time(
            choose(mentions, "time", numeric, lang), choose(mentions, "daypart", numeric, lang)
        ),
        amount_cents=choose(mentions, "amount", numeric, lang),
        fraction=choose(mentions, "fraction", numeric, lang),
        count=choose(mentions, "count", numeric, lang),
        mentions=tuple(mentions),
        bare_number=bare,
        date_end=day_range[1] if day_range else None,
        monthly_cents=choose(mentions, "monthly", numeric, lang),
        plan=find_plan(mentions, numeric, lang),
    )
