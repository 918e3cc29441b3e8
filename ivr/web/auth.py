"""Who is calling the API: API keys for programs, passwords and a signed cookie for people.

* API keys travel as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``;
  the database keeps only their hash (see :mod:`ivr.web.credentials`, which
  also hashes passwords and signs session tokens).
* Agents log in with a password (failures throttled in ``ivr.web.login``)
  and get an HMAC-signed session cookie, so the agent desktop needs no key
  in the browser. The cookie's hash is also a row in ``auth_sessions``:
  logout revokes it and its expiry is checked there, on every replica. The
  cookie is HttpOnly, SameSite=Strict and Secure when ``IVR_PUBLIC_URL`` is
  https, and a cookie-authenticated request that changes state must come
  from this origin (see ``ivr.web.security``, which also refuses cross-site
  posts outright).
* Supervisors may do everything agents can.

Creating users and rotating their keys (the CLI's work) is in
:mod:`ivr.web.accounts`.

Use in a handler::

    user = await require(Role.SUPERVISOR)(request)   # 401 / 403 as JSON

or as a decorator that authenticates before the handler runs and leaves the
user in ``request[USER]``::

    @require(Role.AGENT).handler
    async def handler(request: web.Request) -> web.Response: ...
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.keys import SESSIONS, SETTINGS
from ivr.store import auth_sessions
from ivr.store.models import Role, User, utcnow
from ivr.store.users import get_user, user_by_api_key_hash
from ivr.web.credentials import (
    SESSION_TTL_S,
    hash_api_key,
    make_session_token,
    read_session_token,
    token_hash,
)
from ivr.web.security import origin_allowed

log = structlog.get_logger(__name__)

USER = web.RequestKey("user", User)
"""Where an authenticated request keeps its user."""

COOKIE_NAME = "ivr_session"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# --- errors ------------------------------------------------------------------


class _TooLarge(web.HTTPClientError):
    status_code = 413


def json_error(
    status: int, message: str, *, headers: dict[str, str] | None = None, **extra: object
) -> web.HTTPException:
    """An HTTP error whose body is ``{"error": message, ...}`` (the API never answers HTML)."""
    cls: type[web.HTTPException] = {
        400: web.HTTPBadRequest,
        401: web.HTTPUnauthorized,
        403: web.HTTPForbidden,
        404: web.HTTPNotFound,
        406: web.HTTPNotAcceptable,
        409: web.HTTPConflict,
        410: web.HTTPGone,
        413: _TooLarge,
        422: web.HTTPUnprocessableEntity,
        429: web.HTTPTooManyRequests,
        502: web.HTTPBadGateway,
        503: web.HTTPServiceUnavailable,
    }.get(status, web.HTTPBadRequest)
    all_headers = dict(headers or {})
    if status == 401:
        all_headers["WWW-Authenticate"] = 'Bearer realm="ivr"'
    return cls(
        text=json.dumps({"error": message, **extra}),
        content_type="application/json",
        headers=all_headers or None,
    )


# --- the API key presented ---------------------------------------------------


def _presented_key(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    key = request.headers.get("X-API-Key", "").strip()
    return key or None


# --- session cookies ---------------------------------------------------------


_PROCESS_SECRET: bytes | None = None


def session_secret(app: web.Application) -> bytes:
    """IVR_SECRET_KEY, or a random secret for this process (logged once as a warning)."""
    global _PROCESS_SECRET
    settings = app.get(SETTINGS)
    configured = getattr(settings, "secret_key", None) if settings is not None else None
    if configured:
        return hashlib.sha256(b"ivr-session\0" + configured.encode("utf-8")).digest()
    if _PROCESS_SECRET is None:
        _PROCESS_SECRET = secrets.token_bytes(32)
        log.warning(
            "auth.ephemeral_secret",
            detail="IVR_SECRET_KEY is not set: agent sessions end when this process "
            "stops and do not work across replicas",
        )
    return _PROCESS_SECRET


def cookie_secure(request: web.Request) -> bool:
    """Secure when the public URL is https (behind a TLS proxy the hop here is plain)."""
    settings = request.app.get(SETTINGS)
    public = getattr(settings, "public_url", None) if settings is not None else None
    return request.secure or bool(public and public.lower().startswith("https://"))


async def set_session_cookie(
    response: web.StreamResponse, request: web.Request, user: User
) -> None:
    """A new session for ``user``: its hash stored (so logout and expiry hold), the cookie set."""
    token = make_session_token(session_secret(request.app), user.id)
    now = utcnow()
    async with request.app[SESSIONS]() as s, s.begin():
        await auth_sessions.start_session(
            s,
            token_hash=token_hash(token),
            user_id=user.id,
            now=now,
            expires_at=now + dt.timedelta(seconds=SESSION_TTL_S),
        )
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=SESSION_TTL_S,
        httponly=True,
        samesite="Strict",
        secure=cookie_secure(request),
        path="/",
    )


async def end_session(response: web.StreamResponse, request: web.Request) -> None:
    """Revoke the request's session (if any) on the server and clear the cookie."""
    token = request.cookies.get(COOKIE_NAME)
    if token:
        async with request.app[SESSIONS]() as s, s.begin():
            await auth_sessions.revoke_session(s, token_hash(token), utcnow())
    clear_session_cookie(response)


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE_NAME, path="/")


