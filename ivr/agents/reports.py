"""Transfer KPIs: how many asked for a person, how many got one, how many gave up.

Abandonment rate = transfers dropped before an agent answered (the caller
hung up while ringing or queued) / transfers requested. A caller who took a
callback instead of waiting is counted apart: they were served, later.
Transfers that are still open count as requested only. The statuses are
:class:`~ivr.vocab.transfers.TransferStatus`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import Transfer
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
    where = []
    if since is not None:
        where.append(Transfer.requested_at >= since)
    if until is not None:
        where.append(Transfer.requested_at < until)
    rows = (
        await session.execute(
            select(Transfer.status, func.count()).where(*where).group_by(Transfer.status)
        )
    ).all()
    by_status = {TransferStatus(status): int(n) for status, n in rows}
    answered_n = (
        await session.scalar(
            select(func.count(Transfer.id)).where(*where, Transfer.answered_at.is_not(None))
        )
    ) or 0
    waits = (
        await session.execute(
            select(func.avg(Transfer.queue_wait_s), func.max(Transfer.queue_wait_s)).where(
                *where, Transfer.answered_at.is_not(None)
            )
        )
    ).one()
    requested = sum(by_status.values())
    abandoned = by_status.get(TransferStatus.ABANDONED, 0)
    return TransferStats(
        requested=requested,
        answered=int(answered_n),
        abandoned=abandoned,
        callbacks=by_status.get(TransferStatus.CALLBACK, 0),
        failed=by_status.get(TransferStatus.FAILED, 0),
        open=sum(by_status.get(s, 0) for s in OPEN_TRANSFER_STATUSES),
        abandonment_rate=round(abandonment_rate(abandoned, requested), 4),
        avg_wait_s=round(float(waits[0]), 3) if waits[0] is not None else None,
        max_wait_s=round(float(waits[1]), 3) if waits[1] is not None else None,
    )
