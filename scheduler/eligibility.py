"""Is this person callable now, and if not, every reason why.

One pure function, :func:`evaluate`, decides; the claim runs it inside the
transaction that holds the person's row lock, and :func:`explain` runs the
same function for a supervisor's "why not?". Reasons are listed
exhaustively (a supervisor wants all of them, not the first), and each
carries the earliest instant it can clear so the planner knows when to look
again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Integer, any_, bindparam, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import (
    LIVE_ATTEMPT_STATUSES,
    CallAttempt,
    Callback,
    CallbackStatus,
    CallWindow,
    Campaign,
    Debt,
    Debtor,
    DebtStatus,
    Phone,
    Promise,
    PromiseStatus,
)
from scheduler.caps import ROLLING_WINDOW, CapPolicy, PastAttempt, cap_blocks
from scheduler.legal import debtor_countries, effective_windows
from scheduler.windows import (
    Window,
    closed_reasons,
    debtor_zones,
    dialable,
    local_day,
    local_midnight_utc,
    next_open,
    parse_blocked,
)

# How long a debtor whose block has no known end is left alone before the
# planner looks again (a new debt, a resumed campaign: see wake_debtors).
PARK = dt.timedelta(days=1)
IN_PROGRESS_RECHECK = dt.timedelta(seconds=60)

MESSAGES = {
    "outside_window": "outside the call window in the debtor's local time",
    "holiday": "a public holiday where the debtor lives",
    "blocked_date": "a date the supervisor blocked",
    "no_timezone": "the debtor's time zone is unknown",
    "opted_out": "the debtor asked not to be called",
    "debtor_quiet": "calls to this debtor are paused",
    "no_valid_phone": "no valid phone number",
    "callback_scheduled": "the debtor asked to be called back at a later time",
    "debt_not_open": "the debt is paid, disputed or closed",
    "no_campaign": "the debt belongs to no campaign",
    "campaign_paused": "the campaign is paused",
    "paid_pause": "the debtor said they paid; waiting for the payment to clear",
    "open_promise": "an open promise to pay is not yet due",
    "no_debt": "the debtor has no debt",
}

# What a supervisor's override (``ivr call --override-caps``) may pass: the
# frequency limits, never the window, a holiday, a blocked date, an opt-out,
# a wrong number, a closed debt, an open promise or a call in progress.
OVERRIDABLE = frozenset({"daily_cap", "weekly_cap", "min_gap", "retry_wait"})


@dataclass(frozen=True)
class Reason:
    """Why a person cannot be called now (``until``: earliest clear time, if known)."""

    code: str
    message: str
    detail: dict[str, Any] = field(default_factory=dict)
    until: dt.datetime | None = None


@dataclass(frozen=True)
class Explanation:
    """The verdict, every reason against it, and what a claim would dial."""

    callable: bool
    reasons: list[Reason]
    debtor_id: int
    debt_id: int | None = None
    campaign_id: int | None = None
    phone_id: int | None = None
    to_number: str | None = None
    zones: tuple[str, ...] = ()
    local_day: dt.date | None = None
    wake_at: dt.datetime | None = None  # when the planner should look again
    windows: tuple[Window, ...] = ()  # the hours that applied (campaign, country, law)
    blocked: frozenset[dt.date] = frozenset()
    country: str = "BR"
    region: str | None = None
    waived: tuple[str, ...] = ()  # reason codes a supervisor's override set aside

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]

    def waive(self, codes: frozenset[str]) -> Explanation:
        """The verdict with the ``codes`` reasons set aside (only :data:`OVERRIDABLE` ones)."""
        codes = codes & OVERRIDABLE
        left = [r for r in self.reasons if r.code not in codes]
        waived = tuple(r.code for r in self.reasons if r.code in codes)
        ok = not left and self.debt_id is not None and self.to_number is not None
        return dataclasses.replace(self, reasons=left, callable=ok, waived=waived)


@dataclass(frozen=True)
class CampaignRules:
    id: int
    active: bool
    policy: CapPolicy
    country: str
    windows: tuple[Window, ...]  # empty: the country's defaults
    blocked: frozenset[dt.date]
    max_concurrent: int
    paid_pause_business_days: int = 2


@dataclass(frozen=True)
class PhoneRow:
    id: int
    e164: str
    position: int
    wrong_number_at: dt.datetime | None


@dataclass(frozen=True)
class DebtRow:
    id: int
    status: str
    campaign_id: int | None
    due_date: dt.date
    paused_until: dt.datetime | None


@dataclass(frozen=True)
class PromiseRow:
    id: int
    debt_id: int
    promised_date: dt.date


@dataclass(frozen=True)
class CallbackRow:
    id: int
    debt_id: int | None
    due_at: dt.datetime


@dataclass
class DebtorSnapshot:
    """Everything :func:`evaluate` reads about one person, loaded in bulk."""

    id: int
    country: str
    region: str | None
    timezone: str | None
    opted_out_at: dt.datetime | None
    quiet_until: dt.datetime | None
    phones: list[PhoneRow] = field(default_factory=list)
    debts: list[DebtRow] = field(default_factory=list)
    attempts: list[PastAttempt] = field(default_factory=list)
    promises: list[PromiseRow] = field(default_factory=list)
    callbacks: list[CallbackRow] = field(default_factory=list)

    def valid_phones(self) -> list[PhoneRow]:
        return dialable(self.phones)

    def zones(self) -> tuple[str, ...]:
        return debtor_zones(self.timezone, self.phones, self.country)

    def countries(self) -> tuple[str, ...]:
        return debtor_countries(self.country, [p.e164 for p in self.valid_phones()])


def id_in(session: AsyncSession, column: Any, ids: Sequence[int]) -> Any:
    """``column IN ids``; on PostgreSQL one array parameter (``= ANY``), cheap to compile."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))
    return column.in_(list(ids))


