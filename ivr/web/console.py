"""The supervisors' console: one page at ``/console``, its static files, its login.

Like the agent desktop, no build step: ``static/console/`` holds the HTML,
CSS and ES modules served as written (the shell, ``dom.js``, ``api.js``,
``i18n.js`` and one module per page in ``pages/``). The words of both pages
live in ``static/i18n/<locale>/<bundle>.json``, served at ``/static/i18n/``.
The pages' data comes from the JSON API under ``/api/v1`` (supervisor role);
this module only serves the page and lets supervisors in and out, with the
desktop's login machinery (throttled passwords, signed and revocable sessions).

The old addresses people try lead here: ``/`` to the console, ``/supervisor``
to its wallboard and ``/reports`` to its reports.
"""

from __future__ import annotations

from aiohttp import web

from ivr.store.models import Role
from ivr.web.auth import json_error, set_session_cookie
from ivr.web.desktop import PAGE_HEADERS, STATIC, do_logout, user_json
from ivr.web.login import page_login

CONSOLE = STATIC / "console"
I18N = STATIC / "i18n"
# Third-party browser code, vendored at pinned versions with their licenses (no CDN).
VENDOR = STATIC / "vendor"
_REDIRECTS = {
    "/": "/console",
    "/supervisor": "/console#/wallboard",
    "/reports": "/console#/reports",
}


async def page(_: web.Request) -> web.FileResponse:
    return web.FileResponse(CONSOLE / "console.html", headers=PAGE_HEADERS)


async def do_login(request: web.Request) -> web.Response:
    """Password login for the console; only supervisors get the session cookie.

    An agent is told kindly where their page is (``code: not_supervisor``,
    ``page: /desktop``); no session is started for them here.
    """
    user = await page_login(request)
    if user.role is not Role.SUPERVISOR:
        raise json_error(
            403,
            "this page is for supervisors; agents work in the desktop",
            code="not_supervisor",
            page="/desktop",
        )
    response = web.json_response({"user": user_json(user)})
    await set_session_cookie(response, request, user)
    return response


async def redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound(_REDIRECTS[request.path])


def setup_console_routes(app: web.Application) -> None:
    app.router.add_get("/console", page)
    app.router.add_post("/console/login", do_login)
    app.router.add_post("/console/logout", do_logout)
    app.router.add_static("/console/static", CONSOLE, show_index=False)
    app.router.add_static("/static/i18n", I18N, show_index=False)
    app.router.add_static("/static/vendor", VENDOR, show_index=False)
    for path in _REDIRECTS:
        app.router.add_get(path, redirect)
