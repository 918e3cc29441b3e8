"""One wallboard snapshot: the reads of ``ivr.store.wallboard`` put together.

Everything is read in one session (one consistent-enough moment: the board
is redrawn within a second anyway) and shaped as
:class:`~ivr.web.api_wallboard_schemas.WallboardOut`. "Today" is each
campaign's own local day (``scheduler.zones.reference_zone`` of its
country); the totals use the day of the country most campaigns are in.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store import wallboard as q
from ivr.vocab.attempts import LIVE_ATTEMPT_STATUSES, AttemptDirection, AttemptStatus
from ivr.vocab.staff import Presence
from ivr.vocab.transfers import BEFORE_ANSWER, TransferStatus
from ivr.web.api_wallboard_schemas import (
    AgentBoardOut,
    AgentsOut,
    CallsOut,
    CampaignBoardOut,
    DialerOut,
    LiveCallOut,
    QueueOut,
    TodayOut,
    WallboardOut,
)
from scheduler.dialer_state import DialerFacts, dialer_status
from scheduler.eligibility_load import load_campaign_rules
from scheduler.windows import day_bounds_utc, local_day
from scheduler.zones import reference_zone

LIST_LIMIT = 100
# The order statuses are shown in (how a call moves).
STATUS_ORDER = [s.value for s in AttemptStatus if s in LIVE_ATTEMPT_STATUSES]
AGENT_STATES = ("available", "ringing", "talking", "wrap_up", "busy", "away", "offline")

Reachable = Callable[[AsyncSession, Sequence[int]], Awaitable[dict[int, int]]]


class ReachableCache:
    """:func:`ivr.store.wallboard.reachable_debtors`, re-read at most every ``ttl_s``.

    It is the one read that grows with the portfolio and it changes only with
    imports, payments and opt-outs: a minute-old count is a fine capacity base.
    """

    def __init__(self, ttl_s: float = 60.0) -> None:
        self.ttl_s = ttl_s
        self._at = float("-inf")
        self._ids: tuple[int, ...] = ()
        self._value: dict[int, int] = {}

    async def __call__(self, session: AsyncSession, ids: Sequence[int]) -> dict[int, int]:
        key = tuple(sorted(ids))
        if key != self._ids or time.monotonic() - self._at > self.ttl_s:
            self._value = await q.reachable_debtors(session, key)
            self._ids, self._at = key, time.monotonic()
        return self._value


async def build_snapshot(
    session: AsyncSession, now: dt.datetime, reachable: Reachable = q.reachable_debtors
) -> WallboardOut:
    campaigns = await q.campaigns(session)
    ids = [c.id for c in campaigns]
    names = {c.id: c.name for c in campaigns}
    rules = await load_campaign_rules(session, ids)
    days = {c.id: local_day(now, reference_zone(c.country)) for c in campaigns}
    home = Counter(c.country for c in campaigns).most_common(1)
    board_zone = reference_zone(home[0][0] if home else "BR")
    board_start = day_bounds_utc(now, board_zone)[0]
    starts = {c.id: day_bounds_utc(now, reference_zone(c.country))[0] for c in campaigns}

    counts = await q.live_call_counts(session)
    live = await q.live_calls(session, LIST_LIMIT)
    open_transfers = await q.open_transfers(session)
    agents = await q.agents(session)
    today = await q.day_counts(session, days)
    people = await reachable(session, ids)
    hints = await q.planner_hints(session, now)
    transfers = await q.transfers_since(session, min([board_start, *starts.values()]))
    paused = await q.paused_by(session, [c.id for c in campaigns if not c.active])

    agent_names = {a.id: a.name for a in agents}
    calls = _calls(counts, live, open_transfers, names, agent_names)
    live_out: Counter[int] = Counter()
    for cid, direction, _status, n in counts:
        if cid is not None and direction == AttemptDirection.OUTBOUND:
            live_out[cid] += n
    per_campaign: dict[int, Counter[str]] = defaultdict(Counter)
    for t in transfers:
        if t.campaign_id is not None and t.requested_at >= starts.get(t.campaign_id, board_start):
            per_campaign[t.campaign_id]["transfers"] += 1
            per_campaign[t.campaign_id]["abandoned"] += int(t.status == TransferStatus.ABANDONED)

    boards: list[CampaignBoardOut] = []
    for c in campaigns:
        r = rules[c.id]
        day = today[c.id]
        reach = people.get(c.id, 0)
        capacity = reach * r.policy.daily_cap
        facts = _facts(c.id, live_out[c.id], reach, hints, paused)
        status = dialer_status(r, now, facts)
        boards.append(
            CampaignBoardOut(
                id=c.id,
                name=c.name,
                active=c.active,
                day=days[c.id],
                placed_today=day.placed,
                answered_today=day.answered,
                daily_cap=r.policy.daily_cap,
                reachable=reach,
                capacity_today=capacity,
                capacity_left=max(0, capacity - day.placed),
                live=live_out[c.id],
                channels=r.max_concurrent,
                transfers_today=per_campaign[c.id]["transfers"],
                abandoned_today=per_campaign[c.id]["abandoned"],
                last_claimed_at=day.last_claimed_at,
                dialer=DialerOut(
                    state=status.state,
                    reason=status.reason,
                    next_at=status.next_at,
                    paused_at=status.paused_at,
                    paused_by=status.paused_by,
                ),
            )
        )
    return WallboardOut(
        at=now,
        calls=calls,
        campaigns=boards,
        agents=_agents(agents, open_transfers, now),
        queue=_queue(open_transfers, now),
        today=_today(transfers, board_start, local_day(now, board_zone)),
    )


def _facts(
    campaign_id: int,
    live_outbound: int,
    reachable: int,
    hints: q.Hints,
    paused: dict[int, tuple[dt.datetime, str | None]],
) -> DialerFacts:
    due: bool | None = campaign_id in hints.due or (None if not hints.complete else False)
    return DialerFacts(
        live_outbound=live_outbound,
        reachable=reachable,
        due=due,
        next_hint=hints.next_at.get(campaign_id),
        paused=paused.get(campaign_id),
    )


def _calls(
    counts: list[tuple[int | None, str, str, int]],
    live: list[q.LiveCall],
    transfers: list[q.OpenTransfer],
    names: dict[int, str],
    agent_names: dict[int, str],
) -> CallsOut:
    by_status = dict.fromkeys(STATUS_ORDER, 0)
    by_direction: Counter[str] = Counter()
    for _cid, direction, status, n in counts:
        by_status[status] = by_status.get(status, 0) + n
        by_direction[direction] += n
    total = sum(by_status.values())
    of_call = {t.attempt_id: t for t in transfers}
    listed = []
    for c in live:
        t = of_call.get(c.attempt_id)
        listed.append(
            LiveCallOut(
                attempt_id=c.attempt_id,
                campaign_id=c.campaign_id,
                campaign=names.get(c.campaign_id) if c.campaign_id is not None else None,
                direction=c.direction,
                status=c.status,
                since=c.answered_at or c.placed_at or c.claimed_at,
                debtor_ref=c.debtor_ref,
                transfer=t.status if t else None,
                agent=agent_names.get(t.agent_id) if t and t.agent_id is not None else None,
            )
        )
    return CallsOut(
        by_status=by_status,
        outbound=by_direction[AttemptDirection.OUTBOUND],
        inbound=by_direction[AttemptDirection.INBOUND],
        total=total,
        waiting_for_agent=sum(1 for t in transfers if t.status in BEFORE_ANSWER),
        with_agent=sum(1 for t in transfers if t.status == TransferStatus.CONNECTED),
        calls=listed,
        more=max(0, total - len(listed)),
    )


def _agents(
    agents: list[q.AgentRow], transfers: list[q.OpenTransfer], now: dt.datetime
) -> AgentsOut:
    current = {t.agent_id: t for t in transfers if t.agent_id is not None}
    out: list[AgentBoardOut] = []
    for a in agents:
        state, since = a.presence, a.since
        t = current.get(a.id)
        if a.presence == Presence.BUSY:
            if t is not None and t.status == TransferStatus.CONNECTED:
                state, since = "talking", t.answered_at or a.since
            elif t is not None and t.status == TransferStatus.DIALING:
                state = "ringing"
            elif a.wrapup_until is not None and a.wrapup_until > now:
                state = "wrap_up"
        wrapup_until = a.wrapup_until if state == "wrap_up" else None
        out.append(
            AgentBoardOut(id=a.id, name=a.name, state=state, since=since, wrapup_until=wrapup_until)
        )
    by_state = dict.fromkeys(AGENT_STATES, 0)
    for a_out in out:
        by_state[a_out.state] = by_state.get(a_out.state, 0) + 1
    return AgentsOut(by_state=by_state, agents=out)


def _queue(transfers: list[q.OpenTransfer], now: dt.datetime) -> QueueOut:
    waiting = [t for t in transfers if t.status in BEFORE_ANSWER]
    oldest = min((t.requested_at for t in waiting), default=None)
    return QueueOut(
        waiting=len(waiting),
        queued=sum(1 for t in waiting if t.status == TransferStatus.QUEUED),
        longest_wait_s=round((now - oldest).total_seconds(), 1) if oldest else None,
        oldest_since=oldest,
    )


def _today(transfers: list[q.TransferRow], start: dt.datetime, day: dt.date) -> TodayOut:
    mine = [t for t in transfers if t.requested_at >= start]
    abandoned = sum(1 for t in mine if t.status == TransferStatus.ABANDONED)
    return TodayOut(
        day=day,
        transfers=len(mine),
        answered=sum(1 for t in mine if t.answered_at is not None),
        abandoned=abandoned,
        callbacks=sum(1 for t in mine if t.status == TransferStatus.CALLBACK),
        abandonment_rate=round(abandoned / len(mine), 4) if mine else None,
    )
