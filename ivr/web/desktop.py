"""The agent desktop: one plain page at ``/desktop``, its static files, password login.

The page logs in with a password (``POST /desktop/login``, which sets the
signed session cookie), then talks to the agents API and listens on its
WebSocket. No build step: HTML, CSS and JavaScript are served as written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from ivr.keys import SESSIONS
from ivr.store.agents import agent_for_user
from ivr.web.api_common import from_pydantic, read_json, unprocessable
from ivr.web.api_schemas import LoginIn
from ivr.web.auth import end_session, json_error, set_session_cookie
from ivr.web.login import login

STATIC = Path(__file__).parent / "static"


async def page(_: web.Request) -> web.FileResponse:
    return web.FileResponse(
        STATIC / "desktop.html", headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"}
    )


async def do_login(request: web.Request) -> web.Response:
    """Password login for the page (JSON or a same-site form post); sets the session cookie."""
    if request.content_type == "application/json":
        body: Any = await read_json(request)
    else:
        body = dict(await request.post())
    if not isinstance(body, dict):
        raise json_error(400, "send username and password")
    try:
        form = LoginIn.model_validate(
            {k: body.get(k) for k in ("username", "password") if body.get(k) is not None}
        )
    except ValidationError as exc:
        raise unprocessable(from_pydantic(exc)) from None
    user = await login(request, form.username.strip(), form.password)
    async with request.app[SESSIONS]() as s:
        agent = await agent_for_user(s, user.id)
    response = web.json_response(
        {
            "user": {"id": user.id, "username": user.username, "role": user.role.value},
            "agent_id": agent.id if agent else None,
        }
    )
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
