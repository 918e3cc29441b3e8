"""Routing policy: sticky agent, longest idle, language, skills, exclusions, nobody free."""

from __future__ import annotations

import datetime as dt

from ivr.agents.routing import (
    AgentSnapshot,
    QueuedTransfer,
    candidates,
    next_for_agent,
    speaks,
)

T0 = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def agent(
    id: int,
    presence: str = "available",
    idle_min: int = 0,
    languages: tuple[str, ...] = ("pt-BR",),
    skills: tuple[str, ...] = (),
) -> AgentSnapshot:
    """An agent idle since ``idle_min`` minutes before T0 (bigger: idle longer)."""
    return AgentSnapshot(id, presence, T0 - dt.timedelta(minutes=idle_min), languages, skills)


def test_previous_agent_first_when_available() -> None:
    agents = [agent(1, idle_min=50), agent(2, idle_min=5)]
    assert candidates(agents, locale="pt-BR", last_agent_id=2) == [2, 1]


def test_previous_agent_skipped_when_not_available() -> None:
    agents = [agent(1, idle_min=10), agent(2, presence="busy", idle_min=90)]
    assert candidates(agents, locale="pt-BR", last_agent_id=2) == [1]


def test_longest_idle_first() -> None:
    agents = [agent(1, idle_min=3), agent(2, idle_min=30), agent(3, idle_min=10)]
    assert candidates(agents, locale="pt-BR") == [2, 3, 1]


def test_language_must_match() -> None:
    agents = [
        agent(1, idle_min=60, languages=("en-US",)),
        agent(2, idle_min=1, languages=("pt-BR", "en-US")),
        agent(3, idle_min=30, languages=("pt",)),
    ]
    assert candidates(agents, locale="pt-BR") == [3, 2]
    assert candidates(agents, locale="en-US") == [1, 2]


def test_exclusions_hold_even_for_the_previous_agent() -> None:
    agents = [agent(1, idle_min=60), agent(2, idle_min=30), agent(3, idle_min=10)]
    assert candidates(agents, locale="pt-BR", last_agent_id=1, exclude={1, 2}) == [3]


def test_nobody_free() -> None:
    agents = [agent(1, presence="busy"), agent(2, presence="away"), agent(3, presence="offline")]
    assert candidates(agents, locale="pt-BR") == []
    assert candidates([], locale="pt-BR") == []
    only_english = [agent(4, languages=("en-US",))]
    assert candidates(only_english, locale="pt-BR") == []


def test_skill_for_the_reason_goes_first_then_idle_time() -> None:
    agents = [
        agent(1, idle_min=60),
        agent(2, idle_min=5, skills=("disputes",)),
        agent(3, idle_min=20, skills=("disputes",)),
    ]
    assert candidates(agents, locale="pt-BR", reason="dispute") == [3, 2, 1]
    assert candidates(agents, locale="pt-BR", reason="asked_for_agent") == [1, 3, 2]


def test_speaks_is_case_and_separator_insensitive() -> None:
    assert speaks(["PT_br"], "pt-BR")
    assert speaks(["en"], "en-US")
    assert not speaks(["es-ES"], "pt-BR")
    assert not speaks([], "pt-BR")


def queued(id: int, minutes_ago: int, **kw: object) -> QueuedTransfer:
    return QueuedTransfer(
        id=id,
        locale=str(kw.get("locale", "pt-BR")),
        requested_at=T0 - dt.timedelta(minutes=minutes_ago),
        last_agent_id=kw.get("last_agent_id"),  # type: ignore[arg-type]
        tried_agent_ids=tuple(kw.get("tried", ())),  # type: ignore[arg-type]
    )


def test_free_agent_takes_the_oldest_caller_they_can_serve() -> None:
    queue = [
        queued(10, 2),
        queued(11, 9, locale="en-US"),
        queued(12, 5),
        queued(13, 7, tried=(1,)),
    ]
    assert next_for_agent(agent(1), queue) == queue[2]
    assert next_for_agent(agent(2, languages=("en-US",)), queue) == queue[1]


def test_free_agent_takes_their_previous_debtor_first() -> None:
    queue = [queued(10, 9), queued(11, 1, last_agent_id=1)]
    picked = next_for_agent(agent(1), queue)
    assert picked is not None and picked.id == 11


def test_busy_agent_takes_nobody() -> None:
    assert next_for_agent(agent(1, presence="busy"), [queued(10, 1)]) is None
    assert next_for_agent(agent(1), []) is None
