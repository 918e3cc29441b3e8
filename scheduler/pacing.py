"""The account's calls per second: one limit for every replica, never a burst.

The carrier counts call creations per account, whatever process sends them,
so the limit must be shared. Two pacers keep the same promise, "at most one
call every ``1 / rate`` seconds":

* :class:`SharedPacer` (PostgreSQL): one row per account holds the instant the
  next call may leave. A replica takes it only when it is due, in the same
  statement that marks its attempt as being placed (:meth:`SharedPacer.try_take`),
  and sends the request as soon as that statement answers. The carrier counts
  requests when they *arrive*: a slot reserved ahead and slept towards would
  add the replica's wake-up and its remaining statements to the request's
  delay, and a late call lands in the next one's second. Taken when due, a
  late replica takes a later instant instead. The row lock orders the
  replicas (no new server, no lock held between statements); the instants are
  on the database's clock, so the replicas' clocks never matter.
* :class:`TokenBucket` (SQLite: one process only), in process.

The dialer waits for the slot racing its ``closing`` event: a drain gives the
claim back untouched, since nothing is taken before the slot is due.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import structlog
from sqlalchemy import (
    DateTime,
    Executable,
    Float,
    Integer,
    Row,
    Select,
    String,
    Update,
    bindparam,
    column,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from ivr.store.models import PacingSlot

log = structlog.get_logger(__name__)


class Pacer(Protocol):
    """Waits until the next call may be created."""

    async def acquire(self) -> float | None:
        """Return when the call may go; the ``time.monotonic()`` instant of its
        slot if the pacer knows it (so a caller can tell it woke up late)."""
        ...


class TokenBucket:
    """Calls per second for this process (the carrier's CPS limit, one process)."""

    def __init__(
        self,
        rate: float,
        capacity: float | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = capacity if capacity is not None else max(1.0, rate)
        self._tokens = self.capacity
        self._monotonic = monotonic
        self._sleep = sleep
        self._last = monotonic()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
        self._last = now

    async def acquire(self) -> None:
        """Wait for one token; waiters are served in arrival order (no slot instant)."""
        async with self._lock:
            self._refill()
            while self._tokens < 1.0:
                await self._sleep((1.0 - self._tokens) / self.rate)
                self._refill()
            self._tokens -= 1.0


@dataclass(frozen=True)
class Take:
    """What one try at the account's slot gave.

    ``taken``: the slot was due and is now this caller's, taken at ``instant``
    (epoch seconds on the database's clock); ``held`` is its place in the
    window, handed back to :meth:`SharedPacer.done` once the carrier answered.
    ``marked``: the statement run with it matched its row. ``wait``: when not
    taken, seconds until it is worth asking again.
    """

    taken: bool
    marked: bool = False
    wait: float = 0.0
    instant: float | None = None
    held: dt.datetime | None = None


@runtime_checkable
class SlotTaker(Protocol):
    """A pacer that takes the slot in the very statement that marks the call placed."""

    async def try_take(self, mark: Update | None = None) -> Take:
        """Take the slot if it is due, running ``mark`` with it; never waits."""
        ...

    async def done(self, take: Take) -> None:
        """The carrier answered the request sent with ``take`` (or it failed)."""
        ...


# The window holds one instant per recent call: while its request is out, a
# provisional one ``hold`` seconds after the take (the request's timeout: a
# replica that died mid-request frees its place then); once the carrier
# answered, the instant of that answer. The carrier created the call between
# the take and the answer, so a call counted until a second after its answer
# is counted over every second the carrier may have counted it in: calls held
# up on the way (a busy replica, a busy carrier) cannot pile into one second.
_IN_WINDOW = "(SELECT count(*) FROM unnest(recent) e WHERE e > clock_timestamp() - interval '1 s')"
# Due when the schedule says so (``next_at``) and fewer than ``n`` calls are in
# the window. The schedule moves one gap on from where it was, not from now: a
# take that came late does not push every later one back (the replicas keep
# the rate), but it catches up at most one gap. clock_timestamp(), not now():
# a statement that waited for the row lock compares with the instant it got it.
_TAKE = text(
    "UPDATE pacing_slots SET "
    "next_at = GREATEST(next_at, clock_timestamp() - make_interval(secs => :gap))"
    " + make_interval(secs => :gap), "
    "recent = ARRAY(SELECT e FROM unnest(recent) e"
    " WHERE e > clock_timestamp() - interval '1 s')"
    " || (clock_timestamp() + make_interval(secs => :hold)) "
    f"WHERE key = :key AND next_at <= clock_timestamp() AND {_IN_WINDOW} < :n "
    "RETURNING next_at, recent[cardinality(recent)] AS held, "
    "EXTRACT(EPOCH FROM recent[cardinality(recent)] - make_interval(secs => :hold))::float8"
    " AS instant"
).bindparams(
    bindparam("key", type_=String),
    bindparam("gap", type_=Float),
    bindparam("hold", type_=Float),
    bindparam("n", type_=Integer),
)
# Not due: until the schedule's instant, or while the window is full a gap at
# most (a call out may be answered any moment).
_WAIT = text(
    "SELECT EXTRACT(EPOCH FROM GREATEST(next_at - clock_timestamp(), "
    f"CASE WHEN {_IN_WINDOW} >= :n THEN LEAST(make_interval(secs => :gap), "
    "(SELECT min(e) FROM unnest(recent) e WHERE e > clock_timestamp() - interval '1 s')"
    " + interval '1 s' - clock_timestamp()) END))::float8 AS wait "
    "FROM pacing_slots WHERE key = :key"
).bindparams(
    bindparam("key", type_=String), bindparam("gap", type_=Float), bindparam("n", type_=Integer)
)
_DONE = text(
    "UPDATE pacing_slots SET recent = array_replace(recent, :held, clock_timestamp()) "
    "WHERE key = :key"
).bindparams(bindparam("key", type_=String), bindparam("held", type_=DateTime(timezone=True)))


class SharedPacer:
    """The account's rate shared by every replica through one PostgreSQL row.

    The row holds the instant the next call may leave and the window of recent
    calls. A replica takes a slot only once it is due, in one autocommitted
    statement that also moves its attempt ``claimed -> unknown`` (``mark``),
    sends the request as soon as that statement answers, and reports the
    carrier's answer (:meth:`done`). Slots are spaced ``1 / rate`` apart, and
    never more than ``rate`` calls are in the window: the carrier counts at
    most ``rate`` calls in any second whatever happens to a request on its way.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        rate: float,
        key: str,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        retry_s: float = 1.0,
        hold_s: float = 15.0,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        bind = sessions.kw.get("bind")
        if not isinstance(bind, AsyncEngine):
            raise TypeError("the shared pacer needs sessions bound to an engine")
        self.engine = bind
        self.gap = 1.0 / rate
        self.per_second = max(1, math.floor(rate))
        self.key = key[:64]
        self.retry_s = retry_s
        self.hold_s = hold_s
        self._sleep = sleep
        self._row = False  # the slot row is known to exist
        self._conn: AsyncConnection | None = None
        self._using = asyncio.Lock()  # one statement at a time on the held connection

    def _statement(self, mark: Update | None) -> Select[Any]:
        slot = (
            _TAKE.bindparams(key=self.key, gap=self.gap, hold=self.hold_s, n=self.per_second)
            .columns(
                column("next_at"),
                column("held", DateTime(timezone=True)),
                column("instant", Float),
            )
            .cte("slot")
        )
        marked: Any = literal(0)
        if mark is not None:
            placed = mark.where(select(slot.c.next_at).exists()).returning(literal(1)).cte("placed")
            marked = select(func.count()).select_from(placed).scalar_subquery()
        # The main query reads the row as it was before the statement: how long
        # to wait, when nothing was taken.
        wait = _WAIT.bindparams(key=self.key, gap=self.gap, n=self.per_second).columns(
            column("wait", Float)
        )
        return select(
            select(func.count()).select_from(slot).scalar_subquery().label("taken"),
            marked.label("marked"),
            wait.scalar_subquery().label("wait"),
            select(slot.c.instant).scalar_subquery().label("instant"),
            select(slot.c.held).scalar_subquery().label("held"),
        )

    async def _ensure_row(self, conn: AsyncConnection) -> None:
        await conn.execute(
            pg_insert(PacingSlot)
            .values(key=self.key, next_at=func.clock_timestamp(), recent=[])
            .on_conflict_do_nothing(index_elements=[PacingSlot.key])
        )
        self._row = True

    async def _connection(self) -> AsyncConnection:
        """The pacer's own autocommit connection, held between takes.

        Autocommit: the row lock lasts one statement, not a round trip more.
        Held: a pool checkout pings the server first, a round trip between the
        slot falling due and the statement that takes it.
        """
        if self._conn is None:
            conn = await self.engine.connect()
            try:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                if not self._row:
                    await self._ensure_row(conn)
            except BaseException:
                await conn.close()
                raise
            self._conn = conn
        return self._conn

    async def close(self) -> None:
        """Give the held connection back (the service stops)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()

    async def _run(self, stmt: Executable) -> Row[Any] | None:
        async with self._using:
            conn = await self._connection()
            try:
                result = await conn.execute(stmt)
                return result.first() if result.returns_rows else None
            except BaseException:
                await self.close()  # a broken connection is opened again next time
                raise

    async def _take(self, mark: Update | None) -> Take:
        row = await self._run(self._statement(mark))
        if row is None or row.wait is None:  # the row was deleted under us: create it again
            self._row = False
            await self.close()
            return Take(False, wait=0.0)
        if not row.taken:
            return Take(False, wait=max(0.0, float(row.wait)))
        return Take(True, marked=bool(row.marked), instant=float(row.instant), held=row.held)

    async def try_take(self, mark: Update | None = None) -> Take:
        """Take the slot if it is due (with ``mark`` run in the same statement);
        a database outage answers "not yet" after logging, never "go unpaced"."""
        # Shielded: a cancelled drain must not cut the statement off mid-flight.
        task = asyncio.ensure_future(self._take(mark))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await task
            raise
        except (SQLAlchemyError, OSError) as exc:
            log.warning("pacing.unavailable", error=type(exc).__name__)
            return Take(False, wait=self.retry_s)

    async def done(self, take: Take) -> None:
        """The carrier answered: the call stays in the window one second from now.
        Failing that (database unreachable), its place is freed ``hold_s`` after
        the take."""
        if take.held is None:
            return
        try:
            await self._run(_DONE.bindparams(key=self.key, held=take.held))
        except (SQLAlchemyError, OSError) as exc:
            log.warning("pacing.unavailable", error=type(exc).__name__)

    async def acquire(self) -> float:
        """Wait until this caller holds a slot (returned, on ``time.monotonic()``).

        The caller's call is counted in the window from the take: it cannot
        say when its request was answered.
        """
        while True:
            take = await self.try_take()
            if take.taken:
                await self.done(take)
                return time.monotonic()
            await self._sleep(take.wait)


def account_pacer(
    sessions: async_sessionmaker[AsyncSession],
    database_url: str,
    rate: float,
    account: str | None,
) -> Pacer:
    """The pacer for the account's CPS: shared on PostgreSQL, in process on SQLite.

    Neither allows a burst: a second call never follows the first by less than
    ``1 / rate`` seconds, so the carrier never sees more than ``rate`` calls in
    any one second.
    """
    if database_url.startswith("postgresql"):
        return SharedPacer(sessions, rate, account or "account")
    return TokenBucket(rate, capacity=1.0)
