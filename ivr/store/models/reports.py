"""Daily roll-ups of the collection KPIs: one row per campaign and local day.

The rows are derived data: every column is a count or a sum of facts kept
elsewhere (attempts, promises, payments, debts, transfers), recomputed for a
(campaign, day) key by :mod:`ivr.reports.rollups` with the definitions of
:mod:`ivr.reports.kpis`. Reports read them instead of scanning millions of
attempts. Rates are never stored: they are ratios of these counts, derived
when read (so a range's rate is the ratio of its sums, not a mean of rates).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ivr.store.models.base import Base, utcnow


class DailyCampaignStats(Base):
    """The KPI numerators and denominators of one campaign on one local day."""

    __tablename__ = "daily_campaign_stats"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    local_day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    contacts: Mapped[int] = mapped_column(Integer, default=0)
    rpcs: Mapped[int] = mapped_column(Integer, default=0)
    promises: Mapped[int] = mapped_column(Integer, default=0)
    promised_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    # Promises (each instalment) whose date is this day: not cancelled, kept, kept or broken.
    promises_falling_due: Mapped[int] = mapped_column(Integer, default=0)
    promises_kept: Mapped[int] = mapped_column(Integer, default=0)
    promises_settled: Mapped[int] = mapped_column(Integer, default=0)
    collected_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    assigned_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    transfers: Mapped[int] = mapped_column(Integer, default=0)
    abandoned: Mapped[int] = mapped_column(Integer, default=0)
    handled: Mapped[int] = mapped_column(Integer, default=0)
    talk_s: Mapped[float] = mapped_column(Float, default=0.0)
    hold_s: Mapped[float] = mapped_column(Float, default=0.0)
    wrap_s: Mapped[float] = mapped_column(Float, default=0.0)
    refreshed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RollupWatermark(Base):
    """How far the roll-up job has read append-only facts (by row id), and when it ran.

    One row per ``name`` (``payments``, ``promises``, ``debts``): a row added
    after the last run may concern any day (a payment imported late, dated
    weeks ago), so its key is refreshed whatever the look-back window.
    """

    __tablename__ = "rollup_watermarks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
    ran_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
