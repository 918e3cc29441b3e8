"""A supervisor's call to one named debtor (``ivr call``), through the same claim.

There is no second rule book: the debtor's row is locked, their history
loaded and :func:`~scheduler.eligibility.evaluate` run exactly as a dialer
tick does, and the attempt is inserted by the same code in the same
transaction. The only difference is the optional override, which may set
aside the frequency limits (:data:`~scheduler.eligibility.OVERRIDABLE`) and
nothing else; it is written on the attempt (who, why, which limits) and as
an event in the call's history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.store.models import CallAttempt, CallEvent, Debtor
from scheduler.claim import Claim, ClaimStats, _claim_locked
from scheduler.eligibility import OVERRIDABLE, Explanation, evaluate
from scheduler.eligibility_load import load_snapshots
from scheduler.reasons import Reason

MANUAL_WORKER = "manual"


@dataclass(frozen=True)
class Override:
    """A supervisor setting the frequency limits aside for one call, on the record."""

    by: str
    reason: str

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise ValueError("an override needs a reason")
        if not self.by.strip():
            raise ValueError("an override needs the name of who gives it")


class CallRefused(PermissionError):
    """The rule book says no; ``reasons`` are the same as ``/explain`` gives."""

    def __init__(self, external_ref: str, reasons: list[Reason]) -> None:
        self.external_ref = external_ref
        self.reasons = reasons
        super().__init__(f"{external_ref} may not be called now")

    def lines(self) -> list[str]:
        """One readable line per reason: ``code: message``."""
        return [f"{r.code}: {r.message}" for r in self.reasons]


async def claim_named_debtor(
    sessions: async_sessionmaker[AsyncSession],
    external_ref: str,
    now: dt.datetime,
    *,
    override: Override | None = None,
) -> Claim:
    """Claim one attempt for this debtor if the rule book allows it now.

    Raises LookupError for an unknown debtor and :class:`CallRefused` with
    every reason (those an override could not pass, when one is given).
    """
    async with sessions() as s, s.begin():
        debtor_id = await s.scalar(
            select(Debtor.id)
            .where(Debtor.external_ref == external_ref)
            .with_for_update()  # wait for a replica's claim on them, never skip
        )
        if debtor_id is None:
            raise LookupError(f"no debtor with external_ref {external_ref!r}")
        snaps, campaigns = await load_snapshots(s, [debtor_id], now)
        verdicts: dict[int, Explanation] = {}
        waive = OVERRIDABLE if override is not None else frozenset()
        claims = await _claim_locked(
            s, [debtor_id], snaps, campaigns, {}, now, MANUAL_WORKER, ClaimStats(),
            waive=waive, verdicts=verdicts, channel_limit=False,
        )  # fmt: skip
        verdict = verdicts[debtor_id]
        if not claims:
            raise CallRefused(external_ref, verdict.reasons)
        claim = claims[0]
        if override is not None:
            await _record_override(s, claim.attempt_id, override, list(verdict.waived), now)
        return claim


async def _record_override(
    s: AsyncSession,
    attempt_id: int,
    override: Override,
    waived: list[str],
    now: dt.datetime,
) -> None:
    await s.execute(
        update(CallAttempt)
        .where(CallAttempt.id == attempt_id)
        .values(
            override_by=override.by,
            override_reason=override.reason,
            override_codes=",".join(waived),
        )
    )
    s.add(
        CallEvent(
            attempt_id=attempt_id,
            kind="caps_overridden",
            at=now,
            data={"by": override.by, "reason": override.reason, "waived": waived},
        )
    )


TIME_CODES = frozenset({"outside_window", "holiday", "blocked_date"})


async def next_legal_instant(
    sessions: async_sessionmaker[AsyncSession], external_ref: str, now: dt.datetime
) -> dt.datetime | None:
    """``now`` if the debtor may be called now; else the first instant the hours allow.

    None when something other than the hour forbids the call (an opt-out, a
    cap, a closed debt...). For simulations (``ivr demo``, tests) that run a
    call at a legal hour on a simulated clock; nothing real dials with it.
    """
    async with sessions() as s:
        debtor_id = await s.scalar(select(Debtor.id).where(Debtor.external_ref == external_ref))
        if debtor_id is None:
            raise LookupError(f"no debtor with external_ref {external_ref!r}")
        snaps, campaigns = await load_snapshots(s, [debtor_id], now)
    verdict = evaluate(snaps[debtor_id], campaigns, now)
    if verdict.callable:
        return now
    if set(verdict.codes) <= TIME_CODES and verdict.wake_at is not None:
        return verdict.wake_at
    return None
