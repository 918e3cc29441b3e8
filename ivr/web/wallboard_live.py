"""The live wallboard: one snapshot per replica, redrawn moments after a change,
pushed to every open board as Server-Sent Events.

Changes travel on the agents' event hub (:mod:`ivr.agents.hub`), the one
cross-replica channel: PostgreSQL LISTEN/NOTIFY between replicas, in process
on SQLite. Code that changes something the board shows calls
:func:`wallboard_changed` after its commit (the hub coalesces a burst into
one event); agent events (presence, offers, calls with agents) count
without it. Each replica's :class:`WallboardFeed` hears every event,
recomputes the snapshot once (not once per viewer) and wakes its streams.
With no viewer it computes nothing.

A stream (``GET /api/v1/wallboard/stream``, ``Accept: text/event-stream``)
sends ``event: snapshot`` at once and after every change, a comment line
every :data:`HEARTBEAT_S`, and re-checks the viewer's credentials every
:data:`RECHECK_S`: after a logout, a revoked session or a disabled account
it sends ``event: end`` and closes. A viewer may hold
:data:`MAX_STREAMS_PER_USER` streams on one replica (429 beyond).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import structlog
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.agents.hub import AgentEvent
from ivr.agents.keys import AGENT_HUB
from ivr.keys import SESSIONS
from ivr.store.models import Role, utcnow
from ivr.web.auth import current_user, json_error, recheck
from ivr.web.wallboard_snapshot import ReachableCache, build_snapshot

log = structlog.get_logger(__name__)

HEARTBEAT_S = 10.0
RECHECK_S = 5.0
# How often a stream looks whether its viewer went away (no database read):
# a closed tab frees its place among the viewer's streams this soon.
POLL_S = 1.0
# Without any event the board is still redrawn this often: windows open,
# waits grow, the planner's next look comes.
REFRESH_S = 30.0
# At most one recompute per this many seconds (a burst of events is one redraw).
MIN_GAP_S = 0.1
MAX_STREAMS_PER_USER = 5


@dataclass(eq=False)
class Viewer:
    """One open stream: woken when a new snapshot is ready or the feed closes."""

    user_id: int
    wake: asyncio.Event = field(default_factory=asyncio.Event)


class WallboardFeed:
    """This replica's latest snapshot and the streams that show it."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.reachable = ReachableCache()
        self.payload: str | None = None  # the latest snapshot as JSON text
        self.version = 0
        self.closing = False
        self.computed = 0
        self._dirty = asyncio.Event()
        self._lock = asyncio.Lock()
        self._viewers: defaultdict[int, set[Viewer]] = defaultdict(set)

    # ------------------------------------------------------------ events

    def poke(self, _event: AgentEvent | None = None) -> None:
        """Something changed (any hub event): redraw soon if anyone is watching."""
        self._dirty.set()

    def viewers(self) -> int:
        return sum(len(v) for v in self._viewers.values())

    # ------------------------------------------------------------ snapshots

    async def refresh(self) -> str:
        """Recompute the snapshot now and wake every stream."""
        async with self._lock:
            async with self.sessions() as s:
                snap = await build_snapshot(s, self.clock(), self.reachable)
            self.payload = snap.model_dump_json()
            self.version += 1
            self.computed += 1
        for viewers in list(self._viewers.values()):
            for v in list(viewers):
                v.wake.set()
        return self.payload

    async def current(self) -> str:
        """The latest snapshot (computed now if there is none yet)."""
        return self.payload if self.payload is not None else await self.refresh()

    async def run(self) -> None:
        """Recompute after events (coalesced) and every :data:`REFRESH_S` while watched."""
        while not self.closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dirty.wait(), REFRESH_S)
            self._dirty.clear()
            if not self.viewers():
                self.payload = None  # stale: the next viewer gets a fresh one
                continue
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception:  # a failed read must not end the board for good
                log.exception("wallboard.refresh_failed")
                await asyncio.sleep(1.0)
                self._dirty.set()
                continue
            await asyncio.sleep(MIN_GAP_S)

    # ------------------------------------------------------------ viewers

    def join(self, user_id: int) -> Viewer:
        mine = self._viewers[user_id]
        if len(mine) >= MAX_STREAMS_PER_USER:
            if not mine:
                del self._viewers[user_id]
            raise json_error(
                429, f"at most {MAX_STREAMS_PER_USER} wallboards open at once", code="too_many"
            )
        viewer = Viewer(user_id)
        mine.add(viewer)
        return viewer

    def leave(self, viewer: Viewer) -> None:
        mine = self._viewers.get(viewer.user_id)
        if mine is not None:
            mine.discard(viewer)
            if not mine:
                del self._viewers[viewer.user_id]

    def close(self) -> None:
        """End every stream (shutdown): they write their last line and return."""
        self.closing = True
        self._dirty.set()
        for viewers in list(self._viewers.values()):
            for v in list(viewers):
                v.wake.set()


