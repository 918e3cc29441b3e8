"""The agents' JSON API under ``/api/v1/agents`` and the transfer report.

Agents see and change themselves (``me``); supervisors list and create
agents and read the report. The desktop's live channel is a WebSocket at
``/api/v1/agents/me/events``: it first sends the agent's state (presence, the
call in progress, a wrap-up still to write), then one message per event.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import structlog
from aiohttp import WSMsgType, web
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ivr.agents import presence as presence_ops
from ivr.agents.hub import AgentEvent
from ivr.agents.keys import AGENT_HUB, TRANSFER_SERVICE
from ivr.agents.reports import transfer_stats
from ivr.agents.screen import build_pop
from ivr.agents.transfers import describe
from ivr.keys import SESSIONS, SETTINGS
from ivr.store.models import Agent, CallAttempt, Presence, Promise, Role, Transfer, User, utcnow
from ivr.store.queries import add_event
from ivr.web.auth import create_user, json_error, require

log = structlog.get_logger(__name__)

OUTCOMES = frozenset(
    {"promise", "callback", "paid", "dispute", "no_agreement", "wrong_person", "other"}
)
ENDPOINT_RE = re.compile(r"^(client:[A-Za-z0-9_.@-]{1,100}|sip:\S{3,190}|\+[1-9]\d{6,14})$")
MAX_NOTES = 4000


def agent_json(agent: Agent) -> dict[str, Any]:
    return {
        "id": agent.id,
        "user_id": agent.user_id,
        "display_name": agent.display_name,
        "endpoint": agent.endpoint,
        "languages": list(agent.languages or []),
        "skills": list(agent.skills or []),
        "presence": agent.presence.value,
        "presence_since": agent.presence_since.isoformat(),
        "wrapup_until": agent.wrapup_until.isoformat() if agent.wrapup_until else None,
    }


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise json_error(400, "body must be JSON") from None
    if not isinstance(body, dict):
        raise json_error(400, "body must be a JSON object")
    return body


async def _me(request: web.Request) -> Agent:
    user = await require(Role.AGENT)(request)
    async with request.app[SESSIONS]() as s:
        agent = await s.scalar(select(Agent).where(Agent.user_id == user.id))
    if agent is None:
        raise json_error(404, "this user is not an agent")
    return agent


async def agent_state(request: web.Request, agent_id: int) -> dict[str, Any]:
    """Presence plus the call in progress and a wrap-up still to write (for a fresh screen)."""
    service = request.app[TRANSFER_SERVICE]
    async with request.app[SESSIONS]() as s:
        agent = await s.get(Agent, agent_id)
        assert agent is not None
        active = await service.active_transfer_for(s, agent_id)
        pending = await service.pending_wrapup_for(s, agent_id)
        return {
            "type": "state",
            "agent": agent_json(agent),
            "active": await build_pop(s, active.id) if active else None,
            "wrapup": await build_pop(s, pending.id) if pending else None,
        }


# ------------------------------------------------------------------ me


async def get_me(request: web.Request) -> web.Response:
    agent = await _me(request)
    return web.json_response(await agent_state(request, agent.id))


async def put_presence(request: web.Request) -> web.Response:
    agent = await _me(request)
    body = await _body(request)
    try:
        wanted = Presence(str(body.get("presence", "")))
    except ValueError:
        raise json_error(422, "presence must be available, away or offline") from None
    if wanted not in presence_ops.MANUAL_PRESENCES:
        raise json_error(422, "busy is set by calls, not by hand")
    service = request.app[TRANSFER_SERVICE]
    async with request.app[SESSIONS]() as s, s.begin():
        row = await s.get(Agent, agent.id, with_for_update=True, populate_existing=True)
        assert row is not None
        if wanted is Presence.AVAILABLE and await service.active_transfer_for(s, agent.id):
            raise json_error(409, "you are on a call: presence changes after it")
        await presence_ops.set_manual(s, row, wanted)
        result = agent_json(row)
    await request.app[AGENT_HUB].publish(AgentEvent(agent.id, "presence"))
    if wanted is Presence.AVAILABLE:
        await service.dispatch_queue()
    return web.json_response(result)


async def current_transfer(request: web.Request) -> web.Response:
    agent = await _me(request)
    state = await agent_state(request, agent.id)
    return web.json_response({"active": state["active"], "wrapup": state["wrapup"]})


def _parse_promise(body: dict[str, Any]) -> tuple[dt.date, int] | None:
    raw_date = body.get("promise_date")
    raw_cents = body.get("promise_amount_cents")
    raw_amount = body.get("promise_amount")
    if not raw_date and raw_cents in (None, "") and raw_amount in (None, ""):
        return None
    try:
        day = dt.date.fromisoformat(str(raw_date))
    except ValueError:
        raise json_error(422, "promise_date must be YYYY-MM-DD") from None
    try:
        if raw_cents not in (None, ""):
            cents = int(raw_cents)
        else:
            cents = int((Decimal(str(raw_amount).replace(",", ".")) * 100).to_integral_exact())
    except (ValueError, InvalidOperation):
        raise json_error(422, "promise amount must be a number (e.g. 150.00)") from None
    if cents <= 0:
        raise json_error(422, "promise amount must be positive")
    return day, cents


async def post_wrapup(request: web.Request) -> web.Response:
    """The agent's notes after the call: outcome, notes, and a promise if one was made."""
    agent = await _me(request)
    body = await _body(request)
    try:
        transfer_id = int(request.match_info["transfer_id"])
    except ValueError:
        raise json_error(404, "no such transfer") from None
    outcome = str(body.get("outcome", ""))
    if outcome not in OUTCOMES:
        raise json_error(422, "outcome must be one of: " + ", ".join(sorted(OUTCOMES)))
    notes = str(body.get("notes") or "")[:MAX_NOTES] or None
    promise = _parse_promise(body)
    if outcome == "promise" and promise is None:
        raise json_error(422, "a promise needs promise_date and promise_amount")
    now = utcnow()
    async with request.app[SESSIONS]() as s, s.begin():
        transfer = await s.get(Transfer, transfer_id, with_for_update=True)
        if transfer is None or transfer.agent_id != agent.id:
            raise json_error(404, "no such transfer for this agent")
        if transfer.status not in ("connected", "completed"):
            raise json_error(409, f"transfer is {transfer.status}: nothing to wrap up")
        attempt = await s.get(CallAttempt, transfer.attempt_id)
        assert attempt is not None
        transfer.outcome = outcome
        transfer.notes = notes
        promise_id = None
        if promise is not None:
            if attempt.debt_id is None:
                raise json_error(422, "this call has no debt to promise against")
            row = Promise(
                debt_id=attempt.debt_id,
                attempt_id=attempt.id,
                promised_date=promise[0],
                amount_cents=promise[1],
                source="agent",
            )
            s.add(row)
            await s.flush()
            promise_id = row.id
        await add_event(
            s,
            attempt.id,
            "agent_wrapup",
            {"transfer_id": transfer_id, "agent_id": agent.id, "outcome": outcome},
        )
        freed = False
        if transfer.status == "completed":
            freed = await presence_ops.end_wrapup(s, agent.id, now)
        result = describe(transfer) | {"promise_id": promise_id}
    await request.app[AGENT_HUB].publish(AgentEvent(agent.id, "presence"))
    if freed:
        await request.app[TRANSFER_SERVICE].dispatch_queue()
    return web.json_response(result)


