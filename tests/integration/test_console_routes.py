"""The console's routes without a browser: who gets in, where old addresses lead,
and the user's language setting (its validation answers name the field)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.config import Settings
from ivr.keys import SESSIONS, SETTINGS
from ivr.store.models import Role
from ivr.web.accounts import create_user
from ivr.web.api import setup_api
from ivr.web.auth import COOKIE_NAME
from ivr.web.console import setup_console_routes
from ivr.web.desktop import setup_desktop_routes
from tests.support.api import AGENT_PASSWORD, Api

ClientMaker = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
SUP_PASSWORD = "supervisor password"


def _app(sessions: async_sessionmaker[AsyncSession]) -> web.Application:
    app = web.Application()
    app[SETTINGS] = Settings(secret_key="test-secret-key")
    app[SESSIONS] = sessions
    setup_api(app)
    setup_desktop_routes(app)
    setup_console_routes(app)
    return app


async def test_only_supervisors_get_a_console_session(
    api: Api, aiohttp_client: ClientMaker
) -> None:
    await create_user(api.sessions, "bruna", Role.SUPERVISOR, password=SUP_PASSWORD)
    client = await aiohttp_client(_app(api.sessions))
    resp = await client.post("/console/login", json={"username": "ana", "password": AGENT_PASSWORD})
    assert resp.status == 403
    body = await resp.json()
    assert body["code"] == "not_supervisor" and body["page"] == "/desktop"
    assert COOKIE_NAME not in resp.cookies
    resp = await client.post("/console/login", json={"username": "bruna", "password": "nope"})
    assert resp.status == 401
    resp = await client.post("/console/login", json={"username": "bruna", "password": SUP_PASSWORD})
    assert resp.status == 200
    user = (await resp.json())["user"]
    assert (user["username"], user["role"], user["locale"]) == ("bruna", "supervisor", None)
    # The supervisor is pointed to the console by the desktop, without a session there.
    desk = await aiohttp_client(_app(api.sessions))
    resp = await desk.post("/desktop/login", json={"username": "bruna", "password": SUP_PASSWORD})
    assert resp.status == 403 and (await resp.json())["page"] == "/console"
    assert COOKIE_NAME not in resp.cookies
    # Logout revokes the console's session.
    token = client.session.cookie_jar.filter_cookies(client.make_url("/"))[COOKIE_NAME].value
    assert (await client.post("/console/logout")).status == 200
    client.session.cookie_jar.clear()
    resp = await client.get("/api/v1/auth/me", cookies={COOKIE_NAME: token})
    assert resp.status == 401


async def test_old_addresses_lead_to_the_console(api: Api, aiohttp_client: ClientMaker) -> None:
    client = await aiohttp_client(_app(api.sessions))
    for path, target in [
        ("/", "/console"),
        ("/supervisor", "/console#/wallboard"),
        ("/reports", "/console#/reports"),
    ]:
        resp = await client.get(path, allow_redirects=False)
        assert resp.status == 302 and resp.headers["Location"] == target, path
    resp = await client.get("/console")
    assert resp.status == 200 and "console.js" in await resp.text()
    assert resp.headers["Cache-Control"] == "no-store"
    resp = await client.get("/static/i18n/pt-BR/common.json")
    assert (await resp.json())["common.nav.campaigns"] == "Campanhas"
    resp = await client.get("/console/static/pages/wallboard.js")
    assert resp.status == 200
    assert (await client.get("/console/static/../desktop.py")).status in (403, 404)


async def test_a_user_sets_their_language(api: Api) -> None:
    me = "/api/v1/auth/me"

    async def mine() -> dict[str, Any]:
        resp = await api.client.get(me, headers=api.sup())
        assert resp.status == 200
        data: dict[str, Any] = await resp.json()
        return data

    assert (await mine())["locale"] is None
    resp = await api.client.patch(me, json={"locale": "fr-FR"}, headers=api.sup())
    assert resp.status == 422
    (error,) = (await resp.json())["errors"]
    assert error["field"] == "locale" and "pt-BR" in error["reason"]
    resp = await api.client.patch(me, json={"locale": "en-US", "x": 1}, headers=api.sup())
    assert resp.status == 422
    assert [e["field"] for e in (await resp.json())["errors"]] == ["x"]
    assert (await resp.json())["errors"][0]["code"] == "extra_forbidden"
    resp = await api.client.patch(me, json={"locale": "en-US"}, headers=api.sup())
    assert resp.status == 200 and (await resp.json())["locale"] == "en-US"
    assert (await mine())["locale"] == "en-US"
    resp = await api.client.patch(me, json={"locale": None}, headers=api.sup())
    assert (await resp.json())["locale"] is None
