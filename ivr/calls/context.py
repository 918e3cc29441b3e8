"""What the dialog is told about the person, built from the store."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as pn_timezone
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.dialog.events import CallContext
from ivr.store.models import CallAttempt, Debtor, Phone, utcnow
from ivr.store.queries import AttemptContext

DEFAULT_ZONES = {"BR": "America/Sao_Paulo", "US": "America/New_York"}
RIGHT_PARTY_OUTCOMES = ("right_party", "promise", "refused", "callback", "agent", "already_paid")


def debtor_zone(debtor: Debtor, phone: Phone | None) -> ZoneInfo:
    """The debtor's zone: their record, else their number, else their country's capital."""
    names: list[str] = []
    if debtor.timezone:
        names.append(debtor.timezone)
    if phone is not None:
        try:
            parsed = phonenumbers.parse(phone.e164)
            names.extend(z for z in pn_timezone.time_zones_for_number(parsed) if "/" in z)
        except phonenumbers.NumberParseException:
            pass
    names.append(DEFAULT_ZONES.get(debtor.country, "America/Sao_Paulo"))
    for name in names:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


async def build_call_context(
    session: AsyncSession, data: AttemptContext, zone: ZoneInfo, callback_number: str = ""
) -> CallContext:
    debtor, debt, campaign = data.debtor, data.debt, data.campaign
    earlier_contacts = await session.scalar(
        select(func.count(CallAttempt.id)).where(
            CallAttempt.debtor_id == debtor.id,
            CallAttempt.id != data.attempt.id,
            CallAttempt.outcome.in_(RIGHT_PARTY_OUTCOMES),
        )
    )
    locale = debtor.locale or (campaign.locale if campaign else "pt-BR")
    if locale not in ("pt-BR", "en-US"):
        locale = "pt-BR"
    return CallContext(
        locale=locale,
        first_name=debtor.first_name,
        creditor=debt.creditor if debt else "",
        company=campaign.company_name if campaign else "Central de Atendimento",
        amount_cents=debt.amount_cents if debt else 0,
        currency=debt.currency if debt else ("USD" if locale == "en-US" else "BRL"),
        due_date=debt.due_date if debt else utcnow().astimezone(zone).date(),
        today=utcnow().astimezone(zone).date(),
        birth_year=debtor.birth_year,
        max_promise_days=campaign.max_promise_days if campaign else 30,
        first_contact=not earlier_contacts,
        callback_number=(campaign.callback_number if campaign else "") or callback_number,
    )
