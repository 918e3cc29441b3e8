"""The agents' JSON API under ``/api/v1/agents`` and the transfer report.

Agents see and change themselves (``me``); supervisors list and create
agents and read the report. The desktop's live channel is a WebSocket at
``/api/v1/agents/me/events``: it first sends the agent's state (presence, the
call in progress, a wrap-up still to write), then one message per event.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog
from aiohttp import WSMsgType, web
from sqlalchemy.exc import IntegrityError

from ivr.agents import presence as presence_ops
from ivr.agents.api_wrapup import post_wrapup, signed_in_agent
from ivr.agents.hub import AgentEvent
from ivr.agents.keys import AGENT_HUB, TRANSFER_SERVICE
from ivr.agents.reports import transfer_stats
from ivr.agents.schemas import (
    AgentCreate,
    AgentCreated,
    AgentList,
    AgentOut,
    AgentState,
    CurrentTransfer,
    PresenceIn,
    TransfersQuery,
    TransferStatsOut,
    WrapupIn,
    WrapupOut,
)
from ivr.agents.screen import build_pop
from ivr.keys import SESSIONS, SETTINGS
from ivr.store import agents as agent_store
from ivr.store.models import (
    Agent,
    Presence,
    Role,
)
from ivr.store.transfers import active_transfer_for, pending_wrapup_for
from ivr.store.users import get_user, user_by_username
from ivr.web.accounts import UserExists, create_user
from ivr.web.api_common import (
    API_PREFIX,
    Endpoint,
    FieldError,
    add_endpoints,
    read_body,
    read_query,
    unprocessable,
    utc,
)
from ivr.web.auth import current_user, json_error
from ivr.web.security import origin_allowed

log = structlog.get_logger(__name__)


_AGENTS = f"{API_PREFIX}/agents"
_ME = f"{_AGENTS}/me"


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


async def agent_state(request: web.Request, agent_id: int) -> dict[str, Any]:
    """Presence plus the call in progress and a wrap-up still to write (for a fresh screen)."""
    async with request.app[SESSIONS]() as s:
        agent = await agent_store.get_agent(s, agent_id)
        assert agent is not None
        active = await active_transfer_for(s, agent_id)
        pending = await pending_wrapup_for(s, agent_id)
        return {
            "type": "state",
            "agent": agent_json(agent),
            "active": await build_pop(s, active.id) if active else None,
            "wrapup": await build_pop(s, pending.id) if pending else None,
        }


# ------------------------------------------------------------------ me


async def get_me(request: web.Request) -> web.Response:
    """The agent's presence, the call in progress and a wrap-up still to write."""
    agent = await signed_in_agent(request)
    return web.json_response(await agent_state(request, agent.id))


async def put_presence(request: web.Request) -> web.Response:
    """Set presence by hand: available, away or offline."""
    agent = await signed_in_agent(request)
    body = await read_body(request, PresenceIn)
    wanted = Presence(body.presence)
    service = request.app[TRANSFER_SERVICE]
    async with request.app[SESSIONS]() as s, s.begin():
        row = await agent_store.lock_agent(s, agent.id)
        assert row is not None
        if wanted is Presence.AVAILABLE and await active_transfer_for(s, agent.id):
            raise json_error(409, "you are on a call: presence changes after it")
        await presence_ops.set_manual(s, row, wanted)
        result = agent_json(row)
    await request.app[AGENT_HUB].publish(AgentEvent(agent.id, "presence"))
    if wanted is Presence.AVAILABLE:
        await service.dispatch_queue()
    return web.json_response(result)


async def current_transfer(request: web.Request) -> web.Response:
    """The call in progress and a wrap-up still to write."""
    agent = await signed_in_agent(request)
    state = await agent_state(request, agent.id)
    return web.json_response({"active": state["active"], "wrapup": state["wrapup"]})


async def list_agents(request: web.Request) -> web.Response:
    """Every agent with presence, languages and skills."""
    async with request.app[SESSIONS]() as s:
        agents = await agent_store.list_agents(s)
    return web.json_response({"agents": [agent_json(a) for a in agents]})