WALLBOARD = web.AppKey("wallboard", WallboardFeed)


def wallboard_changed(app: web.Application) -> None:
    """Tell every replica's wallboard that something it shows changed (after a commit)."""
    hub = app.get(AGENT_HUB)
    if hub is not None:
        hub.changed()


# ------------------------------------------------------------------ the stream


def _event(name: str, data: str) -> bytes:
    return f"event: {name}\ndata: {data}\n\n".encode()


async def stream(request: web.Request) -> web.StreamResponse:
    """The live wallboard as Server-Sent Events (see the module's docstring)."""
    user = current_user(request)
    if "text/event-stream" not in request.headers.get("Accept", ""):
        raise json_error(406, "this is an event stream: send 'Accept: text/event-stream'")
    feed = request.app.get(WALLBOARD)
    if feed is None or feed.closing:
        raise json_error(503, "the live wallboard is not running here")
    viewer = feed.join(user.id)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    loop = asyncio.get_running_loop()
    try:
        payload = await feed.current()
        await response.prepare(request)
        await response.write(b"retry: 3000\n\n" + _event("snapshot", payload))
        sent = feed.version
        next_check = next_beat = loop.time()
        next_check += RECHECK_S
        next_beat += HEARTBEAT_S
        while not feed.closing:
            wait = max(0.0, min(next_check, next_beat, loop.time() + POLL_S) - loop.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(viewer.wake.wait(), wait)
            viewer.wake.clear()
            transport = request.transport
            if transport is None or transport.is_closing():
                break
            if loop.time() >= next_check:
                again = await recheck(request, user.id)
                if again is None or again.role is not Role.SUPERVISOR:
                    await response.write(_event("end", json.dumps({"reason": "signed_out"})))
                    break
                next_check = loop.time() + RECHECK_S
            if feed.version != sent and feed.payload is not None:
                sent = feed.version
                await response.write(_event("snapshot", feed.payload))
                next_beat = loop.time() + HEARTBEAT_S
            elif loop.time() >= next_beat:
                await response.write(b": ping\n\n")
                next_beat = loop.time() + HEARTBEAT_S
        if feed.closing:
            await response.write(_event("end", json.dumps({"reason": "shutdown"})))
    except (ConnectionError, asyncio.CancelledError) as exc:
        log.debug("wallboard.stream_closed", error=str(exc))
        if isinstance(exc, asyncio.CancelledError):
            raise
    finally:
        feed.leave(viewer)
    return response


# ------------------------------------------------------------------ wiring


async def _context(app: web.Application) -> AsyncIterator[None]:
    feed = WallboardFeed(app[SESSIONS])
    app[WALLBOARD] = feed
    hub = app.get(AGENT_HUB)
    unwatch = hub.watch(feed.poke) if hub is not None else None
    task = asyncio.create_task(feed.run(), name="wallboard-feed")
    try:
        yield
    finally:
        if unwatch is not None:
            unwatch()
        feed.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _close_streams(app: web.Application) -> None:
    feed = app.get(WALLBOARD)
    if feed is not None:
        feed.close()


def setup_wallboard(app: web.Application) -> None:
    """The feed (after the agents' hub, whose events it hears) and its shutdown."""
    app.cleanup_ctx.append(_context)
    app.on_shutdown.append(_close_streams)
