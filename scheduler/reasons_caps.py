"""Rules about how often: the caps of every campaign the person is in, the
strictest of each, never below the country's floor, as supervisor reasons.

The limits themselves are pure functions in ``scheduler.caps``; this module
picks the policy and turns its blocks into reasons. One module per kind of
rule (person, debt, window, caps) so each can be read, and changed, on its
own; ``scheduler.eligibility`` joins them.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence

from ivr.vocab.attempts import AttemptDirection
from scheduler.caps import CapPolicy, cap_blocks
from scheduler.reasons import Reason, reason
from scheduler.snapshot import CampaignRules, DebtorSnapshot
from scheduler.windows import day_bounds_utc

# A call in progress has no known end: look again after this long.
IN_PROGRESS_RECHECK = dt.timedelta(seconds=60)


@functools.lru_cache(maxsize=1024)
def _policy(policies: tuple[CapPolicy, ...], country: str) -> CapPolicy:
    return CapPolicy.strictest(policies).with_floor(country)


def cap_policy(campaigns: Sequence[CampaignRules], country: str) -> CapPolicy:
    """The limits that apply to a person of ``country`` in ``campaigns``: the
    strictest of each, never below the country's floor."""
    return _policy(tuple(r.policy for r in campaigns), country)


def cap_reasons(
    snap: DebtorSnapshot,
    campaigns: Sequence[CampaignRules],
    now: dt.datetime,
    zones: Sequence[str],
    *,
    asked: bool,
    policy: CapPolicy | None = None,
) -> list[Reason]:
    """Every cap reached at ``now`` under the strictest policy of ``campaigns``.

    ``asked``: the debtor asked for this call (a callback), which waives the
    quiet days after a conversation and the retry plan's wait. ``policy``:
    :func:`cap_policy` of ``campaigns`` and the person's country, when the
    caller has it already (a batch shares it among people of the same
    campaigns and country).
    """
    if policy is None:
        policy = cap_policy(campaigns, snap.country)
    out: list[Reason] = []
    for block in cap_blocks(snap.attempts, now, zones, policy, waive_quiet=asked):
        until = block.until
        if block.code == "in_progress":
            until = now + IN_PROGRESS_RECHECK
        out.append(Reason(block.code, block.message, block.detail, until))
    return out


def inbound_reasons(
    snap: DebtorSnapshot,
    campaigns: Sequence[CampaignRules],
    now: dt.datetime,
    zones: Sequence[str],
    *,
    asked: bool,
) -> list[Reason]:
    """``inbound_today``: the person called us and was verified on their local day.

    Having just talked to us, a call from us the same day is pressure, not
    service; so when any of their campaigns says so (the strictest wins, like
    the caps) our calls wait for their next local midnight. The day is read in
    every candidate zone, so an ambiguous zone can only make it longer.
    ``asked``: a callback the person asked for (often on that very call) is
    still made; they chose the time.
    """
    if asked or not snap.attempts or not any(r.inbound_suppresses_today for r in campaigns):
        return []
    verified = [
        a
        for a in snap.attempts
        if a.verified_at is not None and a.direction == AttemptDirection.INBOUND
    ]
    if not verified:
        return []
    until: dt.datetime | None = None
    last: dt.datetime | None = None
    hit: int | None = None
    for zone in zones:
        start, end = day_bounds_utc(now, zone)
        for a in verified:
            assert a.verified_at is not None
            if start <= a.verified_at < end:
                until = end if until is None else max(until, end)
                if last is None or a.verified_at > last:
                    last, hit = a.verified_at, a.attempt_id
    if until is None or last is None:
        return []
    return [reason("inbound_today", until, verified_at=last.isoformat(), attempt_id=hit)]
