"""The wallboard's snapshot as the API sends it (and the OpenAPI document shows it).

One snapshot says everything the page draws; the live channel sends the
same shape again whenever it changes. Instants are UTC; the page counts the
time in each state itself from ``since``, so the numbers tick between
snapshots without asking the server.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from ivr.vocab.dialer import DialerReason, DialerState
from ivr.web.api_schemas import Output


class LiveCallOut(Output):
    attempt_id: int
    campaign_id: int | None
    campaign: str | None
    direction: str = Field(description="outbound or inbound")
    status: str = Field(description="the attempt's status (claimed ... in-progress)")
    since: dt.datetime = Field(description="when the call entered this stage")
    debtor_ref: str | None = Field(description="the person's reference; null: not identified yet")
    transfer: str | None = Field(description="the open transfer's status, if any")
    agent: str | None = Field(description="the agent's name, when one is ringing or talking")


class CallsOut(Output):
    by_status: dict[str, int] = Field(description="every live status, with 0 for none")
    outbound: int
    inbound: int
    total: int
    waiting_for_agent: int
    with_agent: int
    calls: list[LiveCallOut] = Field(description="the oldest live calls (at most 100)")
    more: int = Field(description="live calls not listed")


class DialerOut(Output):
    state: DialerState
    reason: DialerReason | None
    next_at: dt.datetime | None = Field(
        description="outside_window: when a window opens; no_one_callable: the next look"
    )
    paused_at: dt.datetime | None
    paused_by: str | None


class CampaignBoardOut(Output):
    id: int
    name: str
    active: bool
    day: dt.date = Field(description="the campaign's local day the counts are for")
    placed_today: int
    answered_today: int
    daily_cap: int
    reachable: int = Field(description="people with an open debt who have not opted out")
    capacity_today: int = Field(description="reachable x daily cap")
    capacity_left: int = Field(description="capacity_today - placed_today, at least 0")
    live: int = Field(description="outbound calls not over yet")
    channels: int = Field(description="the campaign's concurrent-call limit")
    transfers_today: int
    abandoned_today: int
    last_claimed_at: dt.datetime | None
    dialer: DialerOut


class AgentBoardOut(Output):
    id: int
    name: str
    state: str = Field(description="available, ringing, talking, wrap_up, busy, away, offline")
    since: dt.datetime = Field(description="when the agent entered this state")
    wrapup_until: dt.datetime | None


class AgentsOut(Output):
    by_state: dict[str, int]
    agents: list[AgentBoardOut]


class QueueOut(Output):
    waiting: int = Field(description="callers waiting for an agent (queued or being offered)")
    queued: int = Field(description="callers on hold in the queue")
    longest_wait_s: float | None
    oldest_since: dt.datetime | None


class TodayOut(Output):
    day: dt.date
    transfers: int
    answered: int
    abandoned: int
    callbacks: int
    abandonment_rate: float | None = Field(description="abandoned / transfers")


class WallboardOut(Output):
    at: dt.datetime = Field(description="when the snapshot was taken")
    calls: CallsOut
    campaigns: list[CampaignBoardOut]
    agents: AgentsOut
    queue: QueueOut
    today: TodayOut
