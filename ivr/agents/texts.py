"""Words spoken around a transfer, per locale: hold, queue, callback, agent whisper.

Short and warm: the debtor hears what is happening and how long it may take;
the agent hears one sentence that lets them greet the person by name.
The callback offer and "keep waiting" lines come from the prompt catalog
(``prompts/<locale>/prompts.yaml``), so they read like the rest of the call.
"""

from __future__ import annotations

import datetime as dt
import functools

from babel.dates import format_date
from babel.numbers import format_currency

from ivr.dialog.prompts import PromptCatalog
from ivr.vocab.locales import LOCALES

HOLD = {
    "pt-BR": "Um momento, vou chamar uma pessoa da nossa equipe para continuar a conversa.",
    "en-US": "One moment, I'm getting a person from our team to continue the conversation.",
}
AGENT_FOUND = {
    "pt-BR": "Encontrei uma pessoa da equipe para falar com você. Só um instante.",
    "en-US": "I found someone on our team to talk with you. Just a moment.",
}
NEXT_AGENT = {
    "pt-BR": "Desculpe a demora. Vou tentar outra pessoa da equipe.",
    "en-US": "Sorry for the wait. I'll try someone else on our team.",
}
QUEUE_FIRST = {
    "pt-BR": "Todas as pessoas da equipe estão em atendimento. Você é a próxima da fila. "
    "Por favor, aguarde.",
    "en-US": "Everyone on our team is on a call. You are next in line. Please hold.",
}
QUEUE_POSITION = {
    "pt-BR": "Todas as pessoas da equipe estão em atendimento. Há {ahead} pessoas antes de você. "
    "Por favor, aguarde.",
    "en-US": "Everyone on our team is on a call. There are {ahead} callers ahead of you. "
    "Please hold.",
}
CALLBACK_CONFIRMED = {
    "pt-BR": "Combinado, vamos ligar de volta {when}. Obrigada pela paciência, e até logo.",
    "en-US": "All set, we'll call you back {when}. Thank you for your patience. Goodbye.",
}
CALLBACK_SOON = {"pt-BR": "em breve", "en-US": "soon"}
AFTER_AGENT = {
    "pt-BR": "Obrigada pela ligação. Até logo.",
    "en-US": "Thank you for your call. Goodbye.",
}
NOBODY = {
    "pt-BR": "Desculpe, não conseguimos falar com ninguém da equipe agora. "
    "Vamos ligar de volta. Até logo.",
    "en-US": "Sorry, we could not reach anyone on our team right now. "
    "We will call you back. Goodbye.",
}
REASON_WORDS = {
    "pt-BR": {
        "asked_for_agent": "pediu para falar com uma pessoa",
        "not_understood": "o atendimento automático não entendeu",
        "cannot_pay": "não consegue pagar agora",
        "dispute": "contesta a dívida",
        "negotiation": "quer negociar a data",
    },
    "en-US": {
        "asked_for_agent": "asked for a person",
        "not_understood": "the automated call could not understand",
        "cannot_pay": "cannot pay now",
        "dispute": "disputes the debt",
        "negotiation": "wants to negotiate the date",
    },
}
WHISPER = {
    "pt-BR": "Transferência: {name}, {amount} com {creditor}. Motivo: {reason}.",
    "en-US": "Transfer: {name}, {amount} owed to {creditor}. Reason: {reason}.",
}
WHISPER_NO_DEBT = {
    "pt-BR": "Transferência: {name}. Motivo: {reason}.",
    "en-US": "Transfer: {name}. Reason: {reason}.",
}
YES_WORDS = {
    "pt-BR": ("sim", "quero", "pode", "isso", "ok"),
    "en-US": ("yes", "yeah", "sure", "please", "ok"),
}


def pick(table: dict[str, str], locale: str) -> str:
    return table.get(locale, table["pt-BR"])


def babel_locale(locale: str) -> str:
    return locale.replace("-", "_")


def money(amount_cents: int, currency: str, locale: str) -> str:
    return format_currency(amount_cents / 100, currency, locale=babel_locale(locale))


def reason_words(reason: str, locale: str) -> str:
    words = REASON_WORDS.get(locale, REASON_WORDS["pt-BR"])
    return words.get(reason, reason.replace("_", " "))


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
        return pick(WHISPER_NO_DEBT, locale).format(name=name, reason=why)
    return pick(WHISPER, locale).format(
        name=name, amount=money(amount_cents, currency, locale), creditor=creditor, reason=why
    )


def queue_hold(locale: str, position: int) -> str:
    if position <= 1:
        return pick(QUEUE_FIRST, locale)
    return pick(QUEUE_POSITION, locale).format(ahead=position - 1)


def callback_confirmed(locale: str, due_local: dt.datetime | None, soon: bool) -> str:
    if due_local is None or soon:
        when = pick(CALLBACK_SOON, locale)
    else:
        day = format_date(due_local.date(), format="full", locale=babel_locale(locale))
        when = (
            f"em {day}, a partir das {due_local:%H:%M}"
            if locale == "pt-BR"
            else f"on {day}, from {due_local:%I:%M %p}"
        )
    return pick(CALLBACK_CONFIRMED, locale).format(when=when)


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


@functools.lru_cache(maxsize=4)
def _catalog(locale: str) -> PromptCatalog:
    return PromptCatalog.load(locale)


def catalog_text(prompt_id: str, locale: str, fallback: str) -> str:
    """A line from the call's own prompt catalog, or ``fallback`` if it is missing."""
    try:
        return _catalog(locale if locale in LOCALES else "pt-BR").render(prompt_id, {}, 0)
    except Exception:
        return fallback


def offer_callback(locale: str) -> str:
    return catalog_text(
        "queue_offer_callback",
        locale,
        "Prefere que a gente ligue de volta? Tecle 1 para sim, ou 2 para continuar esperando."
        if locale == "pt-BR"
        else "Would you rather we call you back? Press 1 for yes, or 2 to keep waiting.",
    )


def keep_waiting(locale: str) -> str:
    return catalog_text(
        "queue_keep_waiting",
        locale,
        "Tudo bem, você continua na espera." if locale == "pt-BR" else "All right, please hold.",
    )
