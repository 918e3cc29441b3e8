"""Builders shared by the API tests: the app, campaigns, debtors, attempts.

The ``api`` fixture (tests/integration/conftest.py) gives each test a minimal
aiohttp app with only the API on it, over a real migrated database (SQLite and
PostgreSQL through ``db_url``), and two users made by the same ``create_user``
the CLI uses; the builders here add rows through that app or its sessions.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.config import Settings
from ivr.keys import SESSIONS, SETTINGS
from ivr.store.models import (
    AttemptStatus,
    CallAttempt,
    Campaign,
    Debt,
    Debtor,
    Phone,
)
from ivr.vocab.attempts import AttemptDirection
from ivr.web.api import setup_api

AGENT_PASSWORD = "correct horse battery"
_seq = itertools.count(1)

# Wednesday 11 June 2025, 10:00 in São Paulo: a working day, no holiday,
# inside Brazil's default hours.
WEDNESDAY_10H_SP = dt.datetime(2025, 6, 11, 13, 0, tzinfo=dt.UTC)


@dataclass
class Api:
    client: TestClient[Any, Any]
    sessions: async_sessionmaker[AsyncSession]
    supervisor_key: str
    agent_key: str
    app: web.Application

    def sup(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.supervisor_key}"}

    def agent(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.agent_key}"}


def build_app(sessions: async_sessionmaker[AsyncSession]) -> web.Application:
    app = web.Application()
    app[SETTINGS] = Settings(secret_key="test-secret-key")
    app[SESSIONS] = sessions
    setup_api(app)
    return app


async def new_campaign(api: Api, **fields: Any) -> dict[str, Any]:
    body = {"name": f"campaign-{next(_seq)}", **fields}
    resp = await api.client.post("/api/v1/campaigns", json=body, headers=api.sup())
    assert resp.status == 201, await resp.text()
    data: dict[str, Any] = await resp.json()
    return data


async def new_debtor(
    api: Api,
    campaign_id: int | None,
    *,
    ref: str | None = None,
    amount_cents: int = 15_000,
    phone: str = "+5511987654321",
    opted_out_at: dt.datetime | None = None,
) -> Debtor:
    async with api.sessions() as s, s.begin():
        d = Debtor(
            external_ref=ref or f"D{next(_seq)}",
            name="Maria Silva",
            country="BR",
            region="SP",
            timezone="America/Sao_Paulo",
            opted_out_at=opted_out_at,
        )
        d.phones.append(Phone(e164=phone, position=0))
        d.debts.append(
            Debt(
                creditor="Loja Exemplo",
                amount_cents=amount_cents,
                due_date=dt.date(2025, 5, 10),
                campaign_id=campaign_id,
            )
        )
        s.add(d)
    return d


async def add_attempt(
    api: Api,
    debtor: Debtor,
    claimed_at: dt.datetime,
    *,
    status: AttemptStatus = AttemptStatus.COMPLETED,
    outcome: str | None = "no_contact",
    answered_by: str | None = None,
    placed: bool = True,
    duration_s: int | None = 20,
    direction: AttemptDirection = AttemptDirection.OUTBOUND,
    verified_at: dt.datetime | None = None,
) -> int:
    async with api.sessions() as s, s.begin():
        a = CallAttempt(
            direction=direction,
            verified_at=verified_at,
            debtor_id=debtor.id,
            debt_id=debtor.debts[0].id,
            phone_id=debtor.phones[0].id,
            campaign_id=debtor.debts[0].campaign_id,
            to_number=debtor.phones[0].e164,
            status=status,
            outcome=outcome,
            answered_by=answered_by,
            duration_s=duration_s,
            local_day=claimed_at.date(),
            claimed_at=claimed_at,
            placed_at=claimed_at + dt.timedelta(seconds=1) if placed else None,
            ended_at=claimed_at + dt.timedelta(minutes=1)
            if status != AttemptStatus.CLAIMED
            else None,
        )
        s.add(a)
        await s.flush()
        return a.id


async def campaign_row(api: Api, campaign_id: int) -> Campaign:
    async with api.sessions() as s:
        c = await s.get(Campaign, campaign_id)
        assert c is not None
        return c
