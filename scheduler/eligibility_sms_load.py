"""Loading what the SMS rules read: the person's snapshot (the calls' own
loader), their SMS consent, the SMS caps of their campaigns and the messages
already counted on their local day.

The rules (``scheduler.eligibility_sms``) never touch the database; the
reminder job calls :func:`load_sms_view` under the person's row lock, so the
count it reads cannot move before its message is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.messages import sent_on_day
from ivr.store.models import Campaign, Debtor
from ivr.vocab.messages import SmsPurpose
from scheduler.eligibility_load import load_campaign_rules, load_snapshots
from scheduler.eligibility_sms import SmsVerdict, evaluate_sms
from scheduler.snapshot import CampaignRules, DebtorSnapshot, SmsFacts
from scheduler.windows import local_day


@dataclass(frozen=True)
class SmsView:
    snap: DebtorSnapshot
    facts: SmsFacts
    campaigns: dict[int, CampaignRules]


async def load_sms_view(
    session: AsyncSession, debtor_id: int, now: dt.datetime, *, campaign_id: int | None = None
) -> SmsView | None:
    """Everything :func:`evaluate_sms` reads about one person (None: no such debtor).

    ``campaign_id``: a campaign the message is about, loaded even if none of
    the person's open debts is in it.
    """
    snaps, campaigns = await load_snapshots(session, [debtor_id], now)
    snap = snaps.get(debtor_id)
    if snap is None:
        return None
    if campaign_id is not None and campaign_id not in campaigns:
        campaigns = {**campaigns, **await load_campaign_rules(session, [campaign_id])}
    consent = (
        await session.execute(
            select(Debtor.sms_opted_out_at, Debtor.sms_allowed).where(Debtor.id == debtor_id)
        )
    ).one()
    caps = {
        row.id: int(row.sms_daily_cap)
        for row in (
            await session.execute(
                select(Campaign.id, Campaign.sms_daily_cap).where(Campaign.id.in_(list(campaigns)))
            )
        ).all()
    }
    today = local_day(now, snap.zones()[0])
    facts = SmsFacts(
        sms_opted_out_at=consent.sms_opted_out_at,
        sms_allowed=bool(consent.sms_allowed),
        sent_today=await sent_on_day(session, debtor_id, today),
        daily_caps=caps,
    )
    return SmsView(snap, facts, campaigns)


async def check_sms(
    session: AsyncSession,
    debtor_id: int,
    now: dt.datetime,
    purpose: SmsPurpose,
    *,
    on_call: bool = False,
    campaign_id: int | None = None,
) -> SmsVerdict:
    """Load and decide in one step (raises LookupError for an unknown debtor).

    A sender that must not exceed the cap calls this inside the transaction
    that holds the person's row lock and writes the outbox row.
    """
    view = await load_sms_view(session, debtor_id, now, campaign_id=campaign_id)
    if view is None:
        raise LookupError(f"no debtor {debtor_id}")
    return evaluate_sms(
        view.snap,
        view.facts,
        view.campaigns,
        now,
        purpose,
        on_call=on_call,
        campaign_id=campaign_id,
    )
