"""Picks and fills what is said around a transfer: hold, queue, callback, agent whisper.

The words themselves live in the prompt catalog (``prompts/<locale>/prompts.yaml``:
its ``lines`` section, and the queue's ``queue_offer_callback`` and
``queue_keep_waiting`` prompts), so they are reviewed and translated with the
rest of the call. This module only chooses the line and fills in the name,
amount, date or queue position.
"""

from __future__ import annotations

import datetime as dt
import functools

from babel.dates import format_date
from babel.numbers import format_currency

from ivr.dialog.prompts import PromptCatalog
from ivr.vocab.locales import LOCALES

# Ids of the catalog lines the transfer flow says as they are.
HOLD = "transfer_hold"
AGENT_FOUND = "transfer_agent_found"
NEXT_AGENT = "transfer_next_agent"
AFTER_AGENT = "after_agent"
NOBODY = "transfer_nobody"

#: Words that mean "yes" to the callback offer: what the caller says, not what we say.
YES_WORDS = {
    "pt-BR": ("sim", "quero", "pode", "isso", "ok"),
    "en-US": ("yes", "yeah", "sure", "please", "ok"),
}


@functools.lru_cache(maxsize=4)
def _catalog(locale: str) -> PromptCatalog:
    return PromptCatalog.load(locale)


def _catalog_for(locale: str) -> PromptCatalog:
    """The locale's catalog; pt-BR, the product's first language, for any other."""
    return _catalog(locale if locale in LOCALES else "pt-BR")


def pick(line_id: str, locale: str, **values: object) -> str:
    """The catalog line ``line_id`` in ``locale``, its placeholders filled from ``values``."""
    return _catalog_for(locale).line(line_id, values)


def babel_locale(locale: str) -> str:
    return locale.replace("-", "_")


def money(amount_cents: int, currency: str, locale: str) -> str:
    return format_currency(amount_cents / 100, currency, locale=babel_locale(locale))


def reason_words(reason: str, locale: str) -> str:
    """The transfer reason in words for the agent; the code itself if it has no line."""
    line_id = f"reason_{reason}"
    if line_id in _catalog_for(locale).lines:
        return pick(line_id, locale)
    return reason.replace("_", " ")


def whisper(
    locale: str,
    *,
    name: str,
    reason: str,
    amount_cents: int | None = None,
    currency: str = "BRL",
    creditor: str | None = None,
) -> str:
    """The one sentence the agent hears before the bridge."""
    why = reason_words(reason, locale)
    if amount_cents is None or not creditor:
        return pick("agent_whisper_no_debt", locale, full_name=name, transfer_reason=why)
    return pick(
        "agent_whisper",
        locale,
        full_name=name,
        amount=money(amount_cents, currency, locale),
        creditor=creditor,
        transfer_reason=why,
    )


def whisper_unidentified(locale: str, *, caller: str, reason: str) -> str:
    """The agent's sentence for a caller who has not said who they are: their
    number, and that nobody has verified them (so no debt is discussed blind)."""
    why = reason_words(reason, locale)
    return pick("agent_whisper_unidentified", locale, caller_number=caller, transfer_reason=why)


def unidentified_notice(locale: str, caller: str) -> str:
    """What the agent's screen says instead of a debtor's name and debt."""
    return pick("agent_unidentified_caller", locale, caller_number=caller)


def call_us_back(locale: str) -> str:
    """Said in the queue, instead of a callback offer, to a caller we could not call
    back: they have not said who they are, so a callback would be a call about a
    debt to a number nobody verified, outside the rule book (no person to check
    an opt-out, a window or a cap against). They keep their place in the queue."""
    return pick("queue_call_us_back", locale)


def queue_hold(locale: str, position: int) -> str:
    if position <= 1:
        return pick("queue_first", locale)
    return pick("queue_position", locale, callers_ahead=position - 1)


def callback_confirmed(locale: str, due_local: dt.datetime | None, soon: bool) -> str:
    if due_local is None or soon:
        when = pick("callback_soon", locale)
    else:
        day = format_date(due_local.date(), format="full", locale=babel_locale(locale))
        time = f"{due_local:%H:%M}" if locale == "pt-BR" else f"{due_local:%I:%M %p}"
        when = pick("callback_on_day", locale, callback_day=day, callback_time=time)
    return pick("callback_confirmed", locale, callback_when=when)


def is_yes(locale: str, digits: str | None, speech: str | None) -> bool | None:
    """1 or a yes-word: True; 2 or anything else said: False; nothing: None."""
    if digits:
        return digits.strip().startswith("1")
    if speech:
        words = speech.lower().replace(",", " ").replace(".", " ").split()
        negations = ("não", "nao", "no", "not")
        if any(w in negations for w in words):
            return False
        return any(w in YES_WORDS.get(locale, YES_WORDS["pt-BR"]) for w in words)
    return None


def offer_callback(locale: str) -> str:
    """The queue's callback offer: the catalog prompt's first wording."""
    return _catalog_for(locale).render("queue_offer_callback", {}, 0)


def keep_waiting(locale: str) -> str:
    """Said when the caller declines the callback and stays in the queue."""
    return _catalog_for(locale).render("queue_keep_waiting", {}, 0)
