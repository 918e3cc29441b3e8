"""The wallboard's snapshot on a crafted store, on SQLite and PostgreSQL.

One Wednesday at 10:00 in São Paulo: calls at every stage, a caller in the
queue, agents in every state, and six campaigns whose dialers are running,
full, paused by a supervisor, outside their window, with nobody left to
call, and with everybody parked until later. The numbers are counted by
hand from the rows written here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update

from ivr.store.models import (
    AttemptStatus,
    CallAttempt,
    Debtor,
    Presence,
    Transfer,
)
from ivr.web.wallboard_snapshot import build_snapshot
from tests.support.agents import seed_agent
from tests.support.api import WEDNESDAY_10H_SP, Api, add_attempt, new_campaign, new_debtor

NOW = WEDNESDAY_10H_SP
TODAY = dt.date(2025, 6, 11)


async def _transfer(api: Api, attempt_id: int, **fields: Any) -> None:
    async with api.sessions() as s, s.begin():
        s.add(Transfer(attempt_id=attempt_id, reason="asked", **fields))


async def _live(api: Api, debtor: Debtor, status: AttemptStatus, minutes_ago: float) -> int:
    at = NOW - dt.timedelta(minutes=minutes_ago)
    attempt_id = await add_attempt(api, debtor, at, status=status, outcome=None, duration_s=None)
    async with api.sessions() as s, s.begin():
        await s.execute(
            update(CallAttempt)
            .where(CallAttempt.id == attempt_id)
            .values(
                ended_at=None,
                local_day=TODAY,
                answered_at=at + dt.timedelta(seconds=20)
                if status is AttemptStatus.IN_PROGRESS
                else None,
            )
        )
    return attempt_id


async def _crafted(api: Api) -> dict[str, int]:
    ids: dict[str, int] = {}
    running = await new_campaign(api, name="Ativa", daily_cap=2)
    ids["running"] = running["id"]
    d1 = await new_debtor(api, running["id"], ref="R-1", phone="+5511987650001")
    d2 = await new_debtor(api, running["id"], ref="R-2", phone="+5511987650002")
    d3 = await new_debtor(api, running["id"], ref="R-3", phone="+5511987650003")
    talking = await _live(api, d1, AttemptStatus.IN_PROGRESS, 3)
    await add_attempt(api, d1, NOW - dt.timedelta(hours=2))  # completed earlier today
    await _live(api, d2, AttemptStatus.RINGING, 0.2)
    waiting = await _live(api, d3, AttemptStatus.IN_PROGRESS, 4)
    await add_attempt(api, d3, NOW - dt.timedelta(days=1))  # yesterday: not today

    ana = await seed_agent(api.sessions, "ana_wb", presence=Presence.BUSY)
    await seed_agent(api.sessions, "bia_wb", idle_since=NOW - dt.timedelta(minutes=10))
    carla = await seed_agent(api.sessions, "carla_wb", presence=Presence.BUSY)
    await seed_agent(api.sessions, "dani_wb", presence=Presence.AWAY)
    async with api.sessions() as s, s.begin():
        from ivr.store.models import Agent

        await s.execute(
            update(Agent)
            .where(Agent.id == carla.id)
            .values(wrapup_until=NOW + dt.timedelta(seconds=20))
        )
    await _transfer(
        api,
        talking,
        agent_id=ana.id,
        status="connected",
        requested_at=NOW - dt.timedelta(minutes=2),
        answered_at=NOW - dt.timedelta(seconds=100),
    )
    await _transfer(api, waiting, status="queued", requested_at=NOW - dt.timedelta(seconds=90))
    ended = await add_attempt(api, d2, NOW - dt.timedelta(hours=1))
    await _transfer(
        api,
        ended,
        status="abandoned",
        requested_at=NOW - dt.timedelta(minutes=50),
        ended_at=NOW - dt.timedelta(minutes=49),
    )

    full = await new_campaign(api, name="Cheia", max_concurrent_calls=1)
    ids["full"] = full["id"]
    await _live(api, await new_debtor(api, full["id"], ref="F-1"), AttemptStatus.CLAIMED, 0.1)

    paused = await new_campaign(api, name="Pausada")
    ids["paused"] = paused["id"]
    await new_debtor(api, paused["id"], ref="P-1", phone="+5511987650011")
    resp = await api.client.post(f"/api/v1/campaigns/{paused['id']}/pause", headers=api.sup())
    assert resp.status == 200, await resp.text()

    monday_only = [{"weekday": 0, "start": "09:00", "end": "12:00"}]
    closed = await new_campaign(api, name="Fechada", windows=monday_only)
    ids["closed"] = closed["id"]
    await new_debtor(api, closed["id"], ref="C-1", phone="+5511987650012")

    ids["empty"] = (await new_campaign(api, name="Vazia"))["id"]

    later = await new_campaign(api, name="Esperando")
    ids["later"] = later["id"]
    parked = await new_debtor(api, later["id"], ref="L-1", phone="+5511987650013")
    async with api.sessions() as s, s.begin():
        await s.execute(
            update(Debtor)
            .where(Debtor.id == parked.id)
            .values(next_attempt_at=NOW + dt.timedelta(hours=2))
        )
    return ids


async def test_the_snapshot_counts_the_crafted_day(api: Api) -> None:
    ids = await _crafted(api)
    async with api.sessions() as s:
        board = await build_snapshot(s, NOW)

    calls = board.calls
    assert calls.by_status["in-progress"] == 2
    assert calls.by_status["ringing"] == 1
    assert calls.by_status["claimed"] == 1
    assert calls.total == 4 and calls.outbound == 4 and calls.inbound == 0
    assert calls.waiting_for_agent == 1 and calls.with_agent == 1
    listed = {c.debtor_ref: c for c in calls.calls}
    assert listed["R-1"].transfer == "connected" and listed["R-1"].agent == "Ana_Wb"
    assert listed["R-1"].since == NOW - dt.timedelta(minutes=3) + dt.timedelta(seconds=20)
    assert listed["R-2"].status == "ringing" and listed["R-2"].campaign == "Ativa"

    camps = {c.id: c for c in board.campaigns}
    run = camps[ids["running"]]
    assert run.day == TODAY
    assert run.placed_today == 5  # two live, one ringing, two ended today; not yesterday's
    assert run.answered_today == 2
    assert run.reachable == 3 and run.capacity_today == 6 and run.capacity_left == 1
    assert run.live == 3 and run.channels == 5
    assert run.transfers_today == 3 and run.abandoned_today == 1
    assert run.dialer.state == "running"

    assert camps[ids["full"]].dialer.state == "full"
    paused = camps[ids["paused"]].dialer
    assert paused.state == "paused" and paused.paused_by == "sofia"
    assert paused.paused_at is not None
    closed = camps[ids["closed"]].dialer
    assert closed.state == "outside_window" and closed.reason == "outside_window"
    # Monday 09:00 in the easternmost Brazilian zone (Noronha, UTC-2) comes first.
    assert closed.next_at == dt.datetime(2025, 6, 16, 11, 0, tzinfo=dt.UTC)
    empty = camps[ids["empty"]].dialer
    assert empty.state == "no_one_callable" and empty.reason == "no_open_debts"
    later = camps[ids["later"]].dialer
    assert later.state == "no_one_callable" and later.reason == "waiting"
    assert later.next_at == NOW + dt.timedelta(hours=2)

    agents = {a.name: a for a in board.agents.agents}
    assert agents["Ana_Wb"].state == "talking"
    assert agents["Ana_Wb"].since == NOW - dt.timedelta(seconds=100)
    assert agents["Bia_Wb"].state == "available"
    assert agents["Bia_Wb"].since == NOW - dt.timedelta(minutes=10)
    assert agents["Carla_Wb"].state == "wrap_up"
    assert agents["Dani_Wb"].state == "away"
    # The fixture's agent user "ana" is an agent too, never signed in.
    assert board.agents.by_state["talking"] == 1 and board.agents.by_state["offline"] == 1

    assert board.queue.waiting == 1 and board.queue.queued == 1
    assert board.queue.longest_wait_s == 90.0
    assert board.today.transfers == 3 and board.today.answered == 1
    assert board.today.abandoned == 1 and board.today.abandonment_rate == round(1 / 3, 4)


async def test_supervisors_only_and_the_stream_needs_its_accept(api: Api) -> None:
    resp = await api.client.get("/api/v1/wallboard")
    assert resp.status == 401
    resp = await api.client.get("/api/v1/wallboard", headers=api.agent())
    assert resp.status == 403
    await new_campaign(api, name="Uma")
    resp = await api.client.get("/api/v1/wallboard", headers=api.sup())
    assert resp.status == 200
    body = await resp.json()
    assert [c["name"] for c in body["campaigns"]] == ["Uma"]
    assert set(body) == {"at", "calls", "campaigns", "agents", "queue", "today"}
    resp = await api.client.get("/api/v1/wallboard/stream", headers=api.agent())
    assert resp.status == 403
    resp = await api.client.get("/api/v1/wallboard/stream", headers=api.sup())
    assert resp.status == 406 and "text/event-stream" in (await resp.json())["error"]
    # This app has no live feed (no hub): refused plainly, never a hang or a 500.
    sse = api.sup() | {"Accept": "text/event-stream"}
    resp = await api.client.get("/api/v1/wallboard/stream", headers=sse)
    assert resp.status == 503
