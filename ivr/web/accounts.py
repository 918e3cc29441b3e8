"""User accounts as the CLI manages them: create, rotate an API key, set a password.

Apart from :mod:`ivr.web.auth` because nothing here serves a request: the
CLI (and the agents API, for a new agent's user) call these with a session
factory, and each runs its own short transaction.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.store.agents import add_agent
from ivr.store.models import Role
from ivr.store.users import add_user, user_by_username
from ivr.web.credentials import MIN_PASSWORD_LEN, hash_api_key, hash_password, new_api_key


class UserExists(ValueError):
    """The username is taken."""


@dataclass(frozen=True)
class AgentProfile:
    """What makes a user an agent: the phone the desktop rings, languages, skills."""

    endpoint: str
    display_name: str | None = None
    languages: list[str] = field(default_factory=lambda: ["pt-BR"])
    skills: list[str] = field(default_factory=list)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LEN:
        raise ValueError(f"password must have at least {MIN_PASSWORD_LEN} characters")


async def create_user(
    sessions: async_sessionmaker[AsyncSession],
    username: str,
    role: Role | str,
    password: str | None = None,
    *,
    agent: AgentProfile | None = None,
) -> str:
    """Create a user and return their new API key (the only time it is visible).

    With ``password`` the user can also log in to the pages. With ``agent``
    the user is an agent too, created in the same transaction, so an agent
    user never exists without the agent the desktop and routing need.
    """
    username = username.strip()
    if not username:
        raise ValueError("username is empty")
    role = Role(role)
    if password is not None:
        _check_password(password)
    key = new_api_key()
    pw_hash = await asyncio.to_thread(hash_password, password) if password is not None else None
    try:
        async with sessions() as s, s.begin():
            user = add_user(
                s,
                username=username,
                role=role,
                api_key_hash=hash_api_key(key),
                password_hash=pw_hash,
            )
            if agent is not None:
                await s.flush()
                await add_agent(
                    s,
                    user_id=user.id,
                    display_name=agent.display_name or username,
                    endpoint=agent.endpoint,
                    languages=list(agent.languages),
                    skills=list(agent.skills),
                )
    except IntegrityError:
        raise UserExists(f"user {username!r} exists") from None
    return key


async def rotate_api_key(sessions: async_sessionmaker[AsyncSession], username: str) -> str:
    """Replace a user's API key (the old one stops working at once); returns the new key."""
    key = new_api_key()
    async with sessions() as s, s.begin():
        user = await user_by_username(s, username, lock=True)
        if user is None:
            raise LookupError(f"no user {username!r}")
        user.api_key_hash = hash_api_key(key)
    return key


async def set_password(
    sessions: async_sessionmaker[AsyncSession], username: str, password: str
) -> None:
    _check_password(password)
    pw_hash = await asyncio.to_thread(hash_password, password)
    async with sessions() as s, s.begin():
        user = await user_by_username(s, username, lock=True)
        if user is None:
            raise LookupError(f"no user {username!r}")
        user.password_hash = pw_hash