# ------------------------------------------------------------------ supervisors


@require(Role.SUPERVISOR).handler
async def list_agents(request: web.Request) -> web.Response:
    async with request.app[SESSIONS]() as s:
        agents = (await s.scalars(select(Agent).order_by(Agent.id))).all()
    return web.json_response({"agents": [agent_json(a) for a in agents]})


@require(Role.SUPERVISOR).handler
async def create_agent(request: web.Request) -> web.Response:
    """Create an agent (and their user unless ``user_id`` names an existing one)."""
    body = await _body(request)
    settings = request.app[SETTINGS]
    sessions = request.app[SESSIONS]
    endpoint = str(body.get("endpoint", "")).strip()
    if not ENDPOINT_RE.match(endpoint):
        raise json_error(422, "endpoint must be client:NAME, sip:URI or an E.164 number")
    languages = body.get("languages") or [settings.locale]
    skills = body.get("skills") or []
    if not all(isinstance(x, str) for x in [*languages, *skills]):
        raise json_error(422, "languages and skills are lists of strings")
    api_key: str | None = None
    if body.get("user_id") is not None:
        user_id = int(body["user_id"])
        async with sessions() as s:
            user = await s.get(User, user_id)
        if user is None:
            raise json_error(422, "no such user")
        username = user.username
    else:
        username = str(body.get("username", "")).strip()
        password = body.get("password")
        try:
            api_key = await create_user(
                sessions, username, Role.AGENT, str(password) if password else None
            )
        except ValueError as exc:
            raise json_error(422, str(exc)) from None
        async with sessions() as s:
            found = await s.scalar(select(User.id).where(User.username == username))
        assert found is not None
        user_id = found
    display = str(body.get("display_name") or username)
    try:
        async with sessions() as s, s.begin():
            agent = Agent(
                user_id=user_id,
                display_name=display,
                endpoint=endpoint,
                languages=list(languages),
                skills=list(skills),
                presence=Presence.OFFLINE,
            )
            s.add(agent)
            await s.flush()
            result = agent_json(agent)
    except IntegrityError:
        raise json_error(409, "this user is already an agent") from None
    return web.json_response({"agent": result, "api_key": api_key}, status=201)


