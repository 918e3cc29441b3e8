"""The carrier's callbacks during a transfer, each answered with TwiML.

Whisper (the agent answered), dial status (no answer: next agent or the
queue; completed: wrap-up), queue wait (hold text, then a callback offer),
the answer to that offer, and the queue result. Each step locks the transfer
row and moves it only from the statuses it expects, so a callback that comes
twice or late changes nothing. Apart from :mod:`ivr.agents.transfers`, which
requests transfers and assembles the service, so that module stays readable.
"""

from __future__ import annotations

import datetime as dt

from ivr.agents import presence, texts
from ivr.agents.callbacks import callback_due
from ivr.agents.transfer_core import Assignment, TransferCore, close_unanswered, wait_s
from ivr.calls.context import debtor_zone
from ivr.store.attempt_history import attempt_events
from ivr.store.debtors import latest_callback
from ivr.store.models import utcnow
from ivr.store.queries import add_event, record_callback
from ivr.store.transfers import transfer_call
from ivr.telephony import twiml
from ivr.vocab.transfers import TransferOutcome, TransferStatus

NOT_ANSWERED = frozenset({"busy", "no-answer", "failed", "canceled"})
QUEUE_PAUSE_MAX_S = 10
QUEUE_CALLBACK_REASON = "agent_queue"


def _moved_on(current: int | None, rang: int | None) -> bool:
    """A Dial's callback names the agent it rang; the transfer now belongs to another
    (or to none: queued, ended). ``rang`` None: a URL that names no agent."""
    return rang is not None and current != rang


class TransferCallbacks(TransferCore):
    """The handlers behind the ``/agents/*`` carrier callbacks."""

    async def on_whisper(self, transfer_id: int, agent_id: int | None = None) -> str:
        """The agent picked up: mark the transfer answered and tell them who it is."""
        now = utcnow()
        async with self.sessions() as s, s.begin():
            found = await transfer_call(s, transfer_id)
            if (
                found is None
                or found.transfer.status not in ("dialing", "connected")
                or _moved_on(found.transfer.agent_id, agent_id)
            ):
                return twiml.hangup()
            transfer, debtor, debt = found.transfer, found.debtor, found.debt
            if transfer.status == "dialing":
                transfer.status = TransferStatus.CONNECTED
                transfer.answered_at = now
                transfer.queue_wait_s = wait_s(transfer, now)
                await add_event(
                    s,
                    found.attempt.id,
                    "transfer_answered",
                    {"transfer_id": transfer_id, "agent_id": transfer.agent_id},
                )
            locale = found.locale
            if debtor is None:
                sentence = texts.whisper_unidentified(
                    locale, caller=found.attempt.to_number, reason=transfer.reason
                )
            else:
                sentence = texts.whisper(
                    locale,
                    name=debtor.name,
                    reason=transfer.reason,
                    amount_cents=debt.amount_cents if debt else None,
                    currency=debt.currency if debt else "BRL",
                    creditor=debt.creditor if debt else None,
                )
            agent_id = transfer.agent_id
        await self._publish(agent_id, "connected", transfer_id)
        return twiml.say(sentence, locale)

    async def on_dial_status(
        self, transfer_id: int, status: str, agent_id: int | None = None
    ) -> str:
        """The Dial ended: after a talk, wrap-up; unanswered, the next agent or the queue.

        The result of a Dial to an agent the transfer has moved on from (sent
        late or again) is about a leg that is over: it changes nothing.
        """
        now = utcnow()
        events: list[tuple[int | None, str]] = []
        async with self.sessions() as s, s.begin():
            found = await transfer_call(s, transfer_id)
            if found is None or _moved_on(found.transfer.agent_id, agent_id):
                return twiml.empty()
            transfer, attempt, debtor = found.transfer, found.attempt, found.debtor
            locale = found.locale
            if status in ("completed", "answered") and transfer.status in ("dialing", "connected"):
                if transfer.answered_at is None:
                    transfer.answered_at = now
                    transfer.queue_wait_s = wait_s(transfer, now)
                if transfer.agent_id is not None and debtor is not None:
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
                    last_agent_id=debtor.last_agent_id if debtor is not None else None,
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
            found = await transfer_call(s, transfer_id, lock=False)
            if found is None or found.transfer.status == "callback":
                return twiml.leave()
            locale = found.locale
            pause = max(1, min(QUEUE_PAUSE_MAX_S, offer_after // 2))
            if found.transfer.status != "queued":
                return twiml.pause(pause)
            offers = await attempt_events(s, found.attempt.id, ("queue_offer",))
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
                    found.attempt.id,
                    "queue_offer",
                    {"transfer_id": transfer_id, "queue_time": queue_time_s},
                )
                if found.debtor is None:
                    # Nobody to call back (see texts.call_us_back): say they may
                    # call again, and keep their place while they choose.
                    return twiml.hold(texts.call_us_back(locale), locale, pause)
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
            found = await transfer_call(s, transfer_id)
            if found is None:
                return twiml.leave()
            transfer, attempt, locale = found.transfer, found.attempt, found.locale
            answer = texts.is_yes(locale, digits, speech)
            if answer is None or transfer.status != "queued" or found.debtor is None:
                return twiml.empty()
            if not answer:
                return twiml.say(texts.keep_waiting(locale), locale)
            due, _zone = await callback_due(s, attempt, now)
            close_unanswered(transfer, TransferStatus.CALLBACK, now)
            transfer.outcome = TransferOutcome.CALLBACK
            await record_callback(
                s,
                attempt,
                due,
                QUEUE_CALLBACK_REASON,
                transfer_id=transfer_id,
                source=QUEUE_CALLBACK_REASON,
            )
        self.hub.changed()  # the caller left the queue
        return twiml.leave()

    async def on_queue_result(self, transfer_id: int, result: str) -> str:
        """The caller left the queue: say goodbye after a callback, record a hang-up."""
        now = utcnow()
        async with self.sessions() as s, s.begin():
            found = await transfer_call(s, transfer_id)
            if found is None:
                return twiml.empty()
            transfer, debtor, locale = found.transfer, found.debtor, found.locale
            if transfer.status == "callback" and debtor is not None:
                cb = await latest_callback(s, debtor.id, QUEUE_CALLBACK_REASON)
                local = due_soon = None
                if cb is not None:
                    local = cb.due_at.astimezone(debtor_zone(debtor))
                    due_soon = cb.due_at - now <= dt.timedelta(hours=2)
                text = texts.callback_confirmed(locale, local, bool(due_soon))
                return twiml.say_and_hangup(text, locale)
            if result == "hangup" and transfer.status == "queued":
                close_unanswered(transfer, TransferStatus.ABANDONED, now)
                await add_event(
                    s, found.attempt.id, "transfer_abandoned", {"transfer_id": transfer_id}
                )
                body = twiml.empty()
            elif transfer.status == "queued":
                # Left the queue some other way (full, error): never leave them in silence.
                close_unanswered(transfer, TransferStatus.FAILED, now)
                body = twiml.say_and_hangup(texts.pick(texts.NOBODY, locale), locale)
            else:
                return twiml.empty()
        self.hub.changed()  # committed: the queue is shorter
        return body
