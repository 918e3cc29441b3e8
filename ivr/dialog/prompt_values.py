"""The values prompts speak: amounts, dates and numbers as the caller hears them.

Prompts carry placeholders (``{amount}``, ``{promise_date}``); this module fills
them for one call, as speakable text in the call's locale. Values known before
dialing are computed once (so personal prompts can be synthesized ahead of the
call); values the caller gives during the call are added as they come.
"""

from __future__ import annotations

from ivr.dialog.events import CallContext
from ivr.dialog.flow_guards import CallerAnswers, installment_cents, latest_promise_date
from ivr.dialog.flow_model import Flow
from ivr.dialog.prompts import PERSONAL_PLACEHOLDERS, PromptCatalog


def say_phone(number: str, locale: str) -> str:
    """A phone number read digit by digit in its national groups ("0 8 0 0, 1 2 3")."""
    import phonenumbers

    region = locale.split("-")[-1]
    text = number
    try:
        parsed = phonenumbers.parse(number, region)
        text = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        pass
    groups = ["".join(ch for ch in part if ch.isdigit()) for part in text.replace("-", " ").split()]
    return ", ".join(" ".join(g) for g in groups if g)


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
        "amount": say_amount(ctx.amount_cents, ctx.currency, loc),
        "due_date": say_date(ctx.due_date, loc, ctx.today),
        "callback_number": say_phone(ctx.callback_number, loc),
        "installment_amount": say_amount(installment_cents(ctx), ctx.currency, loc),
        "installments": say_count(ctx.installments, loc, feminine=True),  # parcelas
        "latest_date": say_date(latest_promise_date(ctx), loc, ctx.today),
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
    from ivr.dialog.speakable import say_amount, say_date, say_time

    values = dict(base)
    loc = ctx.locale
    if answers.promise_date is not None:
        values["promise_date"] = say_date(answers.promise_date, loc, ctx.today)
        values["promise_amount"] = say_amount(answers.promise_cents(ctx), ctx.currency, loc)
    day, at = answers.callback_date, answers.callback_time
    if day is not None or at is not None:
        parts = [say_date(day or ctx.today, loc, ctx.today)]
        if at is not None:
            parts.append(say_time(at, loc))
        values["callback_when"] = ", ".join(parts)
    return values


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
