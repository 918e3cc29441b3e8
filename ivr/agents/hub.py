"""Events for agents' screens, delivered to whichever replica holds their browser.

An event is tiny (agent id, kind, transfer id, event id): the replica that
delivers it reads the details from the store, so the PostgreSQL NOTIFY
payload stays far below its 8000-byte limit and a screen always shows what
was committed. On PostgreSQL every replica LISTENs on :data:`CHANNEL` over a
dedicated asyncpg connection (reconnecting with back-off when it is lost,
then telling local screens to resynchronise, since NOTIFYs sent meanwhile are
gone). On SQLite the service is one process and events are delivered in
process.

The same channel carries the supervisors' wallboard: every event here is
also a sign that what the wallboard shows may have changed (presence, an
offer, a call with an agent ended), and :meth:`AgentHub.changed` sends a
bare ``wallboard`` event (agent 0, coalesced) for the facts that concern no
agent: an attempt's status, a claim, a caller queued, a campaign paused.
Watchers (:meth:`AgentHub.watch`) hear every event delivered on this
replica, so one LISTEN connection serves both screens.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import asyncpg
import structlog
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from ivr.store.db import notify

log = structlog.get_logger(__name__)

CHANNEL = "ivr_agent_events"
PING_EVERY_S = 10.0
MAX_BACKOFF_S = 5.0
# A replica sends at most one "wallboard changed" NOTIFY per this many seconds:
# a burst of status callbacks becomes one event, and the first is sent at once.
WALLBOARD_EVERY_S = 0.25
WALLBOARD = "wallboard"

# "sms": the debtor on the agent's screen wrote a message (``sms_id``).
# "wallboard": agent 0; something a supervisor's wallboard shows changed.
KINDS = frozenset({"offer", "connected", "ended", "missed", "presence", "resync", "sms", WALLBOARD})


@dataclass(frozen=True)
class AgentEvent:
    agent_id: int
    kind: str
    transfer_id: int | None = None
    event_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    sms_id: int | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, payload: str) -> AgentEvent:
        raw = json.loads(payload)
        return cls(
            agent_id=int(raw["agent_id"]),
            kind=str(raw["kind"]),
            transfer_id=int(raw["transfer_id"]) if raw.get("transfer_id") is not None else None,
            event_id=str(raw.get("event_id") or uuid.uuid4().hex),
            sms_id=int(raw["sms_id"]) if raw.get("sms_id") is not None else None,
        )


def asyncpg_dsn(database_url: str) -> str:
    """``postgresql+asyncpg://...`` -> a DSN asyncpg accepts."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class AgentHub:
    """Local subscribers per agent, plus the cross-replica transport."""

    def __init__(self, engine: AsyncEngine, database_url: str) -> None:
        self.engine = engine
        self.database_url = database_url
        self.distributed = database_url.startswith("postgresql")
        self._subs: defaultdict[int, set[asyncio.Queue[AgentEvent]]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()
        self.reconnects = 0
        self.delivered = 0
        self._watchers: set[Callable[[AgentEvent], None]] = set()
        self._wallboard_pending = False
        self._wallboard_last = float("-inf")
        self._wallboard_tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------ subscribers

    def subscribe(self, agent_id: int) -> asyncio.Queue[AgentEvent]:
        queue: asyncio.Queue[AgentEvent] = asyncio.Queue(maxsize=256)
        self._subs[agent_id].add(queue)
        return queue

    def unsubscribe(self, agent_id: int, queue: asyncio.Queue[AgentEvent]) -> None:
        subs = self._subs.get(agent_id)
        if subs is not None:
            subs.discard(queue)
            if not subs:
                del self._subs[agent_id]

    def subscribers(self, agent_id: int) -> int:
        return len(self._subs.get(agent_id, ()))

    def watch(self, fn: Callable[[AgentEvent], None]) -> Callable[[], None]:
        """Call ``fn`` (quick, never blocking) for every event delivered on this
        replica, whoever it is for; returns a function that stops it."""
        self._watchers.add(fn)
        return lambda: self._watchers.discard(fn)

    def deliver(self, event: AgentEvent) -> None:
        """Hand an event to this replica's screens of that agent (never blocks)."""
        for queue in list(self._subs.get(event.agent_id, ())):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)
                self.delivered += 1
        for fn in list(self._watchers):
            try:
                fn(event)
            except Exception:  # a watcher's bug must not stop an agent's screen
                log.exception("agents.watcher_failed", kind=event.kind)

    def _broadcast_resync(self) -> None:
        for agent_id in list(self._subs):
            self.deliver(AgentEvent(agent_id, "resync"))
        self.deliver(AgentEvent(0, WALLBOARD))

    # ------------------------------------------------------------ publishing

    async def publish(self, event: AgentEvent) -> None:
        """Send to every replica (PostgreSQL) or to this one (SQLite)."""
        if not self.distributed:
            self.deliver(event)
            return
        try:
            await notify(self.engine, CHANNEL, event.to_json())
        except Exception as exc:  # the screen resyncs on its next connect; the call goes on
            log.warning("agents.notify_failed", error=str(exc), kind=event.kind)
            self.deliver(event)

    def changed(self) -> None:
        """Something a wallboard shows changed: tell every replica, cheaply.

        Safe to call from any code on the event loop after a commit (it never
        waits): the first change after a quiet spell is sent at once, later
        ones within :data:`WALLBOARD_EVERY_S` become a single event.
        """
        if self._wallboard_pending:
            return
        self._wallboard_pending = True
        loop = asyncio.get_running_loop()
        delay = max(0.0, self._wallboard_last + WALLBOARD_EVERY_S - loop.time())
        task = loop.create_task(self._send_changed(delay), name="wallboard-changed")
        self._wallboard_tasks.add(task)
        task.add_done_callback(self._wallboard_tasks.discard)

    async def _send_changed(self, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        self._wallboard_pending = False
        self._wallboard_last = asyncio.get_running_loop().time()
        await self.publish(AgentEvent(0, WALLBOARD))

    # ------------------------------------------------------------ listening

    async def start(self) -> None:
        if self.distributed and self._task is None:
            self._task = asyncio.create_task(self._listen_forever(), name="agent-events-listener")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.listening.wait(), 10)
        elif not self.distributed:
            self.listening.set()

    async def stop(self) -> None:
        for pending in list(self._wallboard_tasks):
            pending.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            event = AgentEvent.from_json(payload)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("agents.bad_notify", error=str(exc))
            return
        self.deliver(event)

    async def _listen_forever(self) -> None:
        dsn = asyncpg_dsn(self.database_url)
        backoff = 0.2
        first = True
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(dsn, timeout=10)
                lost = asyncio.Event()
                conn.add_termination_listener(_setter(lost))
                await conn.add_listener(CHANNEL, self._on_notify)
                self.listening.set()
                if not first:
                    self.reconnects += 1
                    log.info("agents.listener_reconnected", reconnects=self.reconnects)
                    self._broadcast_resync()
                first = False
                backoff = 0.2
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), PING_EVERY_S)
                    if not lost.is_set():
                        await asyncio.wait_for(conn.fetchval("SELECT 1"), PING_EVERY_S)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("agents.listener_lost", error=str(exc))
            finally:
                self.listening.clear()
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), 2)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)


def _setter(event: asyncio.Event) -> Callable[[object], None]:
    """A termination callback that flags ``event`` (asyncpg passes the connection)."""

    def on_terminate(_conn: object) -> None:
        event.set()

    return on_terminate
