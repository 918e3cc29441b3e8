"""A campaign's coming holidays: the days the rule book will not call, by name.

``GET /campaigns/{id}/holidays`` lists the national holidays of the
campaign's country and the state holidays of the states its debtors live in
(or of the states asked for), for the next months, named in the asking
user's language when the calendar has it. The list comes from the same
``holidays`` calendars the rule book reads (``scheduler.windows``), so what a
supervisor sees is what stops the calls.
"""

from __future__ import annotations

import datetime as dt
import re

import holidays
from aiohttp import web
from pydantic import Field, field_validator

from ivr.keys import SESSIONS
from ivr.store import campaigns as campaign_store
from ivr.store.models import Campaign, utcnow
from ivr.vocab.locales import Locale
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
from ivr.web.auth import json_error
from scheduler.windows import holidays_between

_STATE = re.compile(r"^[A-Z0-9]{1,3}$")


class HolidaysQuery(Input):
    months: int = Field(default=6, ge=1, le=24, description="how far ahead to look")
    lang: Locale | None = Field(default=None, description="the names' language")
    states: str | None = Field(
        default=None,
        max_length=400,
        description="comma-separated state codes (e.g. SP,RJ); default: the debtors' states",
    )

    @field_validator("states")
    @classmethod
    def _states(cls, value: str | None) -> str | None:
        if value is None:
            return None
        codes = [c.strip().upper() for c in value.split(",") if c.strip()]
        bad = [c for c in codes if not _STATE.match(c)]
        if bad:
            raise ValueError(f"not a state code: {bad[0][:10]!r}")
        return ",".join(codes)


class HolidayOut(Output):
    date: dt.date
    name: str
    states: list[str] = Field(description="empty: national; else the states that keep it")


class HolidaysOut(Output):
    country: str
    first: dt.date
    last: dt.date
    states: list[str] = Field(description="the states whose own holidays are listed")
    debtor_states: list[str] = Field(description="the states the campaign's debtors live in")
    known_states: list[str] = Field(description="every state the country's calendar knows")
    holidays: list[HolidayOut]


def known_states(country: str) -> list[str]:
    return sorted(holidays.list_supported_countries().get(country.upper(), ()))


async def get_holidays(request: web.Request) -> web.Response:
    """The campaign's coming holidays, national and of its debtors' states."""
    campaign_id = path_int(request, "id")
    q = read_query(request, HolidaysQuery)
    async with request.app[SESSIONS]() as s:
        campaign = await s.get(Campaign, campaign_id)
        if campaign is None:
            raise json_error(404, f"no campaign {campaign_id}")
        country = campaign.country
        debtor_states = await campaign_store.debtor_regions(s, campaign_id)
    known = known_states(country)
    if q.states is not None:
        asked = [c for c in q.states.split(",") if c]
        unknown = [c for c in asked if c not in known]
        if unknown:
            why = f"{country} has no state {unknown[0]!r}"
            raise unprocessable([FieldError("states", why, "unknown_state")])
        states = sorted(set(asked))
    else:
        states = [c for c in debtor_states if c in known]
    first = utcnow().date()
    last = _months_after(first, q.months)
    language = q.lang.replace("-", "_") if q.lang else None
    rows = holidays_between(country, states, first, last, language)
    return reply(
        HolidaysOut(
            country=country,
            first=first,
            last=last,
            states=states,
            debtor_states=debtor_states,
            known_states=known,
            holidays=[HolidayOut(date=d, name=n, states=list(r)) for d, n, r in rows],
        )
    )


def _months_after(day: dt.date, months: int) -> dt.date:
    """The day ``months`` calendar months later (clamped to the month's end)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for dd in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, dd)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "GET",
        f"{API_PREFIX}/campaigns/{{id}}/holidays",
        get_holidays,
        "The campaign's coming holidays: national and of its debtors' states",
        tag="campaigns",
        query=HolidaysQuery,
        response=HolidaysOut,
        errors=(404, 422),
    ),
)