async def _session_user(
    sessions: async_sessionmaker[AsyncSession], user_id: int, token: str
) -> User | None:
    async with sessions() as s:
        row = await auth_sessions.session_by_token_hash(s, token_hash(token))
        if row is None or row.user_id != user_id or row.revoked_at is not None:
            return None
        if row.expires_at <= utcnow():
            return None
        return await get_user(s, user_id)


# --- authentication ----------------------------------------------------------


async def authenticate(request: web.Request) -> User:
    """The user behind this request (API key first, then session cookie), or 401 JSON."""
    cached = request.get(USER)
    if isinstance(cached, User):
        return cached
    sessions = request.app[SESSIONS]
    key = _presented_key(request)
    user: User | None = None
    if key is not None:
        async with sessions() as s:
            user = await user_by_api_key_hash(s, hash_api_key(key))
        if user is None:
            raise json_error(401, "invalid API key")
    else:
        token = request.cookies.get(COOKIE_NAME)
        if not token:
            raise json_error(
                401, "authentication required: send 'Authorization: Bearer <API key>' or log in"
            )
        user_id = read_session_token(session_secret(request.app), token)
        if user_id is not None:
            user = await _session_user(sessions, user_id, token)
        if user is None:
            raise json_error(401, "session expired or invalid: log in again")
        if request.method not in ("GET", "HEAD", "OPTIONS") and not origin_allowed(request):
            raise json_error(403, "cross-origin request refused")
    if user.disabled_at is not None:
        raise json_error(401, "this account is disabled")
    request[USER] = user
    return user


async def recheck(request: web.Request, user_id: int) -> User | None:
    """The request's user again, read afresh (no cache), or None if their
    credentials no longer hold: a long-lived stream asks now and then, so a
    logout, a revoked session or a disabled account ends it."""
    sessions = request.app[SESSIONS]
    key = _presented_key(request)
    user: User | None = None
    if key is not None:
        async with sessions() as s:
            user = await user_by_api_key_hash(s, hash_api_key(key))
    else:
        token = request.cookies.get(COOKIE_NAME)
        if token:
            user = await _session_user(sessions, user_id, token)
    if user is None or user.id != user_id or user.disabled_at is not None:
        return None
    return user


def allowed(user: User, roles: tuple[Role, ...]) -> bool:
    """Supervisors pass every check; anyone else needs one of ``roles``."""
    return user.role is Role.SUPERVISOR or not roles or user.role in roles


@dataclass(frozen=True)
class Guard:
    """What :func:`require` returns: call it on a request, or wrap a handler."""

    roles: tuple[Role, ...]

    async def __call__(self, request: web.Request) -> User:
        user = await authenticate(request)
        if not allowed(user, self.roles):
            need = " or ".join(r.value for r in self.roles)
            raise json_error(403, f"this needs the {need} role", role=user.role.value)
        return user

    def handler(self, fn: Handler) -> Handler:
        @functools.wraps(fn)
        async def wrapped(request: web.Request) -> web.StreamResponse:
            await self(request)
            return await fn(request)

        wrapped.__dict__["required_roles"] = self.roles
        return wrapped


def require(*roles: Role) -> Guard:
    """A guard admitting ``roles`` (and always supervisors); no roles: any signed-in user."""
    return Guard(tuple(roles))


def current_user(request: web.Request) -> User:
    """The user a guard already authenticated (raises if none did)."""
    user = request.get(USER)
    if not isinstance(user, User):
        raise RuntimeError("current_user() before authenticate()")
    return user
