"""Builders and a recording carrier shared by the scheduler tests (no tests here).

Plain helpers, not fixtures: a test calls them inside its own session.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import CallAttempt, CallWindow, Campaign, Debt, Debtor, Phone
from scheduler.carrier import CarrierCall, PlaceCallError, PlaceCallUnknown

_seq = itertools.count(1)


def every_day(start: dt.time = dt.time(0), end: dt.time = dt.time(0)) -> list[CallWindow]:
    return [CallWindow(weekday=d, start=start, end=end) for d in range(7)]


async def make_campaign(
    s: AsyncSession, windows: Sequence[CallWindow] | None = None, **kw: Any
) -> Campaign:
    kw.setdefault("name", f"camp-{next(_seq)}")
    camp = Campaign(**kw)
    if windows is not None:
        camp.windows = list(windows)
    s.add(camp)
    await s.flush()
    return camp


async def make_debtor(
    s: AsyncSession,
    campaign: Campaign | None,
    *,
    phones: Sequence[str] = ("+5511987654321",),
    country: str = "BR",
    region: str | None = "SP",
    timezone: str | None = "America/Sao_Paulo",
    amount_cents: int = 10_000,
    ref: str | None = None,
) -> Debtor:
    d = Debtor(
        external_ref=ref or f"D{next(_seq)}",
        name="Maria Silva",
        country=country,
        region=region,
        timezone=timezone,
    )
    for i, e164 in enumerate(phones):
        d.phones.append(Phone(e164=e164, position=i))
    d.debts.append(
        Debt(
            creditor="Loja",
            amount_cents=amount_cents,
            due_date=dt.date(2026, 1, 10),
            campaign_id=campaign.id if campaign else None,
        )
    )
    s.add(d)
    await s.flush()
    return d


@dataclass
class CarrierCallInfo:
    sid: str
    status: str
    to: str
    created: dt.datetime


@dataclass
class RecordingCarrier:
    """A carrier double that records every call it *created*, with scripted failures.

    ``script`` is consumed one entry per ``place``: "ok", "retry" (429, nothing
    created), "fatal" (400), "timeout_created" (a call was created but the
    answer was lost), "timeout_lost" (nothing created, answer lost).
    """

    clock: object = None
    script: list[str] = field(default_factory=list)
    calls: list[CarrierCallInfo] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)

    def _now(self) -> dt.datetime:
        return self.clock() if callable(self.clock) else dt.datetime.now(dt.UTC)

    async def place(self, attempt: CallAttempt, debtor: Debtor, phone: Phone) -> str:
        self.requests.append(attempt.id)
        step = self.script.pop(0) if self.script else "ok"
        if step == "retry":
            raise PlaceCallError("429 too many requests", retryable=True)
        if step == "fatal":
            raise PlaceCallError("400 invalid number", retryable=False)
        if step == "timeout_lost":
            raise PlaceCallUnknown("timed out")
        sid = f"CA{len(self.calls) + 1:032d}"
        self.calls.append(CarrierCallInfo(sid, "queued", phone.e164, self._now()))
        if step == "timeout_created":
            raise PlaceCallUnknown("timed out")
        return sid

    async def fetch(self, call_sid: str) -> CarrierCallInfo | None:
        return next((c for c in self.calls if c.sid == call_sid), None)

    async def find_calls(self, to: str, after: dt.datetime) -> list[CarrierCall]:
        return [c for c in self.calls if c.to == to and c.created >= after]
