"""Queries on agents: lookups, and presence moved by conditional updates.

Presence is the only lock on an agent. A claim is one conditional UPDATE
(``... WHERE presence = 'available'``) whose row count says who won, so two
replicas (or two transfers in one process) can never give one agent two
calls: PostgreSQL re-checks the condition after waiting for the other row
lock; SQLite runs write transactions one at a time. Which agent to claim is
routing's decision (:mod:`ivr.agents.routing`), not this module's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import Agent, Presence, User, utcnow

# --- lookups -----------------------------------------------------------------


async def agent_for_user(session: AsyncSession, user_id: int) -> Agent | None:
    """The agent a signed-in user is (None: the user is not an agent)."""
    return await session.scalar(select(Agent).where(Agent.user_id == user_id))


async def get_agent(session: AsyncSession, agent_id: int, *, fresh: bool = False) -> Agent | None:
    """The agent; ``fresh`` re-reads the row over the session's copy (after a
    conditional update, which does not synchronise the session)."""
    return await session.get(Agent, agent_id, populate_existing=fresh)


async def lock_agent(session: AsyncSession, agent_id: int) -> Agent | None:
    """The agent under its row lock, as the database has it now."""
    return await session.get(Agent, agent_id, with_for_update=True, populate_existing=True)


async def list_agents(session: AsyncSession) -> Sequence[Agent]:
    return (await session.scalars(select(Agent).order_by(Agent.id))).all()


async def add_agent(
    session: AsyncSession,
    *,
    user_id: int,
    display_name: str,
    endpoint: str,
    languages: list[str],
    skills: list[str],
) -> Agent:
    """A new agent, offline; flushed, so a user who already is one fails here."""
    agent = Agent(
        user_id=user_id,
        display_name=display_name,
        endpoint=endpoint,
        languages=languages,
        skills=skills,
        presence=Presence.OFFLINE,
    )
    session.add(agent)
    await session.flush()
    return agent


async def available_agents(session: AsyncSession) -> Sequence[Agent]:
    """Agents free for a transfer; a disabled user's agent never is, whatever its presence."""
    stmt = (
        select(Agent)
        .join(User, User.id == Agent.user_id)
        .where(Agent.presence == Presence.AVAILABLE, User.disabled_at.is_(None))
    )
    return (await session.scalars(stmt)).all()


# --- presence ----------------------------------------------------------------


def _rows(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


async def _switch(
    session: AsyncSession,
    agent_id: int,
    *conditions: ColumnElement[bool],
    to: Presence,
    since: dt.datetime,
) -> bool:
    """Move the agent to ``to`` (wrap-up cleared) if the ``conditions`` still hold;
    one conditional UPDATE, so True only for the one caller that won."""
    result = await session.execute(
        update(Agent)
        .where(Agent.id == agent_id, *conditions)
        .values(presence=to, presence_since=since, wrapup_until=None)
        .execution_options(synchronize_session=False)
    )
    return _rows(result) == 1


async def _move(
    session: AsyncSession,
    agent_id: int,
    source: Presence,
    to: Presence,
    now: dt.datetime | None,
    *conditions: ColumnElement[bool],
) -> bool:
    """``source`` -> ``to`` now, if the agent is still in ``source`` (and ``conditions`` hold)."""
    return await _switch(
        session, agent_id, Agent.presence == source, *conditions, to=to, since=now or utcnow()
    )


async def claim(session: AsyncSession, agent_id: int, now: dt.datetime | None = None) -> bool:
    """available -> busy, atomically; True only for the one caller that won."""
    return await _move(session, agent_id, Presence.AVAILABLE, Presence.BUSY, now)


async def release(session: AsyncSession, agent_id: int, now: dt.datetime | None = None) -> bool:
    """busy -> available after a call that never connected (no answer, busy, failed)."""
    return await _move(session, agent_id, Presence.BUSY, Presence.AVAILABLE, now)


async def start_wrapup(
    session: AsyncSession, agent_id: int, seconds: int, now: dt.datetime | None = None
) -> None:
    """After a call the agent stays busy for ``seconds`` to write notes, then is available."""
    now = now or utcnow()
    await session.execute(
        update(Agent)
        .where(Agent.id == agent_id, Agent.presence == Presence.BUSY)
        .values(wrapup_until=now + dt.timedelta(seconds=seconds))
        .execution_options(synchronize_session=False)
    )


async def end_wrapup(session: AsyncSession, agent_id: int, now: dt.datetime | None = None) -> bool:
    """The agent finished the wrap-up early (submitted the form): available now."""
    return await _move(
        session, agent_id, Presence.BUSY, Presence.AVAILABLE, now, Agent.wrapup_until.is_not(None)
    )


async def finish_wrapups(session: AsyncSession, now: dt.datetime | None = None) -> list[int]:
    """Every agent whose wrap-up time is over goes back to available; returns their ids."""
    now = now or utcnow()
    over = (
        Agent.presence == Presence.BUSY,
        Agent.wrapup_until.is_not(None),
        Agent.wrapup_until <= now,
    )
    due = (await session.scalars(select(Agent.id).where(*over))).all()
    freed: list[int] = []
    for agent_id in due:
        if await _switch(session, agent_id, *over, to=Presence.AVAILABLE, since=now):
            freed.append(agent_id)
    return freed
