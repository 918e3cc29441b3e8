"""Sign-in state in the database: browser sessions and failed-login counters.

Both live in tables (not in process memory) so logout, expiry and lockouts
hold on every replica and across restarts. The rules (how long a session
lasts, how many failures lock an account) are the web layer's; these
functions only read and write the rows, in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import AuthSession, LoginThrottle

STALE_SESSION_AGE = dt.timedelta(days=1)
"""Sessions this long past their end are of no use to anyone: they are forgotten."""


# --- sessions ----------------------------------------------------------------


async def start_session(
    session: AsyncSession,
    *,
    token_hash: str,
    user_id: int,
    now: dt.datetime,
    expires_at: dt.datetime,
) -> None:
    """Store a new session (and forget the long-expired ones while at it)."""
    await session.execute(
        delete(AuthSession).where(AuthSession.expires_at < now - STALE_SESSION_AGE)
    )
    session.add(
        AuthSession(token_hash=token_hash, user_id=user_id, created_at=now, expires_at=expires_at)
    )


async def revoke_session(session: AsyncSession, token_hash: str, now: dt.datetime) -> None:
    """Logout: the session stops working on every replica (a no-op if already revoked)."""
    await session.execute(
        update(AuthSession)
        .where(AuthSession.token_hash == token_hash)
        .where(AuthSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_user_sessions(session: AsyncSession, user_id: int, now: dt.datetime) -> int:
    """Every live session of one user stops working (password reset, account disabled)."""
    result = await session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id)
        .where(AuthSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def session_by_token_hash(session: AsyncSession, token_hash: str) -> AuthSession | None:
    return await session.scalar(select(AuthSession).where(AuthSession.token_hash == token_hash))


# --- failed-login counters ---------------------------------------------------


async def throttles(session: AsyncSession, keys: Collection[str]) -> Sequence[LoginThrottle]:
    """The counters that exist among ``keys``."""
    return (await session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(keys)))).all()


async def locked_throttle(session: AsyncSession, key: str, now: dt.datetime) -> LoginThrottle:
    """The counter for ``key`` under its row lock, or a fresh one (window starting ``now``)
    added to the session; two first failures at once collide on insert, which the
    caller retries."""
    row = await session.get(LoginThrottle, key, with_for_update=True, populate_existing=True)
    if row is None:
        row = LoginThrottle(key=key, failures=0, window_start=now)
        session.add(row)
    return row


def _not_locked(now: dt.datetime) -> ColumnElement[bool]:
    return or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now)


async def forget_stale_throttles(
    session: AsyncSession, now: dt.datetime, older_than: dt.timedelta
) -> None:
    """Drop counters whose window began long ago, unless they still hold a lockout."""
    await session.execute(
        delete(LoginThrottle).where(LoginThrottle.window_start < now - older_than, _not_locked(now))
    )


async def forget_throttle(session: AsyncSession, key: str, now: dt.datetime) -> None:
    """Clear one counter after a successful login, unless it holds a lockout."""
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == key, _not_locked(now)))