def _reason(code: str, until: dt.datetime | None = None, **detail: Any) -> Reason:
    return Reason(code, MESSAGES[code], detail, until)


def windows_for(rules: CampaignRules | None, countries: tuple[str, ...]) -> tuple[Window, ...]:
    """The campaign's hours for its own country's debtors, the defaults for
    anyone else, and never past the law (see ``scheduler.legal``)."""
    if rules is None:
        return effective_windows((), None, countries)
    return effective_windows(rules.windows, rules.country, countries)


def evaluate(
    snap: DebtorSnapshot,
    campaigns: dict[int, CampaignRules],
    now: dt.datetime,
    *,
    callback: CallbackRow | None = None,
) -> Explanation:
    """Decide whether ``snap`` may be called at ``now``, listing every reason if not.

    ``callback`` is set when the call is one the debtor asked for: it waives
    the quiet days after a conversation (they asked) but no other limit.
    """
    reasons: list[Reason] = []
    zones = snap.zones()
    primary = zones[0]
    today = local_day(now, primary)

    # The person.
    if snap.opted_out_at is not None:
        reasons.append(_reason("opted_out", since=snap.opted_out_at.isoformat()))
    if snap.quiet_until is not None and snap.quiet_until > now:
        reasons.append(
            _reason("debtor_quiet", snap.quiet_until, quiet_until=snap.quiet_until.isoformat())
        )
    phones = snap.valid_phones()
    if not phones:
        reasons.append(_reason("no_valid_phone", phones=[p.e164 for p in snap.phones]))
    if callback is None:
        later = [c for c in snap.callbacks if c.due_at > now]
        if later:
            first = min(c.due_at for c in later)
            reasons.append(_reason("callback_scheduled", first, due_at=first.isoformat()))

    # The debts: at least one must be callable.
    open_promises: dict[int, list[PromiseRow]] = defaultdict(list)
    for p in snap.promises:
        open_promises[p.debt_id].append(p)
    candidates: list[DebtRow] = []
    debt_reasons: dict[int, list[Reason]] = {}
    for debt in snap.debts:
        why: list[Reason] = []
        if debt.status != DebtStatus.OPEN:
            why.append(_reason("debt_not_open", debt_id=debt.id, status=debt.status))
        rules = campaigns.get(debt.campaign_id) if debt.campaign_id is not None else None
        if debt.campaign_id is None or rules is None:
            why.append(_reason("no_campaign", debt_id=debt.id))
        elif not rules.active:
            why.append(_reason("campaign_paused", debt_id=debt.id, campaign_id=rules.id))
        if debt.paused_until is not None and debt.paused_until > now:
            why.append(
                _reason(
                    "paid_pause",
                    debt.paused_until,
                    debt_id=debt.id,
                    paused_until=debt.paused_until.isoformat(),
                )
            )
        pending = [p for p in open_promises.get(debt.id, []) if p.promised_date >= today]
        if pending:
            last = max(p.promised_date for p in pending)
            why.append(
                _reason(
                    "open_promise",
                    local_midnight_utc(last + dt.timedelta(days=1), primary),
                    debt_id=debt.id,
                    promised_date=last.isoformat(),
                )
            )
        debt_reasons[debt.id] = why
        if not why:
            candidates.append(debt)
    if not snap.debts:
        reasons.append(_reason("no_debt"))
    debt_until: dt.datetime | None = None
    if not candidates:
        for debt in snap.debts:
            reasons.extend(debt_reasons[debt.id])
        clear_times = [_all_clear(debt_reasons[d.id]) for d in snap.debts]
        known = [t for t in clear_times if t is not None]
        debt_until = min(known) if known else None

    chosen = _choose_debt(candidates, callback)
    active_rules = [
        campaigns[d.campaign_id]
        for d in snap.debts
        if d.status == DebtStatus.OPEN and d.campaign_id in campaigns
    ]
    rules = campaigns.get(chosen.campaign_id) if chosen and chosen.campaign_id else None
    if rules is None and active_rules:
        rules = active_rules[0]
    countries = snap.countries()
    windows = windows_for(rules, countries)
    blocked = rules.blocked if rules else frozenset()

    # Where and when.
    closed = closed_reasons(now, zones, windows, snap.country, snap.region, blocked)
    window_codes: dict[str, list[str]] = defaultdict(list)
    for zone, codes in closed.items():
        for code in codes:
            window_codes[code].append(zone)
    for code, in_zones in window_codes.items():
        reasons.append(
            _reason(
                code,
                zones=in_zones,
                local_times=_local_times(now, in_zones),
                countries=list(countries),
            )
        )

    # How often.
    policy = _policy(tuple(r.policy for r in active_rules), snap.country)
    for block in cap_blocks(snap.attempts, now, zones, policy, waive_quiet=callback is not None):
        until = block.until
        if block.code == "in_progress":
            until = now + IN_PROGRESS_RECHECK
        reasons.append(Reason(block.code, block.message, block.detail, until))

    phone = _choose_phone(phones, snap.attempts)
    ok = not reasons and chosen is not None and phone is not None
    wake: dt.datetime | None = None
    if not ok:
        wake = _wake_at(reasons, debt_until, now, zones, windows, snap, blocked)
    return Explanation(
        callable=ok,
        reasons=reasons,
        debtor_id=snap.id,
        debt_id=chosen.id if chosen else None,
        campaign_id=chosen.campaign_id if chosen else None,
        phone_id=phone.id if phone else None,
        to_number=phone.e164 if phone else None,
        zones=zones,
        local_day=today,
        wake_at=wake,
        windows=windows,
        blocked=blocked,
        country=snap.country,
        region=snap.region,
    )