async def create_agent(request: web.Request) -> web.Response:
    """Create an agent (and their user unless ``user_id`` names an existing one)."""
    body = await read_body(request, AgentCreate)
    settings = request.app[SETTINGS]
    sessions = request.app[SESSIONS]
    api_key: str | None = None
    if body.user_id is not None:
        async with sessions() as s:
            user = await get_user(s, body.user_id)
        if user is None:
            raise unprocessable([FieldError("user_id", "no such user")])
        username, user_id = user.username, user.id
    else:
        if body.username is None or not body.username.strip():
            raise unprocessable([FieldError("username", "required unless user_id is given")])
        username = body.username.strip()
        try:
            api_key = await create_user(
                sessions,
                username,
                Role.AGENT,
                body.password,
                languages=list(body.languages or [settings.locale]),
                skills=list(body.skills),
                display_name=body.display_name,
                endpoint=body.endpoint,
                actor=current_user(request),
            )
        except UserExists as exc:
            raise unprocessable([FieldError("username", str(exc))]) from None
        except ValueError as exc:
            raise unprocessable([FieldError("password", str(exc))]) from None
        async with sessions() as s:
            created = await user_by_username(s, username)
            assert created is not None
            agent = await agent_store.agent_for_user(s, created.id)
            assert agent is not None
            return web.json_response({"agent": agent_json(agent), "api_key": api_key}, status=201)
    try:
        async with sessions() as s, s.begin():
            agent = await agent_store.add_agent(
                s,
                user_id=user_id,
                display_name=body.display_name or username,
                endpoint=body.endpoint,
                languages=list(body.languages or [settings.locale]),
                skills=list(body.skills),
            )
            result = agent_json(agent)
    except IntegrityError:
        raise json_error(409, "this user is already an agent") from None
    return web.json_response({"agent": result, "api_key": api_key}, status=201)


async def transfers_report(request: web.Request) -> web.Response:
    """Transfers requested, answered, abandoned; waits and the abandonment rate."""
    q = read_query(request, TransfersQuery)
    async with request.app[SESSIONS]() as s:
        stats = await transfer_stats(s, utc(q.since), utc(q.until))
    return web.json_response(stats.to_dict())


# ------------------------------------------------------------------ live channel


async def events_socket(request: web.Request) -> web.StreamResponse:
    """The desktop's live channel (WebSocket): the agent's state, then one message per event."""
    if not origin_allowed(request):
        raise json_error(403, "this WebSocket only opens from the service's own pages")
    agent = await signed_in_agent(request)
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
        agent = await agent_store.get_agent(s, event.agent_id)
    return {
        "type": event.kind,
        "event_id": event.event_id,
        "transfer_id": event.transfer_id,
        "sms_id": event.sms_id,
        "pop": pop,
        "agent": agent_json(agent) if agent is not None else None,
    }


_AGENT = (Role.AGENT,)
_SUP = (Role.SUPERVISOR,)

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "GET",
        _ME,
        get_me,
        "The agent's own state",
        roles=_AGENT,
        tag="agents",
        response=AgentState,
        errors=(404,),
    ),
    Endpoint(
        "PUT",
        f"{_ME}/presence",
        put_presence,
        "Set presence",
        roles=_AGENT,
        tag="agents",
        body=PresenceIn,
        response=AgentOut,
        errors=(404, 409),
    ),
    Endpoint(
        "GET",
        f"{_ME}/transfer",
        current_transfer,
        "The call in progress and the wrap-up",
        roles=_AGENT,
        tag="agents",
        response=CurrentTransfer,
        errors=(404,),
    ),
    Endpoint(
        "POST",
        f"{_ME}/transfers/{{transfer_id}}/wrapup",
        post_wrapup,
        "Write the wrap-up of a transfer",
        roles=_AGENT,
        tag="agents",
        body=WrapupIn,
        response=WrapupOut,
        errors=(404, 409, 422),
    ),
    Endpoint(
        "GET",
        f"{_ME}/events",
        events_socket,
        "The live channel (WebSocket upgrade)",
        roles=_AGENT,
        tag="agents",
        errors=(400, 404),
    ),
    Endpoint(
        "GET", _AGENTS, list_agents, "List agents", roles=_SUP, tag="agents", response=AgentList
    ),
    Endpoint(
        "POST",
        _AGENTS,
        create_agent,
        "Create an agent",
        roles=_SUP,
        tag="agents",
        body=AgentCreate,
        response=AgentCreated,
        status=201,
        errors=(409, 422),
    ),
    Endpoint(
        "GET",
        f"{API_PREFIX}/reports/transfers",
        transfers_report,
        "Transfer KPIs: answered, abandoned, waits",
        roles=_SUP,
        tag="reports",
        query=TransfersQuery,
        response=TransferStatsOut,
        errors=(422,),
    ),
)


def setup_api_routes(app: web.Application) -> None:
    add_endpoints(app, ENDPOINTS)
