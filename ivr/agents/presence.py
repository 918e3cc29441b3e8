"""Agent presence in the store: claims, releases, wrap-up, manual switches.

Presence is the only lock on an agent. A claim is one conditional UPDATE
(``... WHERE presence = 'available'``) whose row count says who won, so two
replicas (or two transfers in one process) can never give one agent two
calls: PostgreSQL re-checks the condition after waiting for the other row
lock; SQLite runs write transactions one at a time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.agents.routing import AgentSnapshot
from ivr.store.models import Agent, Presence, utcnow

MANUAL_PRESENCES = frozenset({Presence.AVAILABLE, Presence.AWAY, Presence.OFFLINE})
"""What an agent may switch to; ``busy`` is set by calls and wrap-up only."""


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


def snapshot(agent: Agent) -> AgentSnapshot:
    return AgentSnapshot(
        id=agent.id,
        presence=agent.presence.value,
        idle_since=agent.presence_since,
        languages=tuple(agent.languages or ()),
        skills=tuple(agent.skills or ()),
    )


async def available_agents(session: AsyncSession) -> list[AgentSnapshot]:
    rows = await session.scalars(select(Agent).where(Agent.presence == Presence.AVAILABLE))
    return [snapshot(a) for a in rows.all()]


async def claim(session: AsyncSession, agent_id: int, now: dt.datetime | None = None) -> bool:
    """available -> busy, atomically; True only for the one caller that won."""
    return await _switch(
        session,
        agent_id,
        Agent.presence == Presence.AVAILABLE,
        to=Presence.BUSY,
        since=now or utcnow(),
    )


async def release(session: AsyncSession, agent_id: int, now: dt.datetime | None = None) -> bool:
    """busy -> available after a call that never connected (no answer, busy, failed)."""
    return await _switch(
        session,
        agent_id,
        Agent.presence == Presence.BUSY,
        to=Presence.AVAILABLE,
        since=now or utcnow(),
    )


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
    return await _switch(
        session,
        agent_id,
        Agent.presence == Presence.BUSY,
        Agent.wrapup_until.is_not(None),
        to=Presence.AVAILABLE,
        since=now or utcnow(),
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


async def set_manual(
    session: AsyncSession, agent: Agent, presence: Presence, now: dt.datetime | None = None
) -> None:
    """An agent's own switch. Going available ends a wrap-up; the caller checks that
    the agent is not on a live transfer first."""
    if presence not in MANUAL_PRESENCES:
        raise ValueError(f"an agent cannot set presence {presence.value!r}")
    if agent.presence is presence and agent.wrapup_until is None:
        return
    agent.presence = presence
    agent.presence_since = now or utcnow()
    agent.wrapup_until = None
