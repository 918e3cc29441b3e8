"""Which agent takes a transfer: pure functions over snapshots, no I/O.

The policy, in order:

1. the debtor's previous agent (``Debtor.last_agent_id``) when that person is
   available: the debtor does not have to start over with a stranger;
2. otherwise the available agent who speaks the debtor's language and has
   been idle the longest (fairness: work goes to whoever waited most), agents
   with the skill the reason calls for (a dispute, a negotiation) first;
3. never an agent already tried for this transfer (they did not answer).

The result is an ordered list of candidates: the caller claims them one by
one (a claim can lose a race with another replica) and takes the first it
wins. An empty list means nobody is free: the caller waits in the queue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

REASONS: frozenset[str] = frozenset(
    {"asked_for_agent", "not_understood", "cannot_pay", "dispute", "negotiation"}
)
"""Why the machine hands over; ``negotiation`` is the dialog's "dates keep failing" case."""

REASON_SKILLS: dict[str, str] = {
    "dispute": "disputes",
    "cannot_pay": "negotiation",
    "negotiation": "negotiation",
}
"""The skill that makes an agent the better fit for a reason (a preference, not a filter)."""


@dataclass(frozen=True)
class AgentSnapshot:
    """What routing needs to know about one agent at one instant."""

    id: int
    presence: str
    idle_since: dt.datetime
    languages: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueuedTransfer:
    """A caller waiting for a person: oldest first wins."""

    id: int
    locale: str
    requested_at: dt.datetime
    last_agent_id: int | None = None
    reason: str = "asked_for_agent"
    tried_agent_ids: tuple[int, ...] = ()


def speaks(languages: Iterable[str], locale: str) -> bool:
    """``pt-BR`` is spoken by an agent listing ``pt-BR`` or just ``pt`` (case-insensitive)."""
    want = locale.replace("_", "-").lower()
    base = want.split("-")[0]
    for lang in languages:
        have = lang.replace("_", "-").lower()
        if have in (want, base):
            return True
    return False


def candidates(
    agents: Iterable[AgentSnapshot],
    *,
    locale: str,
    last_agent_id: int | None = None,
    exclude: Collection[int] = (),
    reason: str = "asked_for_agent",
) -> list[int]:
    """Agent ids to try, best first (see the module docstring for the policy)."""
    free = [a for a in agents if a.presence == "available" and a.id not in exclude]
    ordered: list[int] = []
    sticky = next((a for a in free if a.id == last_agent_id), None)
    if sticky is not None:
        ordered.append(sticky.id)
    skill = REASON_SKILLS.get(reason)

    def rank(a: AgentSnapshot) -> tuple[int, dt.datetime, int]:
        has_skill = skill is not None and skill in a.skills
        return (0 if has_skill else 1, a.idle_since, a.id)

    rest = sorted(
        (a for a in free if a.id != last_agent_id and speaks(a.languages, locale)), key=rank
    )
    ordered.extend(a.id for a in rest)
    return ordered


def next_for_agent(agent: AgentSnapshot, queue: Sequence[QueuedTransfer]) -> QueuedTransfer | None:
    """The queued caller a newly free agent should take: the longest waiting one they can
    serve (same language, not already tried by them); a caller whose previous agent
    this is goes first, so sticky routing holds for callers in the queue too."""
    if agent.presence != "available":
        return None
    fits = [
        q
        for q in queue
        if agent.id not in q.tried_agent_ids
        and (q.last_agent_id == agent.id or speaks(agent.languages, q.locale))
    ]
    if not fits:
        return None
    return min(fits, key=lambda q: (q.last_agent_id != agent.id, q.requested_at, q.id))
