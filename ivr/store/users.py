"""Queries on users: looked up by API key hash, by name, by id; added.

Hashing keys and passwords is :mod:`ivr.web.credentials`; this module only
reads and writes rows, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import Agent, Role, User
from ivr.vocab.locales import Locale


async def user_by_api_key_hash(session: AsyncSession, key_hash: str) -> User | None:
    return await session.scalar(select(User).where(User.api_key_hash == key_hash))


async def user_by_username(
    session: AsyncSession, username: str, *, lock: bool = False
) -> User | None:
    """The user of that name; ``lock`` takes the row lock to change their credentials."""
    stmt = select(User).where(User.username == username)
    if lock:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def get_user(session: AsyncSession, user_id: int, *, lock: bool = False) -> User | None:
    """The user; ``lock`` takes the row lock (and re-reads it) to change them."""
    return await session.get(User, user_id, with_for_update=lock, populate_existing=lock)


async def users_with_agents(session: AsyncSession) -> Sequence[tuple[User, Agent | None]]:
    """Every user by name, with the agent each one is (None: not an agent)."""
    stmt = select(User, Agent).outerjoin(Agent, Agent.user_id == User.id).order_by(User.username)
    return [(row[0], row[1]) for row in (await session.execute(stmt)).all()]


async def enabled_supervisors(session: AsyncSession, *, lock: bool = False) -> Sequence[int]:
    """Ids of the supervisors who may still sign in; ``lock`` holds their rows so two
    supervisors disabling each other at once cannot leave none."""
    stmt = select(User.id).where(User.role == Role.SUPERVISOR, User.disabled_at.is_(None))
    if lock:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt.order_by(User.id))).all()


def add_user(
    session: AsyncSession,
    *,
    username: str,
    role: Role,
    api_key_hash: str,
    password_hash: str | None,
) -> User:
    """A new user in the session (a taken username fails at flush or commit)."""
    user = User(
        username=username, role=role, api_key_hash=api_key_hash, password_hash=password_hash
    )
    session.add(user)
    return user


async def set_user_locale(
    session: AsyncSession, user_id: int, locale: Locale | None
) -> User | None:
    """Set the language a user's pages speak (None: the browser's); the user, or None."""
    user = await session.get(User, user_id, with_for_update=True)
    if user is not None:
        user.locale = locale
    return user
