"""Transfer KPIs: how many asked for a person, how many got one, how many gave up.

Abandonment rate = transfers dropped before an agent answered (the caller
hung up while ringing or queued) / transfers requested. A caller who took a
callback instead of waiting is counted apart: they were served, later.
Transfers that are still open count as requested only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.transfers import transfer_tallies
from ivr.vocab.transfers import OPEN_TRANSFER_STATUSES, TransferStatus


def abandonment_rate(abandoned: int, requested: int) -> float:
    """Share of requested transfers dropped before an agent answered (0.0 with none)."""
    if requested <= 0:
        return 0.0
    return abandoned / requested


@dataclass(frozen=True)
class TransferStats:
    requested: int
    answered: int
    abandoned: int
    callbacks: int
    failed: int
    open: int
    abandonment_rate: float
    avg_wait_s: float | None
    max_wait_s: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


async def transfer_stats(
    session: AsyncSession,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> TransferStats:
    """Counts over transfers requested in ``[since, until)``."""
    tallies = await transfer_tallies(session, since, until)
    by_status = tallies.by_status
    requested = sum(by_status.values())
    abandoned = by_status.get("abandoned", 0)
    return TransferStats(
        requested=requested,
        answered=tallies.answered,
        abandoned=abandoned,
        callbacks=by_status.get(TransferStatus.CALLBACK, 0),
        failed=by_status.get(TransferStatus.FAILED, 0),
        open=sum(by_status.get(s, 0) for s in OPEN_TRANSFER_STATUSES),
        abandonment_rate=round(abandonment_rate(abandoned, requested), 4),
        avg_wait_s=_rounded(tallies.avg_wait_s),
        max_wait_s=_rounded(tallies.max_wait_s),
    )


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)
