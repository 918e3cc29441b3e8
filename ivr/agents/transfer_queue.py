"""The transfer flow's background work: wrap-ups, the queue, transfers left open.

A tick ends wrap-ups that ran out, hands queued callers to agents who became
free (redirecting the queued call to a Dial) and closes transfers whose call
ended unseen (abandoned: the caller hung up before anyone answered). Every
step is safe on several replicas at once: agents are claimed by conditional
updates and transfers are moved under their row lock. Apart from
:mod:`ivr.agents.transfers` because it runs on a timer, not on a request.
"""

from __future__ import annotations

import structlog

from ivr.agents import presence, texts
from ivr.agents.routing import QueuedTransfer, next_for_agent
from ivr.agents.transfer_core import Assignment, TransferCore, close_unanswered
from ivr.store.agents import get_agent
from ivr.store.inbound import caller_locale
from ivr.store.models import FINAL_ATTEMPT_STATUSES, utcnow
from ivr.store.queries import add_event
from ivr.store.transfers import lock_transfer, open_transfers_of_ended_calls, queued_transfers
from ivr.telephony.rest import CarrierError, CarrierUnknown
from ivr.vocab.transfers import OPEN_TRANSFER_STATUSES, TransferStatus

log = structlog.get_logger(__name__)


class TransferQueue(TransferCore):
    """Dispatching the queue and closing what the carrier never reported."""

    async def dispatch_queue(self) -> int:
        """Give queued callers to free agents (longest idle agent, oldest caller first)."""
        assignments: list[Assignment] = []
        async with self.sessions() as s, s.begin():
            rows = await queued_transfers(s)
            if not rows:
                return 0
            # A caller who has not said who they are speaks the language
            # they were greeted in, and has no previous agent.
            locales = {
                t.id: str(d.locale) if d is not None else await caller_locale(s, a)
                for t, a, d in rows
            }
            queue = [
                QueuedTransfer(
                    id=t.id,
                    locale=locales[t.id],
                    requested_at=t.requested_at,
                    last_agent_id=d.last_agent_id if d is not None else None,
                    reason=t.reason,
                    tried_agent_ids=tuple(t.tried_agent_ids or ()),
                )
                for t, _a, d in rows
            ]
            by_id = {t.id: a for t, a, _d in rows}
            agents = sorted(await presence.available_agents(s), key=lambda a: (a.idle_since, a.id))
            for snap in agents:
                pick = next_for_agent(snap, queue)
                if pick is None:
                    continue
                if not await presence.claim(s, snap.id):
                    continue
                transfer = await lock_transfer(s, pick.id)
                if transfer is None or transfer.status != "queued":
                    await presence.release(s, snap.id)
                    queue = [q for q in queue if q.id != pick.id]
                    continue
                transfer.status = TransferStatus.DIALING
                transfer.agent_id = snap.id
                transfer.tried_agent_ids = [*(transfer.tried_agent_ids or []), snap.id]
                attempt = by_id[pick.id]
                agent = await get_agent(s, snap.id)
                assert agent is not None
                assignments.append(
                    Assignment(pick.id, snap.id, agent.endpoint, attempt.call_sid, pick.locale)
                )
                await add_event(
                    s,
                    attempt.id,
                    "transfer_dequeued",
                    {"transfer_id": pick.id, "agent_id": snap.id},
                )
                queue = [q for q in queue if q.id != pick.id]
        for a in assignments:
            await self._publish(a.agent_id, "offer", a.transfer_id)
            if a.call_sid is None:
                await self._fail(a.transfer_id, TransferStatus.FAILED, "no call sid")
                continue
            try:
                await self._carrier().redirect(
                    a.call_sid, twiml=self.dial_twiml(a, texts.pick(texts.AGENT_FOUND, a.locale))
                )
            except CarrierUnknown as exc:
                log.warning("agents.dequeue_unknown", transfer_id=a.transfer_id, error=str(exc))
            except CarrierError as exc:
                # The queued call is gone (hung up while we looked): it was abandoned.
                await self._fail(a.transfer_id, TransferStatus.ABANDONED, str(exc))
        return len(assignments)

    async def reconcile(self) -> int:
        """Close transfers whose call ended without the callback that would have closed them."""
        now = utcnow()
        events: list[tuple[int | None, str, int]] = []
        async with self.sessions() as s, s.begin():
            ids = await open_transfers_of_ended_calls(
                s, OPEN_TRANSFER_STATUSES, FINAL_ATTEMPT_STATUSES
            )
            for transfer_id in ids:
                transfer = await lock_transfer(s, transfer_id)
                if transfer is None or transfer.status not in OPEN_TRANSFER_STATUSES:
                    continue
                if transfer.status == "connected":
                    await self._complete(s, transfer, now)
                    events.append((transfer.agent_id, "ended", transfer_id))
                    continue
                if transfer.status == "dialing" and transfer.agent_id is not None:
                    await presence.release(s, transfer.agent_id, now)
                    events.append((transfer.agent_id, "missed", transfer_id))
                close_unanswered(transfer, TransferStatus.ABANDONED, now)
                await add_event(
                    s, transfer.attempt_id, "transfer_abandoned", {"transfer_id": transfer_id}
                )
        for agent_id, kind, transfer_id in events:
            await self._publish(agent_id, kind, transfer_id)
        return len(ids)

    async def tick(self) -> None:
        """One round of background work; every step is safe on several replicas at once."""
        async with self.sessions() as s, s.begin():
            freed = await presence.finish_wrapups(s)
        for agent_id in freed:
            await self._publish(agent_id, "presence", None)
        await self.reconcile()
        await self.dispatch_queue()
