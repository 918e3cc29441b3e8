"""Reports: a campaign's KPIs day by day, and one day of every campaign, as JSON or CSV.

Read from the daily roll-ups (:mod:`ivr.reports.read`), kept by the
scheduler's ``rollups`` job: ``refreshed_at`` says how fresh they are. The
definitions of every count and rate are in :mod:`ivr.reports.kpis`. CSV goes
through the product's one CSV writer, which neutralises formula starters.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any, Literal

from aiohttp import web
from pydantic import Field

from ivr.keys import SESSIONS
from ivr.reports.kpis import COUNT_FIELDS
from ivr.reports.read import Report, ReportRow, campaign_report, day_summary
from ivr.reports.rollups import refreshed_at
from ivr.store.csvfile import write_csv
from ivr.store.models import Campaign, utcnow
from ivr.web.api_common import (
    API_PREFIX,
    Endpoint,
    FieldError,
    path_int,
    read_query,
    reply,
    unprocessable,
)
from ivr.web.api_schemas import Input, Output
from ivr.web.api_types import Day
from ivr.web.auth import json_error

MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 30
RATE_FIELDS = (
    "contact_rate",
    "rpc_rate",
    "promise_rate",
    "promises_due",
    "kept_rate",
    "liquidation",
    "abandonment_rate",
    "aht_s",
)


class RangeQuery(Input):
    day_from: Day | None = Field(default=None, alias="from", description="first local day")
    to: Day | None = Field(default=None, description="last local day (inclusive)")
    format: Literal["json", "csv"] = "json"


class DayQuery(Input):
    day: Day | None = Field(default=None, description="the local day (default: today, UTC)")
    format: Literal["json", "csv"] = "json"


class RowOut(Output):
    day: dt.date | None
    campaign_id: int | None
    campaign_name: str | None
    attempts: int
    contacts: int = Field(description="answered by a live person (not a machine, not silence)")
    rpcs: int = Field(description="conversations with the verified debtor")
    promises: int = Field(description="agreements made (a plan counts once)")
    promised_cents: int
    promises_falling_due: int
    promises_kept: int
    promises_settled: int
    collected_cents: int
    assigned_cents: int
    transfers: int
    abandoned: int = Field(description="transfers the caller left before an agent answered")
    handled: int = Field(description="transfers an agent answered")
    talk_s: float
    hold_s: float
    wrap_s: float
    contact_rate: float | None = Field(description="contacts / attempts")
    rpc_rate: float | None = Field(description="rpcs / attempts")
    promise_rate: float | None = Field(description="promises / rpcs")
    promises_due: int
    kept_rate: float | None = Field(description="promises_kept / promises_due")
    liquidation: float | None = Field(description="collected / assigned up to the day")
    abandonment_rate: float | None = Field(description="abandoned / transfers")
    aht_s: float | None = Field(description="(talk + hold + wrap) / handled, seconds")


class CampaignReportOut(Output):
    campaign_id: int
    campaign_name: str
    day_from: dt.date = Field(serialization_alias="from")
    to: dt.date
    refreshed_at: dt.datetime | None
    days: list[RowOut]
    totals: RowOut


class SummaryOut(Output):
    day: dt.date
    refreshed_at: dt.datetime | None
    campaigns: list[RowOut]
    totals: RowOut


def _row(r: ReportRow) -> RowOut:
    kpis = r.kpis
    return RowOut(
        day=r.day,
        campaign_id=r.campaign_id,
        campaign_name=r.campaign_name,
        **r.counts.as_dict(),
        **{name: getattr(kpis, name) for name in RATE_FIELDS},
    )


CSV_COLUMNS = ("day", "campaign_id", "campaign_name", *COUNT_FIELDS, *RATE_FIELDS)


def _csv(rows: list[RowOut], totals: RowOut, filename: str) -> web.Response:
    """Every row, then the totals (day empty, campaign ``total``)."""
    out = io.StringIO()
    data: list[list[Any]] = [[getattr(r, c) for c in CSV_COLUMNS] for r in rows]
    total = totals.model_dump()
    total["campaign_name"] = "total"
    data.append([total[c] for c in CSV_COLUMNS])
    write_csv(out, CSV_COLUMNS, data)
    return web.Response(
        body=out.getvalue().encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _range(q: RangeQuery, today: dt.date) -> tuple[dt.date, dt.date]:
    to = q.to or today
    day_from = q.day_from or to - dt.timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if to < day_from:
        raise unprocessable([FieldError("to", "must not be before from")])
    if (to - day_from).days + 1 > MAX_RANGE_DAYS:
        raise unprocessable([FieldError("to", f"at most {MAX_RANGE_DAYS} days after from")])
    return day_from, to


async def get_campaign_report(request: web.Request) -> web.StreamResponse:
    """A campaign's days in a range (30 days to today by default), with totals."""
    campaign_id = path_int(request, "id")
    q = read_query(request, RangeQuery)
    today = utcnow().date()
    day_from, to = _range(q, today)
    async with request.app[SESSIONS]() as s:
        campaign = await s.get(Campaign, campaign_id)
        if campaign is None:
            raise json_error(404, "no such campaign")
        report: Report = await campaign_report(s, campaign_id, day_from, to, today)
        fresh = await refreshed_at(s)
    days = [_row(r) for r in report.rows]
    for d in days:
        d.campaign_name = campaign.name
    totals = _row(report.totals)
    totals.campaign_name = campaign.name
    if q.format == "csv":
        return _csv(days, totals, f"campaign-{campaign_id}-{day_from}-{to}.csv")
    out = CampaignReportOut(
        campaign_id=campaign_id,
        campaign_name=campaign.name,
        day_from=day_from,
        to=to,
        refreshed_at=fresh,
        days=days,
        totals=totals,
    )
    return web.json_response(out.model_dump(mode="json", by_alias=True))


async def get_summary(request: web.Request) -> web.StreamResponse:
    """Every campaign on one local day, with totals."""
    q = read_query(request, DayQuery)
    today = utcnow().date()
    day = q.day or today
    async with request.app[SESSIONS]() as s:
        report = await day_summary(s, day, today)
        fresh = await refreshed_at(s)
    rows = [_row(r) for r in report.rows]
    totals = _row(report.totals)
    if q.format == "csv":
        return _csv(rows, totals, f"summary-{day}.csv")
    return reply(SummaryOut(day=day, refreshed_at=fresh, campaigns=rows, totals=totals))


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "GET",
        f"{API_PREFIX}/reports/campaigns/{{id}}",
        get_campaign_report,
        "A campaign's collection KPIs day by day (format=csv for a spreadsheet)",
        tag="reports",
        query=RangeQuery,
        response=CampaignReportOut,
        errors=(404, 422),
    ),
    Endpoint(
        "GET",
        f"{API_PREFIX}/reports/summary",
        get_summary,
        "Every campaign's collection KPIs on one day (format=csv for a spreadsheet)",
        tag="reports",
        query=DayQuery,
        response=SummaryOut,
        errors=(422,),
    ),
)
