"""The supervisor and agent JSON API under ``/api/v1`` and its OpenAPI document.

``setup_api(app)`` adds every route; the app must provide ``SESSIONS`` (at
start-up, from a cleanup context, is fine) and ``SETTINGS``. Endpoints live
in small modules by subject (``api_campaigns``, ``api_creditors``,
``api_debtors``, ``api_payments``, ``api_plans``); this one adds the login
endpoints and the document.
"""

from __future__ import annotations

from aiohttp import web

from ivr.keys import SESSIONS
from ivr.store.models import Role
from ivr.store.users import set_user_locale
from ivr.web import (
    api_campaign_calendar,
    api_campaigns,
    api_creditors,
    api_debtor_actions,
    api_debtor_channels,
    api_debtor_console,
    api_debtors,
    api_dnc,
    api_imports,
    api_payments,
    api_plans,
    api_reports,
    api_users,
    api_wallboard,
)
from ivr.web.api_common import API_PREFIX, Endpoint, add_endpoints, read_body, reply
from ivr.web.api_schemas import LoginIn, MeIn, Ok, UserOut
from ivr.web.auth import authenticate, end_session, json_error, set_session_cookie
from ivr.web.login import login
from ivr.web.openapi import OPENAPI_PATH, serve_openapi
from ivr.web.security import install_security


def _user_out(user: object) -> UserOut:
    return UserOut.model_validate(user)


async def post_login(request: web.Request) -> web.Response:
    """Log in with a password; the answer sets the signed session cookie."""
    body = await read_body(request, LoginIn)
    user = await login(request, body.username, body.password)
    response = reply(_user_out(user))
    await set_session_cookie(response, request, user)
    return response


async def post_logout(request: web.Request) -> web.Response:
    """End the session: revoked on the server, the cookie cleared."""
    response = reply(Ok())
    await end_session(response, request)
    return response


async def get_me(request: web.Request) -> web.Response:
    """Who the credentials belong to."""
    return reply(_user_out(await authenticate(request)))


async def patch_me(request: web.Request) -> web.Response:
    """Change the signed-in user's own settings (today: the pages' language)."""
    user = await authenticate(request)
    body = await read_body(request, MeIn)
    async with request.app[SESSIONS]() as s, s.begin():
        row = await set_user_locale(s, user.id, body.locale)
        if row is None:
            raise json_error(401, "session expired or invalid: log in again")
        out = _user_out(row)
    return reply(out)


AUTH_ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "POST",
        f"{API_PREFIX}/auth/login",
        post_login,
        "Log in with a password (sets a session cookie)",
        roles=None,
        tag="auth",
        body=LoginIn,
        response=UserOut,
        errors=(401, 422, 429),
    ),
    Endpoint(
        "POST",
        f"{API_PREFIX}/auth/logout",
        post_logout,
        "Log out (revokes the session, clears the cookie)",
        roles=None,
        tag="auth",
        response=Ok,
        errors=(403,),
    ),
    Endpoint(
        "GET",
        f"{API_PREFIX}/auth/me",
        get_me,
        "The signed-in user",
        roles=(Role.AGENT,),
        tag="auth",
        response=UserOut,
    ),
    Endpoint(
        "PATCH",
        f"{API_PREFIX}/auth/me",
        patch_me,
        "Change the signed-in user's language (null: the browser's)",
        roles=(Role.AGENT,),
        tag="auth",
        body=MeIn,
        response=UserOut,
        errors=(401, 403, 422),
    ),
)


def setup_api(app: web.Application) -> None:
    """Register the ``/api/v1`` routes and ``GET /api/openapi.json`` on ``app``."""
    install_security(app)
    add_endpoints(app, AUTH_ENDPOINTS)
    add_endpoints(app, api_campaigns.ENDPOINTS)
    add_endpoints(app, api_campaign_calendar.ENDPOINTS)
    add_endpoints(app, api_imports.ENDPOINTS)
    add_endpoints(app, api_creditors.ENDPOINTS)
    add_endpoints(app, api_debtors.ENDPOINTS)
    add_endpoints(app, api_debtor_channels.ENDPOINTS)
    add_endpoints(app, api_dnc.ENDPOINTS)
    add_endpoints(app, api_debtor_console.ENDPOINTS)
    add_endpoints(app, api_debtor_actions.ENDPOINTS)
    add_endpoints(app, api_payments.ENDPOINTS)
    add_endpoints(app, api_plans.ENDPOINTS)
    add_endpoints(app, api_reports.ENDPOINTS)
    add_endpoints(app, api_users.ENDPOINTS)
    add_endpoints(app, api_wallboard.ENDPOINTS)
    app.router.add_get(OPENAPI_PATH, serve_openapi)


__all__ = ["AUTH_ENDPOINTS", "setup_api"]
