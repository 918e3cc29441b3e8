"""What every step of the transfer flow shares: state, TwiML builders, agent claims.

:class:`TransferCore` holds the service's settings, sessions, carrier and
event hub, builds the TwiML that dials an agent or queues the caller, claims
the best free agent and closes a transfer that could not go on. The steps
themselves build on it: the request (:mod:`ivr.agents.transfers`), the
carrier callbacks (:mod:`ivr.agents.transfer_callbacks`) and the background
work (:mod:`ivr.agents.transfer_queue`); they are apart so that each reads on
its own, not because they could run without each other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr import metrics
from ivr.agents import presence
from ivr.agents.hub import AgentEvent, AgentHub
from ivr.agents.routing import candidates
from ivr.config import Settings
from ivr.store.agents import get_agent
from ivr.store.models import Agent, Transfer, utcnow
from ivr.store.queries import add_event
from ivr.store.transfers import lock_transfer
from ivr.telephony import twiml
from ivr.telephony.rest import TwilioCalls
from ivr.vocab.transfers import BEFORE_ANSWER, TransferStatus


@dataclass(frozen=True)
class Assignment:
    """A transfer handed to an agent, to be announced and dialed after commit."""

    transfer_id: int
    agent_id: int
    endpoint: str
    call_sid: str | None
    locale: str


def wait_s(transfer: Transfer, now: dt.datetime) -> float:
    """The caller's wait for an agent (set once per transfer: answered or given up)."""
    wait = round((now - transfer.requested_at).total_seconds(), 3)
    metrics.QUEUE_WAIT.observe(max(0.0, wait))
    return wait


def close_unanswered(transfer: Transfer, status: TransferStatus, now: dt.datetime) -> None:
    """End a transfer no agent answered: the whole wait until now was queue wait."""
    transfer.status = status
    transfer.ended_at = now
    transfer.queue_wait_s = wait_s(transfer, now)


class TransferCore:
    """The state and the helpers of :class:`~ivr.agents.transfers.TransferService`."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        carrier: Callable[[], TwilioCalls],
        hub: AgentHub,
    ) -> None:
        assert settings.public_url, "transfers need IVR_PUBLIC_URL for carrier callbacks"
        self.settings = settings
        self.sessions = sessions
        self._carrier = carrier
        self.hub = hub
        self.public = settings.public_url.rstrip("/")

    def url(self, path: str, transfer_id: int, agent_id: int | None = None) -> str:
        """A carrier callback's URL; a Dial's carry the agent it rings, so that a
        result about an earlier agent's Dial (late, or sent again) is known as such."""
        url = f"{self.public}/agents/{path}?transfer={transfer_id}"
        return url if agent_id is None else f"{url}&agent={agent_id}"

    def dial_twiml(self, a: Assignment, say_first: str | None) -> str:
        return twiml.dial(
            a.endpoint,
            action=self.url("dial-status", a.transfer_id, a.agent_id),
            whisper_url=self.url("whisper", a.transfer_id, a.agent_id),
            locale=a.locale,
            say_first=say_first,
        )

    def enqueue_twiml(self, transfer_id: int, locale: str, say_first: str | None) -> str:
        return twiml.enqueue(
            wait_url=self.url("queue-wait", transfer_id),
            action=self.url("queue-result", transfer_id),
            locale=locale,
            say_first=say_first,
        )

    async def _claim_best(
        self,
        s: AsyncSession,
        *,
        locale: str,
        last_agent_id: int | None,
        exclude: Sequence[int],
        reason: str,
    ) -> Agent | None:
        snaps = await presence.available_agents(s)
        for agent_id in candidates(
            snaps, locale=locale, last_agent_id=last_agent_id, exclude=exclude, reason=reason
        ):
            if await presence.claim(s, agent_id):
                agent = await get_agent(s, agent_id, fresh=True)
                if agent is not None:
                    return agent
        return None

    async def _complete(self, s: AsyncSession, transfer: Transfer, now: dt.datetime) -> None:
        """End a talk that took place: the agent goes into wrap-up."""
        transfer.status = TransferStatus.COMPLETED
        transfer.ended_at = now
        if transfer.agent_id is not None:
            await presence.start_wrapup(
                s, transfer.agent_id, self.settings.agent_wrapup_seconds, now
            )

    async def _publish(self, agent_id: int | None, kind: str, transfer_id: int | None) -> None:
        """Tell the agent's screen; a change with no agent still redraws the wallboard."""
        if agent_id is not None:
            await self.hub.publish(AgentEvent(agent_id, kind, transfer_id))
        else:
            self.hub.changed()

    async def _fail(self, transfer_id: int, status: TransferStatus, why: str) -> None:
        """The call could not be redirected or is gone: free the agent, close the transfer."""
        now = utcnow()
        async with self.sessions() as s, s.begin():
            transfer = await lock_transfer(s, transfer_id)
            if transfer is None or transfer.status not in BEFORE_ANSWER:
                return
            agent_id = transfer.agent_id if transfer.status == "dialing" else None
            close_unanswered(transfer, status, now)
            if agent_id is not None:
                await presence.release(s, agent_id, now)
            await add_event(
                s,
                transfer.attempt_id,
                f"transfer_{status}",
                {"transfer_id": transfer_id, "why": why},
            )
        await self._publish(agent_id, "missed", transfer_id)
