"""Is this person callable now, and if not, every reason why.

One pure function, :func:`evaluate`, decides; the claim runs it inside the
transaction that holds the person's row lock, and
:func:`scheduler.explain.explain` runs the same function for a supervisor's
"why not?". Reasons are listed exhaustively (a supervisor wants all of them,
not the first), and each carries the earliest instant it can clear so the
planner knows when to look again.

The rules themselves are one module per kind: ``scheduler.reasons_person``,
``reasons_debt``, ``reasons_window`` and ``reasons_caps``; this module joins
their answers into one verdict. What they read is ``scheduler.snapshot``,
loaded by ``scheduler.eligibility_load``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from scheduler.frozen import direct_init
from scheduler.legal import phone_countries
from scheduler.reasons import Reason
from scheduler.reasons_caps import cap_policy, cap_reasons, inbound_reasons
from scheduler.reasons_debt import DEBT_CODES, choose_debt, debt_reasons, open_debt_campaigns
from scheduler.reasons_person import choose_phone, person_reasons
from scheduler.reasons_window import WINDOW_CODES, window_reasons, windows_for
from scheduler.snapshot import CallbackRow, CampaignRules, DebtorSnapshot
from scheduler.windows import Window, local_day, next_open

# How long a debtor whose block has no known end is left alone before the
# planner looks again (a new debt, a resumed campaign: see wake_debtors).
PARK = dt.timedelta(days=1)

# What a supervisor's override (``ivr call --override-caps``) may pass: the
# frequency limits, never the window, a holiday, a blocked date, an opt-out,
# a wrong number, a closed debt, an open promise or a call in progress.
OVERRIDABLE = frozenset({"daily_cap", "weekly_cap", "min_gap", "retry_wait"})

_T = TypeVar("_T")


@direct_init
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


class Shared:
    """What the people of one batch have in common, worked out once for all.

    A claim evaluates hundreds of people at one instant against one set of
    campaigns; most share a zone, a country and a campaign, and so share
    whether the window is open there (and, when it is not, when it opens:
    a search over three weeks of boundaries), the hours that apply, the
    caps' policy and the local day. Each key holds every fact its answer
    reads (``tests/unit/test_eligibility_shared_keys.py``). Keys hold the
    campaign rules by identity, so one instance serves one ``campaigns``
    dict and is dropped with it.
    """

    def __init__(self) -> None:
        self._values: dict[tuple[Any, ...], Any] = {}

    def get(self, key: tuple[Any, ...], compute: Callable[..., _T], *args: Any) -> _T:
        """The answer for ``key``, ``compute(*args)`` the first time it is asked."""
        try:
            return self._values[key]
        except KeyError:
            value = self._values[key] = compute(*args)
            return value


def evaluate(
    snap: DebtorSnapshot,
    campaigns: dict[int, CampaignRules],
    now: dt.datetime,
    *,
    callback: CallbackRow | None = None,
    shared: Shared | None = None,
) -> Explanation:
    """Decide whether ``snap`` may be called at ``now``, listing every reason if not.

    ``callback`` is set when the call is one the debtor asked for: it waives
    the quiet days after a conversation and the rest of a day on which they
    called us (they asked) but no other limit. ``shared``: answers already
    worked out for others of the same batch (same ``campaigns``, same ``now``).
    """
    shared = shared if shared is not None else Shared()
    zones = snap.zones()
    primary = zones[0]
    today = shared.get(("day", now, primary), local_day, now, primary)

    phones = snap.valid_phones()
    reasons = person_reasons(snap, phones, now, callback)
    debts = debt_reasons(snap, campaigns, now, today, primary)
    reasons.extend(debts.reasons)

    chosen = choose_debt(debts.candidates, callback)
    active_rules = open_debt_campaigns(snap, campaigns)
    rules = campaigns.get(chosen.campaign_id) if chosen and chosen.campaign_id else None
    if rules is None and active_rules:
        rules = active_rules[0]
    countries = phone_countries(snap.country, phones)  # snap.countries(), phones known
    windows = shared.get(("windows", id(rules), countries), windows_for, rules, countries)
    blocked = rules.blocked if rules else frozenset()
    place = (now, zones, id(rules), countries, snap.country, snap.region)

    reasons.extend(
        shared.get(
            ("window", *place),
            window_reasons,
            now,
            zones,
            windows,
            snap.country,
            snap.region,
            blocked,
            countries,
        )
    )
    policy = shared.get(
        ("policy", snap.country, *map(id, active_rules)), cap_policy, active_rules, snap.country
    )
    reasons.extend(
        cap_reasons(snap, active_rules, now, zones, asked=callback is not None, policy=policy)
    )
    reasons.extend(inbound_reasons(snap, active_rules, now, zones, asked=callback is not None))

    phone = choose_phone(phones, snap.attempts)
    ok = not reasons and chosen is not None and phone is not None
    wake: dt.datetime | None = None
    if not ok:
        base = _blocked_until(reasons, debts.until, now)
        opening = (
            shared.get(
                ("open", base, *place),
                next_open,
                base,
                zones,
                windows,
                snap.country,
                snap.region,
                blocked,
            )
            if base is not None
            else None
        )
        wake = max(opening, now + dt.timedelta(seconds=1)) if opening else now + PARK
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


def _blocked_until(
    reasons: Sequence[Reason], debt_until: dt.datetime | None, now: dt.datetime
) -> dt.datetime | None:
    """When every reason but the window's has cleared (None: one never clears by
    itself); the person is looked at again at the first opening from then."""
    base = now
    for r in reasons:
        if r.code in WINDOW_CODES or r.code in DEBT_CODES:
            continue
        if r.until is None:
            return None
        base = max(base, r.until)
    if any(r.code in DEBT_CODES for r in reasons):
        if debt_until is None:
            return None
        base = max(base, debt_until)
    return base
