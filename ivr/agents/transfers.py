"""The transfer flow: from "the debtor wants a person" to a person on the line.

:class:`TransferService` is the call session's ``TransferPort``. A request
records a :class:`~ivr.store.models.Transfer`, claims an agent (or finds
nobody free), pops the context on the agent's screen and redirects the live
call over REST to TwiML that says a short hold line and then ``<Dial>``s the
agent (who hears a one-sentence whisper first) or ``<Enqueue>``s the caller.
Carrier callbacks move the transfer on (:mod:`ivr.agents.transfer_callbacks`):
whisper (the agent answered), dial status (no answer: next agent or the
queue; completed: wrap-up), queue wait (hold text, then a callback offer),
queue result. A background tick (:mod:`ivr.agents.transfer_queue`) ends
wrap-ups, hands queued callers to agents who became free (redirecting the
queued call to a Dial) and closes transfers whose call ended unseen
(abandoned: the caller hung up before anyone answered). What all of these
share is :mod:`ivr.agents.transfer_core`.

Every state change is a conditional update on the transfer row, so replicas
and out-of-order callbacks cannot move a transfer twice.

Statuses: requested -> dialing -> connected -> completed, with queued
(waiting in the queue), abandoned, callback (left the queue for a callback)
and failed (the call could not be redirected).
"""

from __future__ import annotations

from typing import Any

import structlog

from ivr.agents import texts
from ivr.agents.transfer_callbacks import TransferCallbacks
from ivr.agents.transfer_core import Assignment
from ivr.agents.transfer_queue import TransferQueue
from ivr.store.models import Transfer
from ivr.store.queries import add_event
from ivr.store.transfers import add_transfer, call_to_transfer
from ivr.telephony.rest import CarrierError, CarrierUnknown
from ivr.vocab.transfers import TransferStatus

log = structlog.get_logger(__name__)


class TransferService(TransferCallbacks, TransferQueue):
    """The ``TransferPort``, the carrier callbacks' handlers and the background work."""

    async def request(self, *, attempt_id: int, call_sid: str, reason: str, locale: str) -> bool:
        """Record the transfer, pick an agent or the queue, redirect the call."""
        async with self.sessions() as s, s.begin():
            found = await call_to_transfer(s, attempt_id)
            if found is None:
                return False
            # No context: an inbound caller who has not said who they are; an
            # agent still takes them (the screen says identity is not verified).
            call = found[1]
            last_agent_id = call.debtor.last_agent_id if call is not None else None
            transfer = await add_transfer(s, attempt_id, reason)
            agent = await self._claim_best(
                s, locale=locale, last_agent_id=last_agent_id, exclude=(), reason=reason
            )
            if agent is not None:
                transfer.status = TransferStatus.DIALING
                transfer.agent_id = agent.id
                transfer.tried_agent_ids = [agent.id]
            else:
                transfer.status = TransferStatus.QUEUED
            await add_event(
                s,
                attempt_id,
                "transfer_requested",
                {"transfer_id": transfer.id, "reason": reason, "agent_id": transfer.agent_id},
            )
            transfer_id = transfer.id
        hold = texts.pick(texts.HOLD, locale)
        assignment: Assignment | None = None
        if agent is not None:
            assignment = Assignment(transfer_id, agent.id, agent.endpoint, call_sid, locale)
            await self._publish(agent.id, "offer", transfer_id)
            body = self.dial_twiml(assignment, hold)
        else:
            body = self.enqueue_twiml(transfer_id, locale, hold)
            self.hub.changed()  # a caller waits in the queue
        try:
            await self._carrier().redirect(call_sid, twiml=body)
        except CarrierUnknown as exc:
            # It may have worked; if the call ends unseen the tick closes the transfer.
            log.warning("agents.redirect_unknown", transfer_id=transfer_id, error=str(exc))
            return True
        except CarrierError as exc:
            log.warning("agents.redirect_failed", transfer_id=transfer_id, error=str(exc))
            await self._fail(transfer_id, TransferStatus.FAILED, str(exc))
            return False
        log.info("agents.transfer", transfer_id=transfer_id, agent_id=transfer.agent_id)
        return True


def describe(transfer: Transfer) -> dict[str, Any]:
    return {
        "id": transfer.id,
        "attempt_id": transfer.attempt_id,
        "agent_id": transfer.agent_id,
        "reason": transfer.reason,
        "status": transfer.status,
        "requested_at": transfer.requested_at.isoformat(),
        "answered_at": transfer.answered_at.isoformat() if transfer.answered_at else None,
        "ended_at": transfer.ended_at.isoformat() if transfer.ended_at else None,
        "queue_wait_s": transfer.queue_wait_s,
        "outcome": transfer.outcome,
        "notes": transfer.notes,
        "tried_agent_ids": list(transfer.tried_agent_ids or []),
    }
