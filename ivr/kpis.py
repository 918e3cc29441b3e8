"""Collection KPIs of a campaign (or of everything) over a period, read from the store in one call.

What each count counts is defined once, in :mod:`ivr.reports.kpis` (the
daily reports use the same predicates): attempts are outbound calls that
reached the carrier; a contact is a call a person spoke on (a silent line,
a machine or no answer is not one, whatever AMD said); a right-party contact
is a conversation with the verified debtor; a promise is an agreement (a
plan counts once); a promise is due once its day is over or it was settled.
This module adds what ``ivr demo`` shows beside them: outcomes by count, the
amount promised per currency, calls the debtors made to us (counted apart:
they are not attempts), and the transfers (:mod:`ivr.agents.reports`,
over every campaign in the period).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from ivr.agents.reports import TransferStats, transfer_stats
from ivr.reports.kpis import rate
from ivr.store.payments import (
    CollectionCounts,
    InboundCounts,
    collection_counts,
    inbound_counts,
    outcome_tally,
    promised_amounts,
)


@dataclass(frozen=True)
class CampaignKpis:
    """The counts, the rates made of them, outcomes and amounts promised."""

    counts: CollectionCounts
    outcomes: dict[str, int]
    promised_cents: dict[str, int]
    transfers: TransferStats
    inbound: InboundCounts

    @property
    def contact_rate(self) -> float | None:
        return rate(self.counts.live_contacts, self.counts.attempts)

    @property
    def rpc_rate(self) -> float | None:
        return rate(self.counts.right_party_contacts, self.counts.attempts)

    @property
    def ptp_rate(self) -> float | None:
        return rate(self.counts.promises, self.counts.right_party_contacts)

    @property
    def promise_kept_rate(self) -> float | None:
        return rate(self.counts.promises_kept, self.counts.promises_due)

    @property
    def abandonment_rate(self) -> float | None:
        return rate(self.transfers.abandoned, self.transfers.requested)


async def campaign_kpis(
    session: AsyncSession,
    *,
    campaign_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    today: dt.date | None = None,
) -> CampaignKpis:
    """The KPIs over attempts claimed in ``[since, until)``; ``today`` (UTC) decides what is due."""
    counts = await collection_counts(
        session,
        campaign_id=campaign_id,
        since=since,
        until=until,
        today=today or dt.datetime.now(dt.UTC).date(),
    )
    return CampaignKpis(
        counts=counts,
        outcomes=await outcome_tally(session, campaign_id=campaign_id, since=since, until=until),
        promised_cents=await promised_amounts(
            session, campaign_id=campaign_id, since=since, until=until
        ),
        transfers=await transfer_stats(session, since, until),
        inbound=await inbound_counts(session, campaign_id=campaign_id, since=since, until=until),
    )