@functools.lru_cache(maxsize=1024)
def _policy(policies: tuple[CapPolicy, ...], country: str) -> CapPolicy:
    return CapPolicy.strictest(policies).with_floor(country)


_WINDOW_CODES = frozenset({"outside_window", "holiday", "blocked_date"})
_DEBT_CODES = frozenset(
    {"debt_not_open", "no_campaign", "campaign_paused", "paid_pause", "open_promise"}
)


def _all_clear(reasons: Sequence[Reason]) -> dt.datetime | None:
    """When every reason in the list has cleared (None: one never clears by itself)."""
    if any(r.until is None for r in reasons):
        return None
    return max((r.until for r in reasons if r.until is not None), default=None)


def _wake_at(
    reasons: Sequence[Reason],
    debt_until: dt.datetime | None,
    now: dt.datetime,
    zones: Sequence[str],
    windows: Sequence[Window],
    snap: DebtorSnapshot,
    blocked: frozenset[dt.date],
) -> dt.datetime:
    """The earliest instant worth looking again: every block cleared and a window open."""
    base = now
    for r in reasons:
        if r.code in _WINDOW_CODES or r.code in _DEBT_CODES:
            continue
        if r.until is None:
            return now + PARK
        base = max(base, r.until)
    if any(r.code in _DEBT_CODES for r in reasons):
        if debt_until is None:
            return now + PARK
        base = max(base, debt_until)
    opening = next_open(base, zones, windows, snap.country, snap.region, blocked)
    if opening is None:
        return now + PARK
    return max(opening, now + dt.timedelta(seconds=1))


