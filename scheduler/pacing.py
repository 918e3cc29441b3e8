"""The account's calls per second: one limit for every replica, never a burst.

The carrier counts call creations per account, whatever process sends them,
so the limit must be shared. Two pacers keep the same promise, "at most one
call every ``1 / rate`` seconds":

* :class:`SharedPacer` (PostgreSQL): one row per account holds the next free
  instant. Each call reserves the next slot with a single atomic
  ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` (the row lock orders the
  replicas; no new server, no advisory locks held while waiting) and sleeps
  until it. Slots are spaced evenly on the database's clock, so the
  replicas' own clocks never matter. A replica holds at most one
  reservation at a time: a drain wastes at most one slot.
* :class:`TokenBucket` (SQLite: one process only), in process.

The dialer races :meth:`Pacer.acquire` against its ``closing`` event; a
cancelled wait gives nothing back, which only ever makes the rate lower.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

import structlog
from sqlalchemy import Float, String, bindparam, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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


# The slot is ``GREATEST(next free instant, now) ``; the row then moves one gap on.
# clock_timestamp(), not now(): a statement that waited for the row lock must
# not reserve a slot in the past.
_RESERVE = text(
    "INSERT INTO pacing_slots AS p (key, next_at) "
    "VALUES (:key, clock_timestamp() + make_interval(secs => :gap)) "
    "ON CONFLICT (key) DO UPDATE "
    "SET next_at = GREATEST(p.next_at, clock_timestamp()) + make_interval(secs => :gap) "
    "RETURNING EXTRACT(EPOCH FROM p.next_at)::float8 - :gap AS slot, "
    "EXTRACT(EPOCH FROM (p.next_at - clock_timestamp()))::float8 - :gap AS wait"
).bindparams(bindparam("key", type_=String), bindparam("gap", type_=Float))


class SharedPacer:
    """The account's rate shared by every replica through one PostgreSQL row."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        rate: float,
        key: str,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        retry_s: float = 1.0,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.sessions = sessions
        self.gap = 1.0 / rate
        self.key = key[:64]
        self.retry_s = retry_s
        self._sleep = sleep
        # One reservation at a time per replica: slots are never hoarded ahead.
        self._lock = asyncio.Lock()

    async def reserve(self) -> tuple[float, float]:
        """Take the next free slot: its instant on the database's clock (epoch
        seconds) and how many seconds until it (<= 0: now)."""
        async with self.sessions() as s, s.begin():
            row = (await s.execute(_RESERVE, {"key": self.key, "gap": self.gap})).one()
        return float(row.slot), float(row.wait)

    async def acquire(self) -> float:
        """Wait for this replica's next slot (returned, on ``time.monotonic()``);
        a database outage waits, never dials unpaced."""
        async with self._lock:
            while True:
                # Shielded: a cancelled drain must not cut the statement off mid-flight.
                task = asyncio.ensure_future(self.reserve())
                try:
                    _, wait = await asyncio.shield(task)
                    break
                except asyncio.CancelledError:
                    with contextlib.suppress(Exception, asyncio.CancelledError):
                        await task
                    raise
                except (SQLAlchemyError, OSError) as exc:
                    log.warning("pacing.unavailable", error=type(exc).__name__)
                    await self._sleep(self.retry_s)
            slot = time.monotonic() + max(0.0, wait)
            if wait > 0:
                await self._sleep(wait)
            return slot


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
