"""The one wall clock the service, its jobs and the sandbox carrier read.

``IVR_CLOCK_OFFSET_SECONDS`` (tests only) shifts it, so a test can run the
real ``ivr serve`` processes at a chosen local hour and then "move the clock"
to let time-based jobs (reconciliation, sweeps) act without waiting. Timers
(APScheduler intervals, timeouts, rate limits) keep using real time; only the
"what time is it" question is shifted. Production leaves it at 0.
"""

from __future__ import annotations

import datetime as dt

_offset = dt.timedelta(0)


def set_offset(seconds: float) -> None:
    """Shift every later :func:`utcnow` by ``seconds`` (called once at start-up)."""
    global _offset
    _offset = dt.timedelta(seconds=seconds)


def utcnow() -> dt.datetime:
    """Now, timezone-aware UTC, plus the configured offset."""
    return dt.datetime.now(dt.UTC) + _offset
