"""Agent presence: what routing sees of an agent, and the switches an agent makes.

The presence moves a call makes (claim, release, wrap-up) are conditional
updates in :mod:`ivr.store.agents`, re-exported here so the transfer flow
speaks of presence in one place; this module adds what is not a statement:
the snapshot routing ranks, and the rules of a manual switch.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from ivr.agents.routing import AgentSnapshot
from ivr.store import agents as agent_store
from ivr.store.agents import claim, end_wrapup, finish_wrapups, release, start_wrapup
from ivr.store.models import Agent, Presence, utcnow

__all__ = [
    "MANUAL_PRESENCES",
    "available_agents",
    "claim",
    "end_wrapup",
    "finish_wrapups",
    "release",
    "set_manual",
    "snapshot",
    "start_wrapup",
]

MANUAL_PRESENCES = frozenset({Presence.AVAILABLE, Presence.AWAY, Presence.OFFLINE})
"""What an agent may switch to; ``busy`` is set by calls and wrap-up only."""


def snapshot(agent: Agent) -> AgentSnapshot:
    return AgentSnapshot(
        id=agent.id,
        presence=agent.presence.value,
        idle_since=agent.presence_since,
        languages=tuple(agent.languages or ()),
        skills=tuple(agent.skills or ()),
    )


async def available_agents(session: AsyncSession) -> list[AgentSnapshot]:
    return [snapshot(a) for a in await agent_store.available_agents(session)]


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
