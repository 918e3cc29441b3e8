"""The agent desktop: one plain page at ``/desktop``, its static files, password login.

The page logs in with a password (``POST /desktop/login``, which sets the
signed session cookie), then talks to the agents API and listens on its
WebSocket. No build step: HTML, CSS and JavaScript are served as written.
Its words come from ``static/i18n/<locale>/desktop.json`` through the
console's ``i18n.js`` (served at ``/console/static/i18n.js``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from ivr.keys import SESSIONS
from ivr.store.agents import agent_for_user
from ivr.store.models import Role, User
from ivr.web.api_schemas import UserOut
from ivr.web.auth import end_session, json_error, set_session_cookie
from ivr.web.login import page_login

STATIC = Path(__file__).parent / "static"
PAGE_HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY"}


def user_json(user: User) -> dict[str, Any]:
    """What the pages learn about who logged in (the shape of ``/api/v1/auth/me``)."""
    return UserOut.model_validate(user).model_dump(mode="json")


async def page(_: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "desktop.html", headers=PAGE_HEADERS)


async def do_login(request: web.Request) -> web.Response:
    """Password login for the page; only agents get the session cookie.

    A supervisor who is not also an agent is told where their page is
    (``code: not_agent``, ``page: /console``) instead of a bare refusal. An
    agent-role user without an agent row (made before ``ivr add-user`` made
    one) still gets in, and the page says what is missing.
    """
    user = await page_login(request)
    async with request.app[SESSIONS]() as s:
        agent = await agent_for_user(s, user.id)
    if agent is None and user.role is Role.SUPERVISOR:
        raise json_error(
            403,
            "this page is for agents; supervisors work in the console",
            code="not_agent",
            page="/console",
        )
    response = web.json_response({"user": user_json(user), "agent_id": agent.id if agent else None})
    await set_session_cookie(response, request, user)
    return response


async def do_logout(request: web.Request) -> web.Response:
    response = web.json_response({"ok": True})
    await end_session(response, request)
    return response


def setup_desktop_routes(app: web.Application) -> None:
    app.router.add_get("/desktop", page)
    app.router.add_post("/desktop/login", do_login)
    app.router.add_post("/desktop/logout", do_logout)
    app.router.add_static("/desktop/static", STATIC, show_index=False)
