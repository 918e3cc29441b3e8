"""Who is calling the API: API keys for programs, passwords and a signed cookie for people.

* API keys are 32 random bytes (URL-safe text) shown once at creation; the
  database keeps only their SHA-256, so a leaked table does not leak keys.
  They travel as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``.
* Agents log in with a password (scrypt, per-user salt, constant-time
  compare; failures throttled in ``ivr.web.login``) and get an HMAC-signed
  session cookie, so the agent desktop needs no key in the browser. The
  cookie's hash is also a row in ``auth_sessions``: logout revokes it and its
  expiry is checked there, on every replica. The cookie is HttpOnly,
  SameSite=Strict and Secure when ``IVR_PUBLIC_URL`` is https, and a
  cookie-authenticated request that changes state must come from this origin
  (see ``ivr.web.security``, which also refuses cross-site posts outright).
* Supervisors may do everything agents can.

Use in a handler::

    user = await require(Role.SUPERVISOR)(request)   # 401 / 403 as JSON

or as a decorator that authenticates before the handler runs and leaves the
user in ``request[USER]``::

    @require(Role.AGENT).handler
    async def handler(request: web.Request) -> web.Response: ...
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import functools
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from aiohttp import web
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.keys import SESSIONS, SETTINGS
from ivr.store.models import AuthSession, Role, User, utcnow
from ivr.web.security import origin_allowed

log = structlog.get_logger(__name__)

USER = web.RequestKey("user", User)
"""Where an authenticated request keeps its user."""

COOKIE_NAME = "ivr_session"
_DIGITS = re.compile(r"[0-9]{1,12}")
SESSION_TTL_S = 12 * 3600  # one working day and a bit: agents log in per shift
API_KEY_BYTES = 32

# scrypt cost: ~50 ms and 16 MiB per check on this class of machine; stored in
# the hash so it can be raised later without invalidating old passwords.
_SCRYPT_N = 2**14
_SCRYPT_R = 8
_SCRYPT_P = 1
_MIN_PASSWORD_LEN = 8

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
        409: web.HTTPConflict,
        413: _TooLarge,
        422: web.HTTPUnprocessableEntity,
        429: web.HTTPTooManyRequests,
    }.get(status, web.HTTPBadRequest)
    all_headers = dict(headers or {})
    if status == 401:
        all_headers["WWW-Authenticate"] = 'Bearer realm="ivr"'
    return cls(
        text=json.dumps({"error": message, **extra}),
        content_type="application/json",
        headers=all_headers or None,
    )


# --- API keys ----------------------------------------------------------------


def new_api_key() -> str:
    """A fresh API key (shown once; store only :func:`hash_api_key` of it)."""
    return secrets.token_urlsafe(API_KEY_BYTES)


def hash_api_key(key: str) -> str:
    """SHA-256 hex: a fast hash is right here because the key is 256 random bits."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _presented_key(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    key = request.headers.get("X-API-Key", "").strip()
    return key or None


