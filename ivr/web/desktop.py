"""The agent desktop: one plain page at ``/desktop``, its static files, password login.

The page logs in with a password (``POST /desktop/login``, which sets the
signed session cookie), then talks to the agents API and listens on its
WebSocket. No build step: HTML, CSS and JavaScript are served as written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import select

from ivr.keys import SESSIONS
from ivr.store.models import Agent
from ivr.web.auth import clear_session_cookie, json_error, login, set_session_cookie

STATIC = Path(__file__).parent / "static"


async def page(_: web.Request) -> web.FileResponse:
    return web.FileResponse(
        STATIC / "desktop.html", headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"}
    )


async def do_login(request: web.Request) -> web.Response:
    try:
        body: Any = await request.json()
    except ValueError:
        body = dict(await request.post())
    if not isinstance(body, dict):
        raise json_error(400, "send username and password")
    username = str(body.get("username", "")).strip()
    password = str(body.get("password", ""))
    if not username or not password:
        raise json_error(400, "send username and password")
    user = await login(request.app[SESSIONS], username, password)
    async with request.app[SESSIONS]() as s:
        agent = await s.scalar(select(Agent).where(Agent.user_id == user.id))
    response = web.json_response(
        {
            "user": {"id": user.id, "username": user.username, "role": user.role.value},
            "agent_id": agent.id if agent else None,
        }
    )
    set_session_cookie(response, request, user)
    return response


async def do_logout(_: web.Request) -> web.Response:
    response = web.json_response({"ok": True})
    clear_session_cookie(response)
    return response


def setup_desktop_routes(app: web.Application) -> None:
    app.router.add_get("/desktop", page)
    app.router.add_post("/desktop/login", do_login)
    app.router.add_post("/desktop/logout", do_logout)
    app.router.add_static("/desktop/static", STATIC, show_index=False)
