"""A verified conversation on a call the person placed to us suppresses our calls
for the rest of their local day: explain (API and ``ivr explain``) says so, the
claim obeys it and hints the next morning, and the campaign can turn it off."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update

from ivr.config import Settings
from ivr.explain_report import explain_report
from ivr.store.inbound import open_inbound_attempt
from ivr.store.models import AttemptStatus, CallAttempt, Debtor
from scheduler.claim import claim_batch
from tests.support.api import WEDNESDAY_10H_SP, Api, new_campaign, new_debtor

T0 = WEDNESDAY_10H_SP  # 10:00 in São Paulo
MIDNIGHT = dt.datetime(2025, 6, 12, 3, 0, tzinfo=dt.UTC)  # Thursday 00:00 in São Paulo
MORNING = dt.datetime(2025, 6, 12, 11, 0, tzinfo=dt.UTC)  # Thursday 08:00, the window opens


async def _explain(api: Api, ref: str, at: dt.datetime) -> dict[str, Any]:
    url = f"/api/v1/debtors/{ref}/explain?at={at.isoformat().replace('+00:00', 'Z')}"
    resp = await api.client.get(url, headers=api.sup())
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())


async def _called_us(api: Api, debtor: Debtor, at: dt.datetime, *, verified: bool) -> None:
    """The person calls in at ``at`` (recorded as the service records it) and hangs up."""
    async with api.sessions() as s, s.begin():
        a = await open_inbound_attempt(
            s,
            call_sid=f"CA{debtor.id:032d}",
            caller="+5511987654321",
            debtor=debtor,
            local_day=at.date(),
        )
        await s.execute(
            update(CallAttempt)
            .where(CallAttempt.id == a.id)
            .values(
                claimed_at=at,
                placed_at=at,
                answered_at=at,
                ended_at=at + dt.timedelta(minutes=5),
                status=AttemptStatus.COMPLETED,
                verified_at=at + dt.timedelta(minutes=1) if verified else None,
            )
        )


async def test_explain_and_the_claim_hold_our_calls_until_the_next_local_day(
    api: Api, db_url: str
) -> None:
    camp = await new_campaign(api, min_gap_minutes=0)
    assert camp["inbound_suppresses_today"] is True
    debtor = await new_debtor(api, camp["id"], ref="INB-TODAY-1")
    await _called_us(api, debtor, T0 - dt.timedelta(hours=1), verified=True)

    body = await _explain(api, "INB-TODAY-1", T0)
    assert body["callable"] is False
    assert [r["code"] for r in body["reasons"]] == ["inbound_today"]
    reason = body["reasons"][0]
    assert reason["until"].replace("Z", "+00:00") == MIDNIGHT.isoformat()
    assert reason["overridable"] is False
    text = await explain_report(Settings(database_url=db_url), "INB-TODAY-1", T0)
    assert "inbound_today: the debtor called us today and was verified" in text

    assert await claim_batch(api.sessions, T0, 10, "w") == []
    assert await claim_batch(api.sessions, T0 + dt.timedelta(hours=9), 10, "w") == []
    async with api.sessions() as s:
        hint = await s.scalar(select(Debtor.next_attempt_at).where(Debtor.id == debtor.id))
    assert hint == MORNING
    claims = await claim_batch(api.sessions, MORNING, 10, "w")
    assert [c.debtor_id for c in claims] == [debtor.id]


async def test_an_unverified_caller_or_the_setting_off_do_not_hold_our_calls(api: Api) -> None:
    camp = await new_campaign(api, min_gap_minutes=0)
    unverified = await new_debtor(api, camp["id"], ref="INB-TODAY-2")
    await _called_us(api, unverified, T0 - dt.timedelta(hours=1), verified=False)
    assert (await _explain(api, "INB-TODAY-2", T0))["callable"] is True

    off = await new_campaign(api, min_gap_minutes=0, inbound_suppresses_today=False)
    assert off["inbound_suppresses_today"] is False
    verified = await new_debtor(api, off["id"], ref="INB-TODAY-3", phone="+5511987650000")
    await _called_us(api, verified, T0 - dt.timedelta(hours=1), verified=True)
    assert (await _explain(api, "INB-TODAY-3", T0))["callable"] is True
    resp = await api.client.patch(
        f"/api/v1/campaigns/{off['id']}",
        json={"inbound_suppresses_today": True},
        headers=api.sup(),
    )
    assert resp.status == 200, await resp.text()
    assert [r["code"] for r in (await _explain(api, "INB-TODAY-3", T0))["reasons"]] == [
        "inbound_today"
    ]
    claims = await claim_batch(api.sessions, T0, 10, "w")
    assert [c.debtor_id for c in claims] == [unverified.id]