# --- passwords ---------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash``; blocking (~50 ms): call it off the event loop."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    """Constant-time check; a missing or malformed hash is checked against a dummy
    so an unknown user takes as long as a wrong password. Blocking."""
    try:
        algo, n, r, p, salt_s, digest_s = (stored or _DUMMY_HASH).split("$")
        if algo != "scrypt":
            raise ValueError(algo)
        salt, want = _unb64(salt_s), _unb64(digest_s)
        got = hashlib.scrypt(
            password.encode("utf-8"),
            salt=salt,
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(want),
            maxmem=64 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want) and stored is not None


_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


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


def make_session_token(secret: bytes, user_id: int, *, ttl_s: int = SESSION_TTL_S) -> str:
    """``<user_id>.<expires>.<nonce>.<hmac>``: signed, not encrypted (it holds no secret)."""
    expires = int(time.time()) + ttl_s
    body = f"{user_id}.{expires}.{secrets.token_urlsafe(8)}"
    sig = hmac.new(secret, body.encode("ascii"), hashlib.sha256).digest()
    return f"{body}.{_b64(sig)}"


def read_session_token(secret: bytes, token: str, *, now: float | None = None) -> int | None:
    """The user id in a valid, unexpired token; None for anything else."""
    body, _, sig = token.rpartition(".")
    parts = body.split(".")
    if len(parts) != 3 or not all(_DIGITS.fullmatch(p) for p in parts[:2]):
        return None
    want = hmac.new(secret, body.encode("ascii", "replace"), hashlib.sha256).digest()
    try:
        got = _unb64(sig)
    except (ValueError, TypeError):
        return None
    if not hmac.compare_digest(got, want):
        return None
    if int(parts[1]) < (time.time() if now is None else now):
        return None
    return int(parts[0])


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


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
        # Sessions over a day past their end are of no use to anyone: forget them.
        await s.execute(
            delete(AuthSession).where(AuthSession.expires_at < now - dt.timedelta(days=1))
        )
        s.add(
            AuthSession(
                token_hash=token_hash(token),
                user_id=user.id,
                created_at=now,
                expires_at=now + dt.timedelta(seconds=SESSION_TTL_S),
            )
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
            await s.execute(
                update(AuthSession)
                .where(AuthSession.token_hash == token_hash(token))
                .where(AuthSession.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
    clear_session_cookie(response)


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE_NAME, path="/")


async def _session_user(
    sessions: async_sessionmaker[AsyncSession], user_id: int, token: str
) -> User | None:
    async with sessions() as s:
        row = await s.scalar(select(AuthSession).where(AuthSession.token_hash == token_hash(token)))
        if row is None or row.user_id != user_id or row.revoked_at is not None:
            return None
        if row.expires_at <= utcnow():
            return None
        return await s.get(User, user_id)


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
            user = await s.scalar(select(User).where(User.api_key_hash == hash_api_key(key)))
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
    request[USER] = user
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


# --- users (CLI) -------------------------------------------------------------


class UserExists(ValueError):
    """The username is taken."""


async def create_user(
    sessions: async_sessionmaker[AsyncSession],
    username: str,
    role: Role | str,
    password: str | None = None,
) -> str:
    """Create a user and return their new API key (the only time it is visible).

    With ``password`` the user can also log in to the agent desktop.
    """
    username = username.strip()
    if not username:
        raise ValueError("username is empty")
    role = Role(role)
    if password is not None and len(password) < _MIN_PASSWORD_LEN:
        raise ValueError(f"password must have at least {_MIN_PASSWORD_LEN} characters")
    key = new_api_key()
    pw_hash = await asyncio.to_thread(hash_password, password) if password is not None else None
    try:
        async with sessions() as s, s.begin():
            s.add(
                User(
                    username=username,
                    role=role,
                    api_key_hash=hash_api_key(key),
                    password_hash=pw_hash,
                )
            )
    except IntegrityError:
        raise UserExists(f"user {username!r} exists") from None
    return key


async def rotate_api_key(sessions: async_sessionmaker[AsyncSession], username: str) -> str:
    """Replace a user's API key (the old one stops working at once); returns the new key."""
    key = new_api_key()
    async with sessions() as s, s.begin():
        user = await s.scalar(select(User).where(User.username == username).with_for_update())
        if user is None:
            raise LookupError(f"no user {username!r}")
        user.api_key_hash = hash_api_key(key)
    return key


async def set_password(
    sessions: async_sessionmaker[AsyncSession], username: str, password: str
) -> None:
    if len(password) < _MIN_PASSWORD_LEN:
        raise ValueError(f"password must have at least {_MIN_PASSWORD_LEN} characters")
    pw_hash = await asyncio.to_thread(hash_password, password)
    async with sessions() as s, s.begin():
        user = await s.scalar(select(User).where(User.username == username).with_for_update())
        if user is None:
            raise LookupError(f"no user {username!r}")
        user.password_hash = pw_hash
