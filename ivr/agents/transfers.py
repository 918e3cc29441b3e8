"""The transfer flow: from "the debtor wants a person" to a person on the line.

:class:`TransferService` is the call session's ``TransferPort``. A request
records a :class:`~ivr.store.models.Transfer`, claims an agent (or finds
nobody free), pops the context on the agent's screen and redirects the live
call over REST to TwiML that says a short hold line and then ``<Dial>``s the
agent (who hears a one-sentence whisper first) or ``<Enqueue>``s the caller.
Carrier callbacks move the transfer on: whisper (the agent answered), dial
status (no answer: next agent or the queue; completed: wrap-up), queue wait
(hold text, then a callback offer), queue result. A background tick ends
wrap-ups, hands queued callers to agents who became free (redirecting the
queued call to a Dial) and closes transfers whose call ended unseen
(abandoned: the caller hung up before anyone answered).

Every state change is a conditional update on the transfer row, so replicas
and out-of-order callbacks cannot move a transfer twice.

Statuses: requested -> dialing -> connected -> completed, with queued
(waiting in the queue), abandoned, callback (left the queue for a callback)
and failed (the call could not be redirected).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr import metrics
from ivr.agents import presence, texts, twiml
from ivr.agents.callbacks import callback_due
from ivr.agents.hub import AgentEvent, AgentHub
from ivr.agents.routing import QueuedTransfer, candidates, next_for_agent
from ivr.calls.context import debtor_zone
from ivr.config import Settings
from ivr.store.models import (
    FINAL_ATTEMPT_STATUSES,
    Agent,
    CallAttempt,
    Callback,
    CallEvent,
    Debt,
    Debtor,
    Transfer,
    utcnow,
)
from ivr.store.queries import add_event
from ivr.telephony.rest import CarrierError, CarrierUnknown, TwilioCalls
from ivr.vocab.transfers import (
    BEFORE_ANSWER,
    OPEN_TRANSFER_STATUSES,
    TransferOutcome,
    TransferStatus,
)

log = structlog.get_logger(__name__)

NOT_ANSWERED = frozenset({"busy", "no-answer", "failed", "canceled"})
QUEUE_PAUSE_MAX_S = 10


@dataclass(frozen=True)
class Assignment:
    """A transfer handed to an agent, to be announced and dialed after commit."""

    transfer_id: int
    agent_id: int
    endpoint: str
    call_sid: str | None
    locale: str


def _wait_s(transfer: Transfer, now: dt.datetime) -> float:
    """The caller's wait for an agent (set once per transfer: answered or given up)."""
    wait = round((now - transfer.requested_at).total_seconds(), 3)
    metrics.QUEUE_WAIT.observe(max(0.0, wait))
    return wait


def _close_unanswered(transfer: Transfer, status: TransferStatus, now: dt.datetime) -> None:
    """End a transfer no agent answered: the whole wait until now was queue wait."""
    transfer.status = status
    transfer.ended_at = now
    transfer.queue_wait_s = _wait_s(transfer, now)


