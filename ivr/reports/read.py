"""Reading the reports from the roll-ups: a campaign's days, and one day of every campaign.

These read only ``daily_campaign_stats`` (a row per campaign and day, a few
hundred per campaign-year), so a report over 90 days of ten million calls
reads ~90 rows per campaign. Rates come from :func:`ivr.reports.kpis.derive`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.reports.kpis import COUNT_FIELDS, DayCounts, Kpis, derive, promises_due
from ivr.store.models import Campaign, DailyCampaignStats


@dataclass(frozen=True)
class ReportRow:
    """One line of a report: a day (or a campaign) with its counts and rates."""

    day: dt.date | None
    campaign_id: int | None
    campaign_name: str | None
    counts: DayCounts
    kpis: Kpis


@dataclass(frozen=True)
class Report:
    rows: Sequence[ReportRow]
    totals: ReportRow


def _counts(row: DailyCampaignStats) -> DayCounts:
    return DayCounts(**{name: getattr(row, name) for name in COUNT_FIELDS})


async def _assigned_before(
    session: AsyncSession, day: dt.date, campaign_ids: Sequence[int] | None
) -> dict[int, int]:
    """Each campaign's debts assigned before ``day`` (the base of liquidation)."""
    stmt = (
        select(DailyCampaignStats.campaign_id, func.sum(DailyCampaignStats.assigned_cents))
        .where(DailyCampaignStats.local_day < day)
        .group_by(DailyCampaignStats.campaign_id)
    )
    if campaign_ids is not None:
        stmt = stmt.where(DailyCampaignStats.campaign_id.in_(campaign_ids))
    return {int(cid): int(cents or 0) for cid, cents in (await session.execute(stmt)).all()}


async def campaign_report(
    session: AsyncSession, campaign_id: int, day_from: dt.date, day_to: dt.date, today: dt.date
) -> Report:
    """Every day of ``[day_from, day_to]`` (days without calls as zeros) and the totals."""
    stored = {
        r.local_day: r
        for r in await session.scalars(
            select(DailyCampaignStats).where(
                DailyCampaignStats.campaign_id == campaign_id,
                DailyCampaignStats.local_day.between(day_from, day_to),
            )
        )
    }
    assigned = (await _assigned_before(session, day_from, [campaign_id])).get(campaign_id, 0)
    total, total_due = DayCounts(), 0
    rows: list[ReportRow] = []
    day = day_from
    while day <= day_to:
        found = stored.get(day)
        c = _counts(found) if found is not None else DayCounts()
        assigned += c.assigned_cents
        due = promises_due(c, day, today)
        total.add(c)
        total_due += due
        kpis = derive(c, due=due, assigned_to_date=assigned)
        rows.append(ReportRow(day, campaign_id, None, c, kpis))
        day += dt.timedelta(days=1)
    totals = ReportRow(
        None, campaign_id, None, total, derive(total, due=total_due, assigned_to_date=assigned)
    )
    return Report(rows, totals)


async def day_summary(session: AsyncSession, day: dt.date, today: dt.date) -> Report:
    """Every campaign on one day (campaigns without calls that day included), and the totals."""
    names = select(Campaign.id, Campaign.name).order_by(Campaign.id)
    campaigns = (await session.execute(names)).all()
    stored = {
        r.campaign_id: r
        for r in await session.scalars(
            select(DailyCampaignStats).where(DailyCampaignStats.local_day == day)
        )
    }
    before = await _assigned_before(session, day, None)
    total, total_due, total_assigned = DayCounts(), 0, 0
    rows: list[ReportRow] = []
    for cid, name in campaigns:
        found = stored.get(cid)
        c = _counts(found) if found is not None else DayCounts()
        assigned = before.get(cid, 0) + c.assigned_cents
        due = promises_due(c, day, today)
        total.add(c)
        total_due += due
        total_assigned += assigned
        rows.append(ReportRow(day, cid, name, c, derive(c, due=due, assigned_to_date=assigned)))
    totals = ReportRow(
        day, None, None, total, derive(total, due=total_due, assigned_to_date=total_assigned)
    )
    return Report(rows, totals)