def _choose_debt(candidates: Sequence[DebtRow], callback: CallbackRow | None) -> DebtRow | None:
    if callback is not None and callback.debt_id is not None:
        for d in candidates:
            if d.id == callback.debt_id:
                return d
    return min(candidates, key=lambda d: (d.due_date, d.id), default=None)


def _choose_phone(phones: Sequence[PhoneRow], history: Sequence[PastAttempt]) -> PhoneRow | None:
    """Rotate numbers: the one tried least recently (never tried first), then by position."""
    last: dict[int, dt.datetime] = {}
    for a in history:
        if a.phone_id is not None:
            last[a.phone_id] = max(last.get(a.phone_id, a.claimed_at), a.claimed_at)
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    return min(phones, key=lambda p: (last.get(p.id, epoch), p.position, p.id), default=None)


def _local_times(now: dt.datetime, zones: Iterable[str]) -> dict[str, str]:
    from zoneinfo import ZoneInfo

    return {z: now.astimezone(ZoneInfo(z)).strftime("%a %Y-%m-%d %H:%M") for z in zones if z}


# --- loading ---------------------------------------------------------------


async def _core(session: AsyncSession, stmt: Any) -> Any:
    """Run a column select on the session's connection: plain rows, no ORM overhead."""
    conn = await session.connection()
    return await conn.execute(stmt)


async def load_campaign_rules(
    session: AsyncSession, campaign_ids: Iterable[int]
) -> dict[int, CampaignRules]:
    ids = sorted(set(campaign_ids))
    if not ids:
        return {}
    rows = (
        await _core(
            session,
            select(
                Campaign.id,
                Campaign.active,
                Campaign.country,
                Campaign.daily_cap,
                Campaign.weekly_cap,
                Campaign.min_gap_minutes,
                Campaign.quiet_days_after_rpc,
                Campaign.blocked_dates,
                Campaign.max_concurrent_calls,
                Campaign.paid_pause_business_days,
                Campaign.retry_delays_minutes,
            ).where(Campaign.id.in_(ids)),
        )
    ).all()
    wins: dict[int, list[Window]] = defaultdict(list)
    for w in (
        await _core(
            session,
            select(CallWindow.campaign_id, CallWindow.weekday, CallWindow.start, CallWindow.end)
            .where(CallWindow.campaign_id.in_(ids))
            .order_by(CallWindow.id),
        )
    ).all():
        wins[w.campaign_id].append(Window(w.weekday, w.start, w.end))
    return {
        r.id: CampaignRules(
            id=r.id,
            active=r.active,
            country=str(r.country or "BR").upper(),
            policy=CapPolicy(
                daily_cap=r.daily_cap,
                weekly_cap=r.weekly_cap,
                min_gap=dt.timedelta(minutes=r.min_gap_minutes),
                quiet_days_after_contact=r.quiet_days_after_rpc,
                retry_delays=tuple(
                    dt.timedelta(minutes=int(m)) for m in (r.retry_delays_minutes or [])
                ),
            ),
            windows=tuple(wins.get(r.id, ())),
            blocked=parse_blocked(r.blocked_dates or []),
            max_concurrent=r.max_concurrent_calls,
            paid_pause_business_days=r.paid_pause_business_days,
        )
        for r in rows
    }


