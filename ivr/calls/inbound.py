"""What an inbound call knows when it starts, and what it looks up as it goes.

The caller's number only narrows who may be calling (caller ID can be forged):
each candidate gets their own :class:`CallContext` with the campaign's inbound
verification policy, and the dialog speaks as one of them only after the
caller chose, and says nothing about a debt before they are verified.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.calls.context import (
    CallSetup,
    DebtorCalendar,
    build_call_context,
    debtor_zone,
    load_call_setup,
)
from ivr.dialog.events import CallContext
from ivr.store import inbound as store
from ivr.store.models import CallAttempt, Campaign, Debtor, Phone, utcnow
from ivr.store.queries import AttemptContext
from ivr.vocab.attempts import AttemptDirection

_DEFAULT_COMPANY = "Central de Atendimento"


async def candidate_contexts(
    session: AsyncSession,
    attempt: CallAttempt,
    debtors: Sequence[Debtor],
    callback_numbers: Mapping[str, str] | None,
) -> tuple[CallContext, ...]:
    """One context per person the caller may be, as if the call were theirs."""
    out = []
    for debtor in debtors:
        debt = await store.open_debt(session, debtor.id)
        campaign = (
            await session.get(Campaign, debt.campaign_id) if debt and debt.campaign_id else None
        )
        phone = await session.scalar(
            select(Phone).where(Phone.debtor_id == debtor.id, Phone.e164 == attempt.to_number)
        )
        data = AttemptContext(attempt, debtor, debt, phone, campaign)
        out.append(await build_call_context(session, data, debtor_zone(debtor), callback_numbers))
    return tuple(out)


async def load_inbound_setup(
    session: AsyncSession, attempt: CallAttempt, callback_numbers: Mapping[str, str] | None
) -> CallSetup:
    """The caller's context: who they may be (their number's people), nothing said yet."""
    debtors = await store.debtors_by_phone(session, attempt.to_number)
    candidates = await candidate_contexts(session, attempt, debtors, callback_numbers)
    first = candidates[0] if candidates else None
    company = first.company if first else await _any_company(session)
    locale = first.locale if first else store.number_locale(attempt.to_number)
    zone = debtor_zone(debtors[0]) if debtors else None
    today = utcnow().astimezone(zone).date() if zone else utcnow().date()
    context = CallContext(
        locale=locale,
        first_name="",
        creditor="",
        company=company,
        amount_cents=0,
        currency="USD" if locale == "en-US" else "BRL",
        due_date=today,
        today=today,
        callback_number=first.callback_number if first else "",
        inbound=True,
        candidates=candidates,
    )
    calendar = DebtorCalendar(
        zone=zone or debtor_zone_default(locale),
        country=first.country if first else ("US" if locale == "en-US" else "BR"),
        region=first.region if first else None,
        paid_pause_days=2,
    )
    return CallSetup(context, calendar, None)


def debtor_zone_default(locale: str) -> ZoneInfo:
    """The zone of an unknown caller's calendar, by the language they are greeted in."""
    return ZoneInfo("America/New_York" if locale == "en-US" else "America/Sao_Paulo")


async def _any_company(session: AsyncSession) -> str:
    name = await session.scalar(
        select(Campaign.company_name).where(Campaign.active.is_(True)).order_by(Campaign.id)
    )
    return name or _DEFAULT_COMPANY


async def reference_contexts(
    session: AsyncSession, attempt_id: int, reference: str, callback_numbers: Mapping[str, str]
) -> tuple[CallContext, ...]:
    """The people a keyed reference names, as contexts of this call."""
    attempt = await session.get(CallAttempt, attempt_id)
    if attempt is None:
        return ()
    debtors = await store.debtors_by_reference(session, reference)
    return await candidate_contexts(session, attempt, debtors, callback_numbers)


async def load_setup(
    session: AsyncSession, attempt_id: int, callback_numbers: Mapping[str, str] | None
) -> CallSetup | None:
    """An accepted stream's setup: the debtor's for our calls, the caller's for theirs."""
    attempt = await session.get(CallAttempt, attempt_id)
    if attempt is None:
        return None
    if attempt.direction == AttemptDirection.INBOUND:
        return await load_inbound_setup(session, attempt, callback_numbers)
    return await load_call_setup(session, attempt_id, callback_numbers)
