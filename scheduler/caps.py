"""Attempt caps per person: per local day, rolling 7 days, minimum gap, quiet after contact.

Pure functions over the person's recent attempts (all their numbers, all
campaigns). They are written to hold even when clocks disagree between
replicas: an attempt stamped *later* than ``now`` still counts against the
rolling week and the gap, so a slow replica can never squeeze one in behind a
fast one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ivr.vocab.attempts import LIVE_ATTEMPT_STATUSES, AttemptDirection, AttemptStatus
from ivr.vocab.outcomes import RIGHT_PARTY_OUTCOMES
from scheduler.frozen import direct_init
from scheduler.windows import day_bounds_utc

# How an attempt ends that the retry plan waits after.
UNSUCCESSFUL_STATUSES = frozenset(
    {AttemptStatus.BUSY, AttemptStatus.NO_ANSWER, AttemptStatus.FAILED}
)
# Every status there is: a stored status is looked up in a set rather than
# converted to the enum (a costly call, per attempt of every person a tick
# evaluates); only one outside the vocabulary still goes through the enum,
# which refuses it as it always did.
_KNOWN_STATUSES = frozenset(AttemptStatus)
# As a plain string (compared per attempt; see reasons_debt._OPEN for why).
_INBOUND: str = AttemptDirection.INBOUND.value

ROLLING_WINDOW = dt.timedelta(days=7)
_NO_GAP = dt.timedelta(0)

# Legal floors by country, applied on top of what the campaign says: Reg F
# presumes harassment within 7 days after a conversation (US). Loosening one
# is a code change, made on purpose.
QUIET_DAYS_FLOOR = {"US": 7}


@dataclass(frozen=True)
class CapPolicy:
    """The limits that apply to one person."""

    daily_cap: int = 2
    weekly_cap: int = 7
    min_gap: dt.timedelta = dt.timedelta(hours=4)
    quiet_days_after_contact: int = 0
    # The retry plan: the wait after the 1st, 2nd, ... unsuccessful attempt in
    # a row (the last repeats); empty: none.
    retry_delays: tuple[dt.timedelta, ...] = ()

    @classmethod
    def strictest(cls, policies: Iterable[CapPolicy]) -> CapPolicy:
        """A person in several campaigns gets the tightest of each limit."""
        items = list(policies)
        if not items:
            return cls()
        return cls(
            daily_cap=min(p.daily_cap for p in items),
            weekly_cap=min(p.weekly_cap for p in items),
            min_gap=max(p.min_gap for p in items),
            quiet_days_after_contact=max(p.quiet_days_after_contact for p in items),
            retry_delays=_longest_waits([p.retry_delays for p in items]),
        )

    def with_floor(self, country: str) -> CapPolicy:
        floor = QUIET_DAYS_FLOOR.get(country.upper(), 0)
        if self.quiet_days_after_contact >= floor:
            return self
        return dataclasses.replace(self, quiet_days_after_contact=floor)

    def retry_delay(self, in_a_row: int) -> dt.timedelta | None:
        """The wait after ``in_a_row`` unsuccessful attempts in a row (None: no plan)."""
        if not self.retry_delays or in_a_row <= 0:
            return None
        return self.retry_delays[min(in_a_row, len(self.retry_delays)) - 1]


def _longest_waits(plans: Sequence[tuple[dt.timedelta, ...]]) -> tuple[dt.timedelta, ...]:
    """Step by step the longest wait of any plan (a shorter plan repeats its last)."""
    plans = [p for p in plans if p]
    if not plans:
        return ()
    steps = max(len(p) for p in plans)
    return tuple(max(p[min(i, len(p) - 1)] for p in plans) for i in range(steps))


@direct_init
@dataclass(frozen=True)
class PastAttempt:
    """What the caps need to know about one earlier attempt."""

    claimed_at: dt.datetime
    status: str
    outcome: str | None = None
    ended_at: dt.datetime | None = None
    phone_id: int | None = None
    attempt_id: int | None = None
    direction: str = AttemptDirection.OUTBOUND
    # On a call the person placed: when they passed verification (None: never).
    verified_at: dt.datetime | None = None

    @property
    def ours(self) -> bool:
        """We placed it: only our calls count against the caps and limits."""
        return self.direction != _INBOUND

    @property
    def live(self) -> bool:
        return _known(self.status) in LIVE_ATTEMPT_STATUSES

    @property
    def right_party(self) -> bool:
        return self.outcome in RIGHT_PARTY_OUTCOMES


def _known(status: str) -> str:
    """``status`` as :class:`AttemptStatus` compares it (a ValueError if it is none)."""
    return status if status in _KNOWN_STATUSES else AttemptStatus(status)


@direct_init
@dataclass(frozen=True)
class CapBlock:
    """One limit that is reached; ``until`` is the earliest instant it can clear."""

    code: str
    message: str
    detail: dict[str, Any]
    until: dt.datetime | None


def cap_blocks(
    history: Sequence[PastAttempt],
    now: dt.datetime,
    zones: Sequence[str],
    policy: CapPolicy,
    *,
    waive_quiet: bool = False,
) -> list[CapBlock]:
    """Every cap that forbids a new attempt at ``now`` (empty list: caps allow it).

    The daily cap is checked against the local day of ``now`` in every
    candidate zone, so an ambiguous zone can only make it stricter.
    ``waive_quiet``: a call the debtor asked for (a callback) skips the quiet
    days after a conversation and the retry plan's wait (they chose the time).
    """
    if not history and policy.daily_cap > 0 and policy.weekly_cap > 0:
        return []  # nothing to count, to wait after or in progress (most people)
    out: list[CapBlock] = []
    everything = history
    # The person's own calls to us limit nothing below but "a call in progress"
    # and the quiet days after a conversation.
    history = [a for a in everything if a.ours]

    live = [a for a in everything if a.live]
    if live:
        out.append(
            CapBlock(
                "in_progress",
                "a call to this person is still in progress",
                {"attempt_ids": [a.attempt_id for a in live], "statuses": [a.status for a in live]},
                None,
            )
        )

    day_counts: dict[str, int] = {}
    day_until: dt.datetime | None = None
    for zone in zones:
        start, end = day_bounds_utc(now, zone)
        n = sum(1 for a in history if start <= a.claimed_at < end)
        if n >= policy.daily_cap:
            day_counts[zone] = n
            day_until = end if day_until is None else max(day_until, end)
    if day_counts:
        out.append(
            CapBlock(
                "daily_cap",
                f"already {max(day_counts.values())} attempt(s) today; the daily cap is "
                f"{policy.daily_cap}",
                {"cap": policy.daily_cap, "count": max(day_counts.values()), "zones": day_counts},
                day_until,
            )
        )

    since = now - ROLLING_WINDOW
    week = sorted(a.claimed_at for a in history if a.claimed_at > since)
    if len(week) >= policy.weekly_cap:
        if policy.weekly_cap <= 0:
            until = None
        else:
            # Clears when enough of the oldest attempts fall out of the window.
            until = week[len(week) - policy.weekly_cap] + ROLLING_WINDOW
        out.append(
            CapBlock(
                "weekly_cap",
                f"already {len(week)} attempt(s) in the last 7 days; the cap is "
                f"{policy.weekly_cap}",
                {"cap": policy.weekly_cap, "count": len(week)},
                until,
            )
        )

    if policy.min_gap > _NO_GAP:
        near = [a.claimed_at for a in history if abs(a.claimed_at - now) < policy.min_gap]
        if near:
            last = max(near)
            out.append(
                CapBlock(
                    "min_gap",
                    f"the last attempt was less than {_fmt(policy.min_gap)} ago",
                    {"last_attempt_at": last.isoformat(), "min_gap_minutes": _minutes(policy)},
                    last + policy.min_gap,
                )
            )

    retry = _retry_block(history, now, policy) if policy.retry_delays and not waive_quiet else None
    if retry is not None:
        out.append(retry)

    if not waive_quiet and policy.quiet_days_after_contact > 0:
        quiet = dt.timedelta(days=policy.quiet_days_after_contact)
        contacts = [a.ended_at or a.claimed_at for a in everything if a.right_party]
        since = now - quiet
        recent = [c for c in contacts if c > since]
        if recent:
            last = max(recent)
            out.append(
                CapBlock(
                    "quiet_after_contact",
                    f"we spoke with this person less than {policy.quiet_days_after_contact} "
                    "day(s) ago",
                    {"last_contact_at": last.isoformat(), "quiet_days": quiet.days},
                    last + quiet,
                )
            )
    return out


def _retry_block(
    history: Sequence[PastAttempt], now: dt.datetime, policy: CapPolicy
) -> CapBlock | None:
    """The retry plan: after the n-th busy / no-answer / failed attempt in a row,
    wait the plan's n-th delay from when it ended.

    Claims that never reached the carrier (cancelled) neither count nor break
    the streak; any other ended attempt (answered) breaks it.
    """
    if not policy.retry_delays:
        return None
    ended = sorted(
        (a for a in history if not a.live and a.status != AttemptStatus.CANCELED),
        key=lambda a: (a.claimed_at, a.attempt_id or 0),
    )
    streak: list[PastAttempt] = []
    for a in reversed(ended):
        if _known(a.status) not in UNSUCCESSFUL_STATUSES:
            break
        streak.append(a)
    delay = policy.retry_delay(len(streak))
    if delay is None:
        return None
    last = streak[0]
    until = (last.ended_at or last.claimed_at) + delay
    if until <= now:
        return None
    return CapBlock(
        "retry_wait",
        f"waiting {_fmt(delay)} after {len(streak)} unanswered attempt(s) in a row "
        "(the campaign's retry plan)",
        {
            "attempts_in_a_row": len(streak),
            "last_status": last.status,
            "delay_minutes": int(delay.total_seconds() // 60),
            "retry_at": until.isoformat(),
        },
        until,
    )


def _minutes(policy: CapPolicy) -> int:
    return int(policy.min_gap.total_seconds() // 60)


def _fmt(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes % 60 == 0:
        return f"{minutes // 60} h"
    return f"{minutes} min"
