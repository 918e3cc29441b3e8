"""Password login and logout for people, with failed attempts throttled in the database.

Guessing is bounded per account and per client address: after
:data:`ACCOUNT_LIMIT` failures for one username (or :data:`ADDRESS_LIMIT`
from one address) within :data:`WINDOW`, every login for that account (or
from that address) is refused with 429 for :data:`LOCKOUT`, even with the
right password, so a guess that happens to be right during the lockout
tells the attacker nothing. The counters live in ``login_throttles`` so the
lockout holds on every replica and across restarts. Unknown usernames are
counted like known ones: the answers do not reveal which accounts exist.

The address is the TCP peer (``request.remote``); behind a load balancer
every client shares its address, which the address limit is sized for.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from typing import Any

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.keys import SESSIONS
from ivr.store import auth_sessions
from ivr.store.models import User, utcnow
from ivr.store.users import user_by_username
from ivr.web.api_common import from_pydantic, read_json, unprocessable
from ivr.web.api_schemas import LoginIn
from ivr.web.auth import json_error
from ivr.web.credentials import verify_password

ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 30
WINDOW = dt.timedelta(minutes=15)
LOCKOUT = dt.timedelta(minutes=15)
_FORGET_AFTER = dt.timedelta(days=1)


def throttle_keys(request: web.Request, username: str) -> dict[str, int]:
    """The counters a login from this request touches, with their limits."""
    return {
        f"user:{username.strip().lower()[:100]}": ACCOUNT_LIMIT,
        f"addr:{request.remote or 'unknown'}"[:120]: ADDRESS_LIMIT,
    }


async def locked_for(request: web.Request, keys: dict[str, int]) -> float:
    """Seconds until every one of ``keys`` may try again (0: none is locked)."""
    now = utcnow()
    async with request.app[SESSIONS]() as s:
        rows = await auth_sessions.throttles(s, keys)
    waits = [(r.locked_until - now).total_seconds() for r in rows if r.locked_until]
    return max([0.0, *waits])


async def _count_failure(s: AsyncSession, key: str, limit: int, now: dt.datetime) -> None:
    row = await auth_sessions.locked_throttle(s, key, now)
    if now - row.window_start > WINDOW:
        row.failures, row.window_start = 0, now
    row.failures += 1
    if row.failures >= limit:
        row.locked_until = now + LOCKOUT
        row.failures, row.window_start = 0, now


async def record_failure(request: web.Request, keys: dict[str, int]) -> None:
    """Count one failed login against each key; lock those that reach their limit."""
    now = utcnow()
    for attempt in range(3):  # a concurrent first failure may insert the same key
        try:
            async with request.app[SESSIONS]() as s, s.begin():
                for key, limit in sorted(keys.items()):
                    await _count_failure(s, key, limit, now)
                await auth_sessions.forget_stale_throttles(s, now, _FORGET_AFTER)
            return
        except IntegrityError:
            if attempt == 2:
                raise


async def _forget_account(request: web.Request, key: str) -> None:
    now = utcnow()
    async with request.app[SESSIONS]() as s, s.begin():
        await auth_sessions.forget_throttle(s, key, now)


async def login(request: web.Request, username: str, password: str) -> User:
    """The user whose password this is; 429 while locked out, 403 if disabled, 401 otherwise."""
    keys = throttle_keys(request, username)
    wait = await locked_for(request, keys)
    if wait > 0:
        raise json_error(
            429,
            "too many failed logins: try again later",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    async with request.app[SESSIONS]() as s:
        user = await user_by_username(s, username)
    stored = user.password_hash if user is not None else None
    ok = await asyncio.to_thread(verify_password, password, stored)
    if user is None or not ok:
        await record_failure(request, keys)
        raise json_error(401, "wrong username or password")
    await _forget_account(request, next(iter(keys)))
    if user.disabled_at is not None:  # told only to whoever knows the password
        raise json_error(403, "this account is disabled")
    return user


async def page_login(request: web.Request) -> User:
    """A page's login post (JSON or a same-site form): the user, or 400/401/422/429.

    The pages (desktop, console) decide who may enter afterwards; this only
    reads the form and checks the password through the throttle above.
    """
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
    return await login(request, form.username.strip(), form.password)
