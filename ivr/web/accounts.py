"""User accounts as the CLI and the users API manage them: create, rotate an API key,
set a password.

Apart from :mod:`ivr.web.auth` because nothing here serves a request: the
CLI, the users API and the agents API call these with a session factory,
and each runs its own short transaction. A user with the agent role IS an
agent: :func:`create_user` adds the agent row in the same transaction, so
no agent user can exist that routing does not know.
"""

from __future__ import annotations

import asyncio
import re

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.store.agents import add_agent
from ivr.store.audit import record_audit
from ivr.store.models import Role, User
from ivr.store.users import add_user, user_by_username
from ivr.vocab.audit import AuditAction, AuditEntity
from ivr.vocab.locales import DEFAULT_LOCALE
from ivr.web.credentials import MIN_PASSWORD_LEN, hash_api_key, hash_password, new_api_key


class UserExists(ValueError):
    """The username is taken."""


def default_endpoint(username: str) -> str:
    """``client:<username>``: the agent's browser phone, in the characters Twilio allows."""
    return "client:" + re.sub(r"[^A-Za-z0-9_.@-]", "_", username)[:100]


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LEN:
        raise ValueError(f"password must have at least {MIN_PASSWORD_LEN} characters")


async def create_user(
    sessions: async_sessionmaker[AsyncSession],
    username: str,
    role: Role | str,
    password: str | None = None,
    *,
    languages: list[str] | None = None,
    skills: list[str] | None = None,
    display_name: str | None = None,
    endpoint: str | None = None,
    actor: User | None = None,
) -> str:
    """Create a user and return their new API key (the only time it is visible).

    With ``password`` the user can also log in to the desktop or console. An
    agent user gets their agent row too (offline; ``languages`` default to
    the service's, ``endpoint`` to ``client:<username>``, the browser phone).
    ``actor`` (who created them, if a person did) is written to the audit log.
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
            await s.flush()
            fields: dict[str, object] = {"username": username, "role": role}
            if role is Role.AGENT:
                agent = await add_agent(
                    s,
                    user_id=user.id,
                    display_name=display_name or username,
                    endpoint=endpoint or default_endpoint(username),
                    languages=list(languages or [DEFAULT_LOCALE]),
                    skills=list(skills or []),
                )
                fields |= {"languages": agent.languages, "skills": agent.skills}
            await record_audit(
                s, actor, AuditEntity.USER, user.id, AuditAction.CREATE, None, fields
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