async def load_snapshots(
    session: AsyncSession, debtor_ids: Sequence[int], now: dt.datetime
) -> tuple[dict[int, DebtorSnapshot], dict[int, CampaignRules]]:
    """Load what :func:`evaluate` needs for many debtors in a handful of queries."""
    ids = list(dict.fromkeys(debtor_ids))
    if not ids:
        return {}, {}
    snaps: dict[int, DebtorSnapshot] = {}
    phones_seen: set[int] = set()
    debt_ids: list[int] = []
    campaign_ids: set[int] = set()
    # One round trip for the person, their numbers and their debts (the
    # product is small: people have one or two of each).
    rows = (
        await _core(
            session,
            select(
                Debtor.id,
                Debtor.country,
                Debtor.region,
                Debtor.timezone,
                Debtor.opted_out_at,
                Debtor.quiet_until,
                Phone.id.label("phone_id"),
                Phone.e164,
                Phone.position,
                Phone.wrong_number_at,
                Debt.id.label("debt_id"),
                Debt.status,
                Debt.campaign_id,
                Debt.due_date,
                Debt.paused_until,
            )
            .select_from(Debtor)
            .outerjoin(Phone, Phone.debtor_id == Debtor.id)
            .outerjoin(Debt, Debt.debtor_id == Debtor.id)
            .where(id_in(session, Debtor.id, ids))
            .order_by(Debtor.id, Phone.position, Phone.id, Debt.id),
        )
    ).all()
    for r in rows:
        snap = snaps.get(r.id)
        if snap is None:
            snap = snaps[r.id] = DebtorSnapshot(
                r.id, r.country, r.region, r.timezone, r.opted_out_at, r.quiet_until
            )
        if r.phone_id is not None and r.phone_id not in phones_seen:
            phones_seen.add(r.phone_id)
            snap.phones.append(PhoneRow(r.phone_id, r.e164, r.position, r.wrong_number_at))
        if r.debt_id is not None and all(d.id != r.debt_id for d in snap.debts):
            snap.debts.append(
                DebtRow(r.debt_id, str(r.status), r.campaign_id, r.due_date, r.paused_until)
            )
            debt_ids.append(r.debt_id)
            if r.campaign_id is not None:
                campaign_ids.add(r.campaign_id)
    campaigns = await load_campaign_rules(session, campaign_ids)

    quiet = max((c.policy.quiet_days_after_contact for c in campaigns.values()), default=0)
    lookback = max(ROLLING_WINDOW, dt.timedelta(days=max(quiet, 7))) + dt.timedelta(days=1)
    live = [s.value for s in LIVE_ATTEMPT_STATUSES]
    for ra in (
        await _core(
            session,
            select(
                CallAttempt.debtor_id,
                CallAttempt.id,
                CallAttempt.claimed_at,
                CallAttempt.status,
                CallAttempt.outcome,
                CallAttempt.ended_at,
                CallAttempt.phone_id,
            ).where(
                id_in(session, CallAttempt.debtor_id, ids),
                # A long call (or one settled late) counts from when it ended.
                or_(
                    CallAttempt.claimed_at > now - lookback,
                    CallAttempt.ended_at > now - lookback,
                    CallAttempt.status.in_(live),
                ),
            ),
        )
    ).all():
        snaps[ra.debtor_id].attempts.append(
            PastAttempt(ra.claimed_at, str(ra.status), ra.outcome, ra.ended_at, ra.phone_id, ra.id)
        )
    if debt_ids:
        debt_owner = {d.id: s.id for s in snaps.values() for d in s.debts}
        for rq in (
            await _core(
                session,
                select(Promise.id, Promise.debt_id, Promise.promised_date).where(
                    id_in(session, Promise.debt_id, debt_ids), Promise.status == PromiseStatus.OPEN
                ),
            )
        ).all():
            snaps[debt_owner[rq.debt_id]].promises.append(
                PromiseRow(rq.id, rq.debt_id, rq.promised_date)
            )
    for rc in (
        await _core(
            session,
            select(Callback.debtor_id, Callback.id, Callback.debt_id, Callback.due_at).where(
                id_in(session, Callback.debtor_id, ids), Callback.status == CallbackStatus.PENDING
            ),
        )
    ).all():
        snaps[rc.debtor_id].callbacks.append(CallbackRow(rc.id, rc.debt_id, rc.due_at))
    return snaps, campaigns


async def explain(session: AsyncSession, debtor_id: int, now: dt.datetime) -> Explanation:
    """Why (not) call this debtor at ``now``: every reason, for the supervisor API."""
    snaps, campaigns = await load_snapshots(session, [debtor_id], now)
    snap = snaps.get(debtor_id)
    if snap is None:
        raise LookupError(f"no debtor {debtor_id}")
    return evaluate(snap, campaigns, now)


async def wake_debtors(
    session: AsyncSession,
    *,
    debtor_ids: Sequence[int] | None = None,
    campaign_id: int | None = None,
) -> int:
    """Ask the planner to look at these debtors again at once.

    Call after anything that can make a parked debtor callable: a new debt, a
    campaign resumed or its windows changed, an opt-out withdrawn. Waking is
    always safe: the claim re-checks every rule.
    """
    stmt = update(Debtor).values(next_attempt_at=None, updated_at=Debtor.updated_at)
    if debtor_ids is not None:
        stmt = stmt.where(Debtor.id.in_(list(debtor_ids)))
    if campaign_id is not None:
        stmt = stmt.where(
            Debtor.id.in_(select(Debt.debtor_id).where(Debt.campaign_id == campaign_id))
        )
    result = await session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)
