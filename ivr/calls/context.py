"""What the dialog is told about the person, built from the store."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.dialog.events import CallContext
from ivr.store.models import CallAttempt, Debtor, utcnow
from ivr.store.queries import AttemptContext
from scheduler.caps import RIGHT_PARTY_OUTCOMES
from scheduler.zones import primary_zone


def debtor_zone(debtor: Debtor) -> ZoneInfo:
    """The zone whose calendar the call speaks in: the one the scheduler dates
    attempts by (record, else the numbers' first candidate, else the country's)."""
    return ZoneInfo(primary_zone(debtor.timezone, debtor.phones, debtor.country))


async def build_call_context(
    session: AsyncSession, data: AttemptContext, zone: ZoneInfo, callback_number: str = ""
) -> CallContext:
    debtor, debt, campaign = data.debtor, data.debt, data.campaign
    earlier_contacts = await session.scalar(
        select(func.count(CallAttempt.id)).where(
            CallAttempt.debtor_id == debtor.id,
            CallAttempt.id != data.attempt.id,
            CallAttempt.outcome.in_(sorted(RIGHT_PARTY_OUTCOMES)),
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
