"""The values prompts speak: amounts, dates and numbers as the caller hears them.

Prompts carry placeholders (``{amount}``, ``{promise_date}``); this module fills
them for one call, as speakable text in the call's locale. Values known before
dialing are computed once (so personal prompts can be synthesized ahead of the
call); values the caller gives during the call are added as they come.
"""

from __future__ import annotations

import datetime as dt

from ivr.dialog.creditor_names import creditor_with_article
from ivr.dialog.events import CallContext
from ivr.dialog.flow_guards import (
    CallerAnswers,
    DatedAmounts,
    installment_cents,
    latest_promise_date,
)
from ivr.dialog.flow_model import Flow
from ivr.dialog.nlu_text import language_of
from ivr.dialog.prompts import PERSONAL_PLACEHOLDERS, PromptCatalog
from ivr.dialog.speakable import say_phone

__all__ = ["base_variables", "call_variables", "personal_prompts", "say_phone"]


def recording_notice(ctx: CallContext, catalog: PromptCatalog | None) -> str | None:
    """``{recording_notice}``: the catalog's line saying the call is recorded when
    the carrier records it, nothing when it does not. None (no value, so a
    notice cannot be rendered) for a recorded call without a catalog to say it."""
    if not ctx.recorded:
        return ""
    return None if catalog is None else catalog.line("recording_notice")


def base_variables(ctx: CallContext, catalog: PromptCatalog | None = None) -> dict[str, str]:
    """Every placeholder value known before the call is dialed (the recording
    notice's words come from the call's ``catalog``)."""
    from ivr.dialog.speakable import say_amount, say_company, say_count, say_date, say_name

    loc = ctx.locale
    values = {
        "first_name": say_name(ctx.first_name),
        "company": say_company(ctx.company),
        "creditor": say_company(ctx.creditor),
        "creditor_with_article": creditor_with_article(ctx.creditor, ctx.creditor_spoken, loc),
        "amount": say_amount(ctx.amount_cents, ctx.currency, loc),
        "due_date": say_date(ctx.due_date, loc, ctx.today),
        "callback_number": say_phone(ctx.callback_number, loc),
        "installment_amount": say_amount(installment_cents(ctx), ctx.currency, loc),
        "installments": say_count(ctx.installments, loc, feminine=True),  # parcelas
        "latest_date": say_date(latest_promise_date(ctx), loc, ctx.today),
        "max_instalments": say_count(ctx.max_instalments, loc, feminine=True),  # parcelas
        "max_plan_days": say_count(ctx.max_plan_days, loc),  # dias (masculine)
    }
    notice = recording_notice(ctx, catalog)
    if notice is not None:
        values["recording_notice"] = notice
    return values


def call_variables(
    ctx: CallContext, answers: CallerAnswers, base: dict[str, str]
) -> dict[str, str]:
    """``base`` (see :func:`base_variables`) plus what the caller has agreed to
    so far (the promise and the callback time), as speakable text."""
    from ivr.dialog.speakable import say_amount, say_count, say_date, say_name, say_time

    values = dict(base)
    loc = ctx.locale
    if answers.promise_date is not None:
        values["promise_date"] = say_date(answers.promise_date, loc, ctx.today)
        values["promise_amount"] = say_amount(answers.promise_cents(ctx), ctx.currency, loc)
    if answers.moved is not None:
        said, moved = answers.moved
        values["said_date"] = say_date(said, loc, ctx.today)
        values["moved_date"] = say_date(moved, loc, ctx.today)
    if answers.split:
        values["split_count"] = say_count(len(answers.split), loc, feminine=True)
        values["split_plan"] = say_split(ctx, answers.split)
    if ctx.candidates:  # inbound, a shared number: "1 para Ana, 2 para Bruno"
        joint = " para " if language_of(loc) == "pt" else " for "
        values["people"] = ", ".join(
            f"{i}{joint}{say_name(c.first_name)}" for i, c in enumerate(ctx.candidates, 1)
        )
    day, at = answers.callback_date, answers.callback_time
    if day is not None or at is not None:
        parts = [say_date(day or ctx.today, loc, ctx.today)]
        if at is not None:
            parts.append(say_time(at, loc))
        values["callback_when"] = ", ".join(parts)
    return values


def say_split(ctx: CallContext, split: DatedAmounts) -> str:
    """Each part of a split as amount and day: "setenta e cinco reais para
    hoje, segunda-feira, dia 24 de novembro, e setenta e cinco reais para
    sexta-feira, dia 19 de dezembro"."""
    from ivr.dialog.speakable import say_amount, say_date

    loc = ctx.locale
    pt = language_of(loc) == "pt"

    def part(day: dt.date, cents: int) -> str:
        # pt "para hoje", "para sexta-feira"; en "today", "on Friday".
        joint = "para " if pt else "" if (day - ctx.today).days <= 1 else "on "
        return f"{say_amount(cents, ctx.currency, loc)} {joint}{say_date(day, loc, ctx.today)}"

    parts = [part(day, cents) for day, cents in split]
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + (", e " if pt else ", and ") + parts[-1]


def personal_prompts(
    ctx: CallContext, flow: Flow, catalog: PromptCatalog
) -> list[tuple[str, str, int]]:
    """(prompt_id, text, variant) of every prompt this call may play that carries
    personal data and can be rendered before dialing, so the service synthesizes
    them ahead and answering never waits for speech synthesis. Prompts without
    personal data are shared by all calls and cached by text elsewhere."""
    values = base_variables(ctx, catalog)
    out: list[tuple[str, str, int]] = []
    for prompt_id in sorted(flow.prompt_ids()):
        names = catalog.placeholders(prompt_id)
        if not names & PERSONAL_PLACEHOLDERS or not names <= set(values):
            continue
        for variant in range(catalog.variants(prompt_id)):
            out.append((prompt_id, catalog.render(prompt_id, values, variant), variant))
    return out
