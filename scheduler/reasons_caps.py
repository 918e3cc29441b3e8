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

from scheduler.caps import CapPolicy, cap_blocks
from scheduler.reasons import Reason
from scheduler.snapshot import CampaignRules, DebtorSnapshot

# A call in progress has no known end: look again after this long.
IN_PROGRESS_RECHECK = dt.timedelta(seconds=60)


@functools.lru_cache(maxsize=1024)
def _policy(policies: tuple[CapPolicy, ...], country: str) -> CapPolicy:
    return CapPolicy.strictest(policies).with_floor(country)


def cap_reasons(
    snap: DebtorSnapshot,
    campaigns: Sequence[CampaignRules],
    now: dt.datetime,
    zones: Sequence[str],
    *,
    asked: bool,
) -> list[Reason]:
    """Every cap reached at ``now`` under the strictest policy of ``campaigns``.

    ``asked``: the debtor asked for this call (a callback), which waives the
    quiet days after a conversation and the retry plan's wait.
    """
    policy = _policy(tuple(r.policy for r in campaigns), snap.country)
    out: list[Reason] = []
    for block in cap_blocks(snap.attempts, now, zones, policy, waive_quiet=asked):
        until = block.until
        if block.code == "in_progress":
            until = now + IN_PROGRESS_RECHECK
        out.append(Reason(block.code, block.message, block.detail, until))
    return out
