"""Brazilian Portuguese slot rules: which words name a date, time, amount or count.

The rules are tried in this order and each claims the characters it matched
(see ``nlu_slots``), so a longer, more specific phrase comes before the looser
one it contains ("depois de amanhã" before "amanhã"). Weekdays arrive as
``wd<N>`` tokens from ``nlu_text``. What a matched number means is read by the
shared handlers of ``nlu_slot_rules``.
"""

from __future__ import annotations

import datetime as dt

from ivr.dialog import nlu_dates as cal
from ivr.dialog import nlu_slot_rules as r
from ivr.dialog.nlu_slot_rules import NUM, Rule, fixed, rule

MONTHS = {
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
_MONTH = "|".join(MONTHS)
_NEXT_MONTH = r"(?:mes que vem|proximo mes)"
_NEXT_WEEK = r"(?:semana que vem|proxima semana)"
_WITHIN = r"(?:daqui a|daqui|em|dentro de)"

DATES = [
    r.typed_date("DMY"),
    rule(
        rf"(?:(?:n?o|ate o|pelo) )?(?:(\d{{1,2}})|ultimo) dia util"
        rf"(?: (?:deste|desse|do) mes)?(?: (?:do|no) ({_NEXT_MONTH}))?",
        r.business_day("BR", next_month=2),
    ),
    rule(r"(?:so )?depois do natal", r.date_from(lambda td: cal.day_after_date(td, 12, 25))),
    rule(
        r"(?:so )?depois (?:do ano novo|da virada|do reveillon)",
        r.date_from(lambda td: cal.day_after_date(td, 1, 1)),
    ),
    rule(r"(?:so )?depois do carnaval", r.date_from(cal.after_carnival)),
    rule(r"depois de amanha", r.days_from_today(2)),
    rule(r"amanha", r.days_from_today(1)),
    rule(r"hoje", r.days_from_today(0)),
    # "dia" alone after a number is "500 dia 30", not 500 days
    rule(rf"{_WITHIN} (\d+) dias?|(\d+) dias", r.days_ahead),
    rule(rf"(?:{_WITHIN} )?(\d+) semanas?", r.weeks_ahead),
    rule(rf"{_WITHIN} (\d+) m[eê]s(?:es)?", r.months_ahead),
    rule(rf"wd(\d)(?: feira)? (?:da |na )?{_NEXT_WEEK}", r.weekday_of_next_week(int)),
    # "na outra sexta", and "(essa) sexta (que vem) não, (n)a outra"
    rule(r"(?:n?a )?outra wd(\d)(?: feira)?", r.weekday_after_next(int)),
    rule(
        r"(?:(?:n?essa|n?esta|proxima) )?wd(\d)(?: feira)?(?: que vem)? nao"
        r"(?: da| posso| consigo)?(?: ,)? (?:so )?(?:n?a )?outra",
        r.weekday_after_next(int),
    ),
    rule(r"(?:proxim[ao] )?wd(\d)(?: feira)?(?: que vem)?", r.next_weekday(int)),
    rule(
        rf"(?:dia )?(\d{{1,2}}) (?:de )?({_MONTH})(?: de (\d{{4}}))?",
        r.day_and_month(MONTHS, day=1, month=2),
    ),
    rule(rf"dia (\d{{1,2}}) (?:do|no) {_NEXT_MONTH}", r.day_of_next_month),
    rule(r"dia (\d{1,2})(?: (?:deste|desse|do) mes)?", r.day_of_month),
    rule(rf"(?:fim|final) do {_NEXT_MONTH}", r.date_from(lambda td: cal.end_of_month(td, 1))),
    rule(r"(?:fim|final) d[oe] mes", r.date_from(cal.end_of_month)),
    rule(rf"(?:comeco|inicio) do (?:{_NEXT_MONTH}|mes)", r.date_from(cal.start_of_next_month)),
    rule(rf"(?:comeco|inicio) de ({_MONTH})", r.first_of_month(MONTHS)),
    rule(
        rf"(?:fim|final) da {_NEXT_WEEK}", r.date_from(lambda td: cal.weekday_of_next_week(td, 4))
    ),
    rule(_NEXT_WEEK, r.date_from(cal.next_week_monday)),
    rule(r"(?:fim|final) de semana", r.date_from(cal.weekend)),
    rule(_NEXT_MONTH, r.date_from(cal.next_month)),
    rule(rf"(?:(?:em|no mes de|para|pra|ate|so em) )?({_MONTH})", r.month_alone(MONTHS)),
]

_PERIOD = r"(?: (?:da|de) (manha|tarde|noite|madrugada))?"
TIMES = [
    rule(
        r"(?:(?:as|a|pelas) )?(\d{1,2})(?:h|:)(\d{2})?(?: (?:da|de) (manha|tarde|noite))?", r.clock
    ),
    rule(
        r"(?:as|a|pelas|umas|das|depois das|a partir das|antes das) (\d{1,2})(?: horas?)?"
        rf"(?: e (meia|\d{{1,2}}))?(?: horas?)?{_PERIOD}",
        r.clock,
    ),
    rule(rf"(\d{{1,2}}) horas?(?: e (meia|\d{{1,2}}))?{_PERIOD}", r.clock),
    rule(r"(?:ao |no )?meio dia", fixed("time", dt.time(12, 0))),
    rule(r"(?:a )?meia noite", fixed("time", dt.time(0, 0))),
    rule(r"(?:depois do|apos o) almoco", fixed("daypart", dt.time(14, 0))),
    rule(r"(?:na )?hora do almoco", fixed("time", dt.time(12, 0))),
    rule(r"(?:no )?(?:fim|final) da tarde", fixed("daypart", dt.time(17, 0))),
    rule(r"(?:de|da|pela|na parte da) manha", fixed("daypart", dt.time(9, 0))),
    rule(r"cedo", fixed("daypart", dt.time(8, 0))),
    rule(r"(?:a|de|da|pela|na parte da) tarde", fixed("daypart", dt.time(14, 0))),
    rule(r"(?:a|de|da|pela) noite", fixed("daypart", dt.time(19, 0))),
]

AMOUNTS = [
    rule(
        rf"(?:brl )?{NUM}(?: (?:reais|real|conto|contos|pila|pilas))?"
        r" (?:por mes|ao mes|mensais|mensal|todo mes|cada mes|mensalmente)",
        r.per_month,
    ),
    rule(rf"brl {NUM}(?: reais| real)?", r.amount),
    rule(rf"usd {NUM}(?: dolares| dolar)?", r.amount),
    rule(
        rf"{NUM} (?:reais|real|conto|contos|pila|pilas|dolares|dolar)"
        r"(?: (?:e )?(\d{1,2}) centavos?)?",
        r.amount_and_cents,
    ),
    rule(r"(\d{1,2}) centavos?", r.cents_alone),
    # fractions of the debt
    rule(r"(?:a )?metade", fixed("fraction", 0.5)),
    rule(
        r"o valor (?:total|todo|inteiro)|valor total|o total|tudo de uma vez|tudo|a vista"
        r"|integral|total",
        fixed("fraction", 1.0),
    ),
    # parts of a payment plan ("metade agora e o resto dia 20")
    rule(r"(?:o )?(?:resto|restante)", fixed("rest", 1)),
    rule(r"agora(?: mesmo)?", r.now),
    # installment counts
    rule(r"(?:em )?(\d{1,2}) (?:vezes|parcelas|prestacoes|x)", r.count),
    rule(r"parcelar em (\d{1,2})", r.count),
]

RULES: list[Rule] = DATES + TIMES + AMOUNTS