class TransferService:
    """The ``TransferPort`` and the handlers behind the ``/agents/*`` carrier callbacks."""

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

    # ------------------------------------------------------------ helpers

    def url(self, path: str, transfer_id: int) -> str:
        return f"{self.public}/agents/{path}?transfer={transfer_id}"

    def dial_twiml(self, a: Assignment, say_first: str | None) -> str:
        return twiml.dial(
            a.endpoint,
            action=self.url("dial-status", a.transfer_id),
            whisper_url=self.url("whisper", a.transfer_id),
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
                agent = await s.get(Agent, agent_id)
                if agent is not None:
                    await s.refresh(agent)
                    return agent
        return None

    async def _locked(self, s: AsyncSession, transfer_id: int) -> Transfer | None:
        return await s.get(Transfer, transfer_id, with_for_update=True, populate_existing=True)

    async def _context(self, s: AsyncSession, transfer: Transfer) -> tuple[CallAttempt, Debtor]:
        attempt = await s.get(CallAttempt, transfer.attempt_id)
        assert attempt is not None
        debtor = await s.get(Debtor, attempt.debtor_id)
        assert debtor is not None
        return attempt, debtor

    async def _complete(self, s: AsyncSession, transfer: Transfer, now: dt.datetime) -> None:
        """End a talk that took place: the agent goes into wrap-up."""
        transfer.status = TransferStatus.COMPLETED
        transfer.ended_at = now
        if transfer.agent_id is not None:
            await presence.start_wrapup(
                s, transfer.agent_id, self.settings.agent_wrapup_seconds, now
            )

    async def _publish(self, agent_id: int | None, kind: str, transfer_id: int | None) -> None:
        if agent_id is not None:
            await self.hub.publish(AgentEvent(agent_id, kind, transfer_id))

    # ------------------------------------------------------------ TransferPort

    async def request(self, *, attempt_id: int, call_sid: str, reason: str, locale: str) -> bool:
        """Record the transfer, pick an agent or the queue, redirect the call."""
        async with self.sessions() as s, s.begin():
            attempt = await s.get(CallAttempt, attempt_id)
            if attempt is None:
                return False
            debtor = await s.get(Debtor, attempt.debtor_id)
            assert debtor is not None
            transfer = Transfer(attempt_id=attempt_id, reason=reason, tried_agent_ids=[])
            s.add(transfer)
            await s.flush()
            agent = await self._claim_best(
                s, locale=locale, last_agent_id=debtor.last_agent_id, exclude=(), reason=reason
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

    async def _fail(self, transfer_id: int, status: TransferStatus, why: str) -> None:
        """The call could not be redirected or is gone: free the agent, close the transfer."""
        now = utcnow()
        async with self.sessions() as s, s.begin():
            transfer = await self._locked(s, transfer_id)
            if transfer is None or transfer.status not in BEFORE_ANSWER:
                return
            agent_id = transfer.agent_id if transfer.status == "dialing" else None
            _close_unanswered(transfer, status, now)
            if agent_id is not None:
                await presence.release(s, agent_id, now)
            await add_event(
                s,
                transfer.attempt_id,
                f"transfer_{status}",
                {"transfer_id": transfer_id, "why": why},
            )
        await self._publish(agent_id, "missed", transfer_id)

    # ------------------------------------------------------------ carrier callbacks

    async def on_whisper(self, transfer_id: int) -> str:
        """The agent picked up: mark the transfer answered and tell them who it is."""
        now = utcnow()
        async with self.sessions() as s, s.begin():
            transfer = await self._locked(s, transfer_id)
            if transfer is None or transfer.status not in ("dialing", "connected"):
                return twiml.hangup()
            attempt, debtor = await self._context(s, transfer)
            if transfer.status == "dialing":
                transfer.status = TransferStatus.CONNECTED
                transfer.answered_at = now
                transfer.queue_wait_s = _wait_s(transfer, now)
                await add_event(
                    s,
                    attempt.id,
                    "transfer_answered",
                    {"transfer_id": transfer_id, "agent_id": transfer.agent_id},
                )
            debt = await s.get(Debt, attempt.debt_id) if attempt.debt_id else None
            sentence = texts.whisper(
                debtor.locale,
                name=debtor.name,
                reason=transfer.reason,
                amount_cents=debt.amount_cents if debt else None,
                currency=debt.currency if debt else "BRL",
                creditor=debt.creditor if debt else None,
            )
            agent_id, locale = transfer.agent_id, debtor.locale
        await self._publish(agent_id, "connected", transfer_id)
        return twiml.say(sentence, locale)

    async def on_dial_status(self, transfer_id: int, status: str) -> str:
        """The Dial ended: after a talk, wrap-up; unanswered, the next agent or the queue."""
        now = utcnow()
        events: list[tuple[int | None, str]] = []
        async with self.sessions() as s, s.begin():
            transfer = await self._locked(s, transfer_id)
            if transfer is None:
                return twiml.empty()
            attempt, debtor = await self._context(s, transfer)
            locale = debtor.locale
            if status in ("completed", "answered") and transfer.status in ("dialing", "connected"):
                if transfer.answered_at is None:
                    transfer.answered_at = now
                    transfer.queue_wait_s = _wait_s(transfer, now)
                if transfer.agent_id is not None:
                    debtor.last_agent_id = transfer.agent_id  # sticky routing next time
                await self._complete(s, transfer, now)
                await add_event(s, attempt.id, "transfer_ended", {"transfer_id": transfer_id})
                events.append((transfer.agent_id, "ended"))
                body = twiml.say_and_hangup(texts.pick(texts.AFTER_AGENT, locale), locale)
            elif status in NOT_ANSWERED and transfer.status in ("dialing", "connected"):
                # "connected" here: the agent picked up but hung up during the whisper.
                transfer.status = TransferStatus.DIALING
                transfer.answered_at = None
                transfer.queue_wait_s = None
                missed = transfer.agent_id
                if missed is not None:
                    await presence.release(s, missed, now)
                    events.append((missed, "missed"))
                tried = list(transfer.tried_agent_ids or [])
                agent = await self._claim_best(
                    s,
                    locale=locale,
                    last_agent_id=debtor.last_agent_id,
                    exclude=tried,
                    reason=transfer.reason,
                )
                await add_event(
                    s,
                    attempt.id,
                    "transfer_not_answered",
                    {"transfer_id": transfer_id, "agent_id": missed, "status": status},
                )
                if agent is not None:
                    transfer.agent_id = agent.id
                    transfer.tried_agent_ids = [*tried, agent.id]
                    events.append((agent.id, "offer"))
                    body = self.dial_twiml(
                        Assignment(transfer_id, agent.id, agent.endpoint, attempt.call_sid, locale),
                        texts.pick(texts.NEXT_AGENT, locale),
                    )
                else:
                    transfer.status = TransferStatus.QUEUED
                    transfer.agent_id = None
                    body = self.enqueue_twiml(
                        transfer_id, locale, texts.pick(texts.NEXT_AGENT, locale)
                    )
            else:
                body = twiml.say_and_hangup(texts.pick(texts.AFTER_AGENT, locale), locale)
        for agent_id, kind in events:
            await self._publish(agent_id, kind, transfer_id)
        return body

    async def on_queue_wait(self, transfer_id: int, position: int, queue_time_s: int) -> str:
        """One turn of the hold loop: the position, or (after a while) a callback offer."""
        offer_after = self.settings.queue_callback_offer_seconds
        async with self.sessions() as s, s.begin():
            transfer = await s.get(Transfer, transfer_id)
            if transfer is None:
                return twiml.leave()
            attempt, debtor = await self._context(s, transfer)
            locale = debtor.locale
            if transfer.status == "callback":
                return twiml.leave()
            pause = max(1, min(QUEUE_PAUSE_MAX_S, offer_after // 2))
            if transfer.status != "queued":
                return twiml.pause(pause)
            offers = (
                await s.scalars(
                    select(CallEvent).where(
                        CallEvent.attempt_id == attempt.id, CallEvent.kind == "queue_offer"
                    )
                )
            ).all()
            last = max(
                (
                    int(e.data.get("queue_time", 0))
                    for e in offers
                    if e.data.get("transfer_id") == transfer_id
                ),
                default=None,
            )
            due = queue_time_s >= offer_after and (
                last is None or queue_time_s - last >= offer_after
            )
            if due:
                await add_event(
                    s,
                    attempt.id,
                    "queue_offer",
                    {"transfer_id": transfer_id, "queue_time": queue_time_s},
                )
                return twiml.offer_callback(
                    texts.offer_callback(locale),
                    action=self.url("queue-offer", transfer_id),
                    locale=locale,
                )
        return twiml.hold(texts.queue_hold(locale, position), locale, pause)

    async def on_queue_offer(self, transfer_id: int, digits: str | None, speech: str | None) -> str:
        """The answer to the callback offer: yes records a Callback and leaves the queue."""
        now = utcnow()
        async with self.sessions() as s, s.begin():
            transfer = await self._locked(s, transfer_id)
            if transfer is None:
                return twiml.leave()
            attempt, debtor = await self._context(s, transfer)
            locale = debtor.locale
            answer = texts.is_yes(locale, digits, speech)
            if answer is None or transfer.status != "queued":
                return twiml.empty()
            if not answer:
                return twiml.say(texts.keep_waiting(locale), locale)
            due, _zone = await callback_due(s, attempt, now)
            s.add(
                Callback(
                    debtor_id=attempt.debtor_id,
                    debt_id=attempt.debt_id,
                    due_at=due,
                    reason="agent_queue",
                )
            )
            _close_unanswered(transfer, TransferStatus.CALLBACK, now)
            transfer.outcome = TransferOutcome.CALLBACK
            await add_event(
                s,
                attempt.id,
                "callback",
                {"due_at": due.isoformat(), "transfer_id": transfer_id, "source": "agent_queue"},
            )
        return twiml.leave()

    async def on_queue_result(self, transfer_id: int, result: str) -> str:
        """The caller left the queue: say goodbye after a callback, record a hang-up."""
        now = utcnow()
        async with self.sessions() as s, s.begin():
            transfer = await self._locked(s, transfer_id)
            if transfer is None:
                return twiml.empty()
            attempt, debtor = await self._context(s, transfer)
            locale = debtor.locale
            if transfer.status == "callback":
                cb = await s.scalar(
                    select(Callback)
                    .where(Callback.debtor_id == debtor.id, Callback.reason == "agent_queue")
                    .order_by(Callback.id.desc())
                )
                local = due_soon = None
                if cb is not None:
                    local = cb.due_at.astimezone(debtor_zone(debtor))
                    due_soon = cb.due_at - now <= dt.timedelta(hours=2)
                text = texts.callback_confirmed(locale, local, bool(due_soon))
                return twiml.say_and_hangup(text, locale)
            if result == "hangup" and transfer.status == "queued":
                _close_unanswered(transfer, TransferStatus.ABANDONED, now)
                await add_event(s, attempt.id, "transfer_abandoned", {"transfer_id": transfer_id})
                return twiml.empty()
            if transfer.status == "queued":
                # Left the queue some other way (full, error): never leave them in silence.
                _close_unanswered(transfer, TransferStatus.FAILED, now)
                return twiml.say_and_hangup(texts.pick(texts.NOBODY, locale), locale)
        return twiml.empty()

    # ------------------------------------------------------------ background work

    async def dispatch_queue(self) -> int:
        """Give queued callers to free agents (longest idle agent, oldest caller first)."""
        assignments: list[Assignment] = []
        async with self.sessions() as s, s.begin():
            rows = (
                await s.execute(
                    select(Transfer, CallAttempt, Debtor)
                    .join(CallAttempt, CallAttempt.id == Transfer.attempt_id)
                    .join(Debtor, Debtor.id == CallAttempt.debtor_id)
                    .where(Transfer.status == "queued")
                    .order_by(Transfer.requested_at, Transfer.id)
                    .limit(100)
                )
            ).all()
            if not rows:
                return 0
            queue = [
                QueuedTransfer(
                    id=t.id,
                    locale=d.locale,
                    requested_at=t.requested_at,
                    last_agent_id=d.last_agent_id,
                    reason=t.reason,
                    tried_agent_ids=tuple(t.tried_agent_ids or ()),
                )
                for t, _a, d in rows
            ]
            by_id = {t.id: (t, a, d) for t, a, d in rows}
            agents = sorted(await presence.available_agents(s), key=lambda a: (a.idle_since, a.id))
            for snap in agents:
                pick = next_for_agent(snap, queue)
                if pick is None:
                    continue
                if not await presence.claim(s, snap.id):
                    continue
                transfer = await self._locked(s, pick.id)
                if transfer is None or transfer.status != "queued":
                    await presence.release(s, snap.id)
                    queue = [q for q in queue if q.id != pick.id]
                    continue
                transfer.status = TransferStatus.DIALING
                transfer.agent_id = snap.id
                transfer.tried_agent_ids = [*(transfer.tried_agent_ids or []), snap.id]
                _t, attempt, debtor = by_id[pick.id]
                agent = await s.get(Agent, snap.id)
                assert agent is not None
                assignments.append(
                    Assignment(pick.id, snap.id, agent.endpoint, attempt.call_sid, debtor.locale)
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
            rows = (
                await s.execute(
                    select(Transfer.id)
                    .join(CallAttempt, CallAttempt.id == Transfer.attempt_id)
                    .where(
                        Transfer.status.in_(OPEN_TRANSFER_STATUSES),
                        CallAttempt.status.in_(FINAL_ATTEMPT_STATUSES),
                    )
                )
            ).all()
            for (transfer_id,) in rows:
                transfer = await self._locked(s, transfer_id)
                if transfer is None or transfer.status not in OPEN_TRANSFER_STATUSES:
                    continue
                if transfer.status == "connected":
                    await self._complete(s, transfer, now)
                    events.append((transfer.agent_id, "ended", transfer_id))
                    continue
                if transfer.status == "dialing" and transfer.agent_id is not None:
                    await presence.release(s, transfer.agent_id, now)
                    events.append((transfer.agent_id, "missed", transfer_id))
                _close_unanswered(transfer, TransferStatus.ABANDONED, now)
                await add_event(
                    s, transfer.attempt_id, "transfer_abandoned", {"transfer_id": transfer_id}
                )
        for agent_id, kind, transfer_id in events:
            await self._publish(agent_id, kind, transfer_id)
        return len(rows)

    async def tick(self) -> None:
        """One round of background work; every step is safe on several replicas at once."""
        async with self.sessions() as s, s.begin():
            freed = await presence.finish_wrapups(s)
        for agent_id in freed:
            await self._publish(agent_id, "presence", None)
        await self.reconcile()
        await self.dispatch_queue()

    # ------------------------------------------------------------ the agent's side

    async def active_transfer_for(self, s: AsyncSession, agent_id: int) -> Transfer | None:
        """The transfer the agent is on (or just finished and has not wrapped up)."""
        return await s.scalar(
            select(Transfer)
            .where(Transfer.agent_id == agent_id, Transfer.status.in_(("dialing", "connected")))
            .order_by(Transfer.id.desc())
        )

    async def pending_wrapup_for(self, s: AsyncSession, agent_id: int) -> Transfer | None:
        return await s.scalar(
            select(Transfer)
            .where(
                Transfer.agent_id == agent_id,
                Transfer.status == "completed",
                Transfer.outcome.is_(None),
            )
            .order_by(Transfer.id.desc())
        )


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
