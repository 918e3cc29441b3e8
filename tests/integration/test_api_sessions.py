"""Sessions and login: lockout, revocation, server-side expiry, cookie flags,
cross-site requests, security headers, and what an agent may read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.config import Settings
from ivr.keys import SESSIONS, SETTINGS
from ivr.store.models import Agent, AuthSession, CallAttempt, Presence, Role, Transfer, utcnow
from ivr.web.accounts import create_user
from ivr.web.api import setup_api
from ivr.web.auth import COOKIE_NAME
from ivr.web.desktop import setup_desktop_routes
from tests.support.api import AGENT_PASSWORD, WEDNESDAY_10H_SP, Api, add_attempt, new_debtor

ClientMaker = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
EVIL = "https://evil.example"


def _app(sessions: async_sessionmaker[AsyncSession], **settings: Any) -> web.Application:
    app = web.Application()
    app[SETTINGS] = Settings(secret_key="test-secret-key", **settings)
    app[SESSIONS] = sessions
    setup_api(app)
    setup_desktop_routes(app)
    return app


async def _login(client: TestClient[Any, Any], password: str, user: str = "ana") -> int:
    resp = await client.post("/api/v1/auth/login", json={"username": user, "password": password})
    await resp.read()
    return resp.status


async def test_wrong_passwords_lock_the_account_across_replicas(
    api: Api, aiohttp_client: ClientMaker
) -> None:
    statuses = [await _login(api.client, f"wrong password {i}") for i in range(12)]
    assert statuses[0] == 401
    assert 429 in statuses, statuses
    resp = await api.client.post(
        "/api/v1/auth/login", json={"username": "ana", "password": AGENT_PASSWORD}
    )
    assert resp.status == 429
    assert int(resp.headers["Retry-After"]) > 0
    assert "error" in await resp.json()
    # Another replica (same database, new process state) keeps the lock.
    other = await aiohttp_client(_app(api.sessions))
    assert await _login(other, AGENT_PASSWORD) == 429
    resp = await other.post("/desktop/login", json={"username": "ana", "password": AGENT_PASSWORD})
    assert resp.status == 429


async def test_one_address_trying_many_accounts_is_locked(api: Api) -> None:
    statuses = [await _login(api.client, "wrong password", user=f"user{i}") for i in range(40)]
    assert statuses[-1] == 429, statuses
    # The real user from that address waits too.
    assert await _login(api.client, AGENT_PASSWORD) == 429


async def test_logout_revokes_the_session(api: Api) -> None:
    assert await _login(api.client, AGENT_PASSWORD) == 200
    token = api.client.session.cookie_jar.filter_cookies(api.client.make_url("/"))[COOKIE_NAME]
    resp = await api.client.post("/api/v1/auth/logout")
    assert resp.status == 200
    api.client.session.cookie_jar.clear()
    resp = await api.client.get("/api/v1/auth/me", cookies={COOKIE_NAME: token.value})
    assert resp.status == 401


async def test_desktop_logout_revokes_the_session(api: Api, aiohttp_client: ClientMaker) -> None:
    client = await aiohttp_client(_app(api.sessions))
    resp = await client.post("/desktop/login", json={"username": "ana", "password": AGENT_PASSWORD})
    assert resp.status == 200
    token = resp.cookies[COOKIE_NAME].value
    assert (await client.post("/desktop/logout")).status == 200
    client.session.cookie_jar.clear()
    resp = await client.get("/api/v1/auth/me", cookies={COOKIE_NAME: token})
    assert resp.status == 401


async def test_session_expiry_is_kept_on_the_server(api: Api) -> None:
    assert await _login(api.client, AGENT_PASSWORD) == 200
    assert (await api.client.get("/api/v1/auth/me")).status == 200
    async with api.sessions() as s, s.begin():
        await s.execute(update(AuthSession).values(expires_at=utcnow()))
    assert (await api.client.get("/api/v1/auth/me")).status == 401


async def test_cookie_is_secure_behind_an_https_public_url(
    api: Api, aiohttp_client: ClientMaker
) -> None:
    client = await aiohttp_client(_app(api.sessions, public_url="https://ivr.example"))
    resp = await client.post(
        "/api/v1/auth/login", json={"username": "ana", "password": AGENT_PASSWORD}
    )
    assert resp.status == 200
    assert resp.cookies[COOKIE_NAME]["secure"]
    resp = await client.post("/desktop/login", json={"username": "ana", "password": AGENT_PASSWORD})
    assert resp.cookies[COOKIE_NAME]["secure"]
    # Plain http public URL (a developer's machine): not Secure, or it would never come back.
    assert await _login(api.client, AGENT_PASSWORD) == 200
    cookie = api.client.session.cookie_jar.filter_cookies(api.client.make_url("/"))[COOKIE_NAME]
    assert not cookie["secure"]


@pytest.mark.parametrize(
    "headers",
    [{"Origin": EVIL}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}],
)
async def test_cross_site_login_posts_are_refused(
    api: Api, aiohttp_client: ClientMaker, headers: dict[str, str]
) -> None:
    client = await aiohttp_client(_app(api.sessions))
    form = {"username": "ana", "password": AGENT_PASSWORD}
    resp = await client.post("/desktop/login", data=form, headers=headers)
    assert resp.status == 403
    assert COOKIE_NAME not in resp.cookies
    resp = await client.post("/api/v1/auth/login", json=form, headers=headers)
    assert resp.status == 403
    # The same request from the page itself is fine.
    resp = await client.post(
        "/desktop/login", json=form, headers={"Origin": str(client.make_url("")).rstrip("/")}
    )
    assert resp.status == 200


async def test_pages_carry_security_headers(api: Api, aiohttp_client: ClientMaker) -> None:
    client = await aiohttp_client(_app(api.sessions))
    for path in ("/desktop", "/api/v1/auth/me", "/api/openapi.json"):
        resp = await client.get(path)
        assert resp.headers.get("X-Content-Type-Options") == "nosniff", path
        csp = resp.headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in csp, path
        assert "default-src 'self'" in csp or "default-src 'none'" in csp, path


async def test_agent_reads_only_debtors_transferred_to_them(api: Api) -> None:
    mine = await new_debtor(api, None, ref="MINE-1")
    other = await new_debtor(api, None, ref="OTHER-1")
    attempt_id = await add_attempt(api, mine, WEDNESDAY_10H_SP)
    await add_attempt(api, other, WEDNESDAY_10H_SP)
    ana = await (await api.client.get("/api/v1/auth/me", headers=api.agent())).json()
    async with api.sessions() as s, s.begin():
        # ana is an agent user, so she is an agent (create_user made her one).
        agent = await s.scalar(select(Agent).where(Agent.user_id == ana["id"]))
        assert agent is not None
        agent.presence = Presence.AWAY
        s.add(
            Transfer(attempt_id=attempt_id, agent_id=agent.id, reason="dispute", status="completed")
        )
        assert await s.get(CallAttempt, attempt_id) is not None
    for path in ("/api/v1/debtors/OTHER-1", "/api/v1/debtors/OTHER-1/explain"):
        resp = await api.client.get(path, headers=api.agent())
        assert resp.status == 404, path
        assert "Maria" not in await resp.text()
    for path in ("/api/v1/debtors/MINE-1", "/api/v1/debtors/MINE-1/explain"):
        assert (await api.client.get(path, headers=api.agent())).status == 200, path
    for path in ("/api/v1/debtors/OTHER-1", "/api/v1/debtors/MINE-1"):
        assert (await api.client.get(path, headers=api.sup())).status == 200, path
    # A supervisor logged in with a password reads everything too.
    await create_user(api.sessions, "bruna", Role.SUPERVISOR, password="supervisor password")
    assert await _login(api.client, "supervisor password", user="bruna") == 200
    assert (await api.client.get("/api/v1/debtors/OTHER-1")).status == 200