@require(Role.SUPERVISOR).handler
async def transfers_report(request: web.Request) -> web.Response:
    def parse(name: str) -> dt.datetime | None:
        raw = request.query.get(name)
        if not raw:
            return None
        try:
            value = dt.datetime.fromisoformat(raw)
        except ValueError:
            raise json_error(422, f"{name} must be an ISO 8601 date or instant") from None
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)

    async with request.app[SESSIONS]() as s:
        stats = await transfer_stats(s, parse("since"), parse("until"))
    return web.json_response(stats.to_dict())


# ------------------------------------------------------------------ live channel


async def events_socket(request: web.Request) -> web.StreamResponse:
    agent = await _me(request)
    hub = request.app[AGENT_HUB]
    ws = web.WebSocketResponse(heartbeat=25)
    await ws.prepare(request)
    queue = hub.subscribe(agent.id)
    reader = asyncio.create_task(_drain(ws))
    try:
        await ws.send_json(await agent_state(request, agent.id))
        while not ws.closed:
            getter = asyncio.create_task(queue.get())
            done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                break
            event = getter.result()
            await ws.send_json(await _message(request, event))
    except (ConnectionError, RuntimeError) as exc:
        log.info("agents.socket_closed", agent_id=agent.id, error=str(exc))
    finally:
        hub.unsubscribe(agent.id, queue)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reader
        if not ws.closed:
            await ws.close()
    return ws


async def _drain(ws: web.WebSocketResponse) -> None:
    """Read (and ignore) what the browser sends, so a close is noticed at once."""
    async for msg in ws:
        if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
            return


async def _message(request: web.Request, event: AgentEvent) -> dict[str, Any]:
    if event.kind in ("presence", "resync") or event.transfer_id is None:
        return await agent_state(request, event.agent_id)
    async with request.app[SESSIONS]() as s:
        pop = await build_pop(s, event.transfer_id)
        agent = await s.get(Agent, event.agent_id)
    return {
        "type": event.kind,
        "event_id": event.event_id,
        "transfer_id": event.transfer_id,
        "pop": pop,
        "agent": agent_json(agent) if agent is not None else None,
    }


def setup_api_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/agents/me", get_me)
    app.router.add_put("/api/v1/agents/me/presence", put_presence)
    app.router.add_get("/api/v1/agents/me/transfer", current_transfer)
    app.router.add_post("/api/v1/agents/me/transfers/{transfer_id}/wrapup", post_wrapup)
    app.router.add_get("/api/v1/agents/me/events", events_socket)
    app.router.add_get("/api/v1/agents", list_agents)
    app.router.add_post("/api/v1/agents", create_agent)
    app.router.add_get("/api/v1/reports/transfers", transfers_report)
