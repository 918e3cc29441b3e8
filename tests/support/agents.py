"""Shared helpers for the agents tests and the transfer benchmark (no tests here).

Plain helpers, not fixtures: the benchmark (bench/transfer.py) runs outside
pytest and uses them too.

``agents_service`` runs the real service (create_app) with the agents package
wired in, on a loopback port, talking to a sandbox carrier; ``seed_call``
writes a debtor, a debt and a call attempt with a short transcript;
``live_sandbox_call`` places a call in the sandbox that just holds the line,
so a transfer has a live call to redirect; ``DesktopClient`` is what the
agent's browser does on the live channel.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.agents.keys import AGENT_HUB, TRANSFER_SERVICE
from ivr.agents.transfers import TransferService
from ivr.agents.wiring import agents_context, setup_agent_routes
from ivr.app import AppOptions, create_app
from ivr.config import Settings
from ivr.keys import SESSIONS
from ivr.sandbox.app import Sandbox
from ivr.sandbox.callee import CalleeScript, HangUp, Silence, WaitForPrompt
from ivr.store.models import (
    Agent,
    AttemptStatus,
    CallAttempt,
    CallEvent,
    Debt,
    Debtor,
    Phone,
    Presence,
    Role,
    User,
)
from ivr.web.accounts import create_user
from tests.e2e.harness import FROM_NUMBER, PUBLIC, serve_on_loopback, service_settings


@dataclass
class Running:
    app: web.Application
    runner: web.AppRunner
    port: int
    settings: Settings

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.app[SESSIONS]

    @property
    def transfers(self) -> TransferService:
        return self.app[TRANSFER_SERVICE]


def _wired(app: web.Application) -> bool:
    return any(
        getattr(r.resource, "canonical", None) == "/agents/whisper" for r in app.router.routes()
    )


def build_app(settings: Settings) -> web.Application:
    """create_app plus the agents package (unless create_app already wires it)."""
    app = create_app(settings, AppOptions(keypad_only=True))
    if not _wired(app):
        app.cleanup_ctx.append(agents_context)
        setup_agent_routes(app)
    return app


@contextlib.asynccontextmanager
async def agents_service(
    db_url: str,
    sandbox: Sandbox,
    cache_dir: Path,
    *,
    route_carrier: bool = True,
    **overrides: Any,
) -> AsyncIterator[Running]:
    settings = service_settings(db_url, sandbox, cache_dir, **overrides)
    app = build_app(settings)
    runner, port = await serve_on_loopback(app)
    if route_carrier:
        sandbox.config.rewrite_base[PUBLIC] = f"http://127.0.0.1:{port}"
    try:
        await asyncio.wait_for(app[AGENT_HUB].listening.wait(), 10)
        yield Running(app, runner, port, settings)
    finally:
        await runner.cleanup()


# ------------------------------------------------------------------ data


@dataclass
class SeededCall:
    debtor_id: int
    debt_id: int
    attempt_id: int
    phone: str


async def seed_call(
    sessions: async_sessionmaker[AsyncSession],
    *,
    ref: str,
    phone: str,
    name: str = "Maria Souza",
    locale: str = "pt-BR",
    amount_cents: int = 15_000,
    creditor: str = "Loja Estrela",
    last_agent_id: int | None = None,
) -> SeededCall:
    """A debtor mid-call: the attempt, and what was said so far."""
    async with sessions() as s, s.begin():
        debtor = Debtor(
            external_ref=ref,
            name=name,
            locale=locale,
            timezone="America/Sao_Paulo" if locale == "pt-BR" else "America/New_York",
            last_agent_id=last_agent_id,
        )
        s.add(debtor)
        await s.flush()
        ph = Phone(debtor_id=debtor.id, e164=phone, position=0)
        debt = Debt(
            debtor_id=debtor.id,
            creditor=creditor,
            amount_cents=amount_cents,
            due_date=dt.date(2026, 11, 1),
        )
        s.add_all([ph, debt])
        await s.flush()
        attempt = CallAttempt(
            debtor_id=debtor.id,
            debt_id=debt.id,
            phone_id=ph.id,
            to_number=phone,
            status=AttemptStatus.IN_PROGRESS,
            local_day=dt.date.today(),
        )
        s.add(attempt)
        await s.flush()
        s.add_all(
            [
                CallEvent(
                    attempt_id=attempt.id,
                    kind="prompt",
                    data={"prompt_id": "greet", "text": f"Olá, falo com {name}?"},
                ),
                CallEvent(
                    attempt_id=attempt.id,
                    kind="speech",
                    data={"text": "sim sou eu", "confidence": 0.91, "intent": "yes"},
                ),
                CallEvent(
                    attempt_id=attempt.id,
                    kind="speech",
                    data={"text": "quero falar com uma pessoa", "intent": "agent"},
                ),
                CallEvent(attempt_id=attempt.id, kind="dtmf", data={"digits": "0"}),
            ]
        )
        return SeededCall(debtor.id, debt.id, attempt.id, phone)


@dataclass
class SeededAgent:
    id: int
    user_id: int
    username: str
    api_key: str
    endpoint: str


async def seed_agent(
    sessions: async_sessionmaker[AsyncSession],
    username: str,
    *,
    presence: Presence = Presence.AVAILABLE,
    idle_since: dt.datetime | None = None,
    languages: tuple[str, ...] = ("pt-BR",),
    password: str | None = None,
    role: Role = Role.AGENT,
) -> SeededAgent:
    endpoint = f"client:{username}"
    key = await create_user(
        sessions,
        username,
        role,
        password,
        languages=list(languages),
        display_name=username.title(),
        endpoint=endpoint,
    )
    async with sessions() as s, s.begin():
        from sqlalchemy import select

        user_id = await s.scalar(select(User.id).where(User.username == username))
        assert user_id is not None
        agent = await s.scalar(select(Agent).where(Agent.user_id == user_id))
        if agent is None:  # a supervisor who also takes calls
            agent = Agent(
                user_id=user_id,
                display_name=username.title(),
                endpoint=endpoint,
                languages=list(languages),
            )
            s.add(agent)
        agent.presence = presence
        agent.presence_since = idle_since or dt.datetime.now(dt.UTC)
        await s.flush()
        return SeededAgent(agent.id, user_id, username, key, agent.endpoint)


async def live_sandbox_call(sandbox: Sandbox, to: str, *, hold_s: int = 600) -> str:
    """A call in the sandbox that is answered and holds the line (TwiML we control)."""
    token = base64.b64encode(f"{sandbox.account_sid}:{sandbox.auth_token}".encode()).decode()
    auth = f"Basic {token}"
    url = f"{sandbox.url}/2010-04-01/Accounts/{sandbox.account_sid}/Calls.json"
    twiml = f'<Response><Pause length="{hold_s}"/></Response>'
    async with (
        aiohttp.ClientSession(headers={"Authorization": auth}) as http,
        http.post(url, data={"To": to, "From": FROM_NUMBER, "Twiml": twiml}) as resp,
    ):
        assert resp.status == 201, await resp.text()
        sid = str((await resp.json())["sid"])
    deadline = time.monotonic() + 10
    while sandbox.calls[sid].status != "in-progress":
        assert time.monotonic() < deadline, "sandbox call never answered"
        await asyncio.sleep(0.01)
    return sid


async def attach_call(
    sessions: async_sessionmaker[AsyncSession], attempt_id: int, call_sid: str
) -> None:
    async with sessions() as s, s.begin():
        attempt = await s.get(CallAttempt, attempt_id)
        assert attempt is not None
        attempt.call_sid = call_sid


WHISPER_PATIENCE_S = 120.0
"""How long (call time) a scripted agent waits for the whisper before talking anyway."""


def agent_who_talks(seconds: float, *, ring_seconds: float = 1.0) -> CalleeScript:
    """An agent who answers, hears the whisper out, talks ``seconds`` of call time, hangs up.

    A callee's steps start when its leg is answered, while the whisper callback is still
    under way; with a bare ``Silence(n)`` the agent hangs up mid-whisper whenever the
    service answers that callback slowly (a loaded machine), the sandbox reports the
    Dial as not answered and the transfer moves on to the next agent or the queue.
    Waiting for the whisper first starts the talk after it, however long it took.
    """
    return CalleeScript(
        ring_seconds=ring_seconds,
        steps=[WaitForPrompt(timeout_s=WHISPER_PATIENCE_S), Silence(seconds), HangUp()],
    )


# ------------------------------------------------------------------ the agent's screen


@dataclass
class DesktopClient:
    """The live channel as the desktop page uses it (API key instead of the cookie)."""

    base_url: str
    api_key: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    arrival: list[float] = field(default_factory=list)  # time.monotonic() of each message
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _http: aiohttp.ClientSession | None = None
    _ws: aiohttp.ClientWebSocketResponse | None = None
    _task: asyncio.Task[None] | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    async def __aenter__(self) -> DesktopClient:
        self._http = aiohttp.ClientSession(headers=self.headers)
        self._ws = await self._http.ws_connect(self.base_url + "/api/v1/agents/me/events")
        self._task = asyncio.create_task(self._read())
        await self.wait_for(lambda m: m["type"] == "state")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._http is not None:
            await self._http.close()

    async def _read(self) -> None:
        assert self._ws is not None
        async for msg in self._ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                self.arrival.append(time.monotonic())
                self.messages.append(msg.json())
                self.arrived.set()

    async def wait_for(self, predicate: Any, timeout: float = 20.0) -> dict[str, Any]:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            seen = 0
            while True:
                for m in self.messages[seen:]:
                    if predicate(m):
                        return m
                seen = len(self.messages)
                self.arrived.clear()
                await self.arrived.wait()

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        assert self._http is not None
        async with self._http.request(method, self.base_url + path, json=body) as resp:
            return resp.status, await resp.json()
