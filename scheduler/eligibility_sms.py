"""May an SMS of this purpose go to this person now, and if not, every reason why.

The SMS half of the one rule book (``scheduler.eligibility`` is the calls'
half): the same windows, holidays, blocked dates and zones as a call
(``scheduler.reasons_window``), the same person status, and the rules only
written messages have (``scheduler.reasons_sms``): SMS consent, a mobile
number, the day's SMS cap. :func:`evaluate_sms` is pure; the reminder job runs
it under the person's row lock and ``explain`` runs it for a supervisor.

Purposes:

* ``reminder`` -- we write first: every rule holds, and the campaign must be active.
* ``payment_details`` -- the debtor asked in a call. While they are on the
  line (``on_call``) the windows are waived: they asked right now, even on an
  inbound call outside the hours we would call them. Consent, the mobile
  number and the cap still hold.
* ``opt_out_confirmation`` / ``opt_in_confirmation`` -- the single answer owed
  to SAIR / VOLTAR, written at once to the number that wrote: no rule holds
  it back (``ivr.store.messages.CAP_EXEMPT_PURPOSES``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from ivr.store.messages import CAP_EXEMPT_PURPOSES
from ivr.vocab.messages import SmsPurpose
from scheduler.reasons import Reason, reason
from scheduler.reasons_debt import open_debt_campaigns
from scheduler.reasons_sms import sms_cap, sms_cap_reason, sms_person_reasons, sms_phones
from scheduler.reasons_window import WINDOW_CODES, window_reasons, windows_for
from scheduler.snapshot import CampaignRules, DebtorSnapshot, SmsFacts
from scheduler.windows import Window, local_day, local_midnight_utc, next_open


@dataclass(frozen=True)
class SmsVerdict:
    """Whether the SMS may go now, every reason against it, and where it would go."""

    allowed: bool
    reasons: list[Reason]
    debtor_id: int
    purpose: SmsPurpose
    on_call: bool = False
    campaign_id: int | None = None
    phone_id: int | None = None
    to_number: str | None = None
    zones: tuple[str, ...] = ()
    local_day: dt.date | None = None
    sent_today: int = 0
    daily_cap: int = 0
    # When it may go at the earliest (now if allowed; None: a reason that
    # never clears by itself, such as an opt-out).
    next_at: dt.datetime | None = None
    windows: tuple[Window, ...] = ()

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]


def evaluate_sms(
    snap: DebtorSnapshot,
    facts: SmsFacts,
    campaigns: dict[int, CampaignRules],
    now: dt.datetime,
    purpose: SmsPurpose,
    *,
    on_call: bool = False,
    campaign_id: int | None = None,
) -> SmsVerdict:
    """Decide whether an SMS of ``purpose`` may go to ``snap`` at ``now``.

    ``campaign_id``: the campaign the message is about (a reminder's promise's
    debt); else the campaigns of the person's open debts. ``on_call``: the
    debtor is on the line and asked (waives the windows for payment details).
    """
    zones = snap.zones()
    primary = zones[0]
    today = local_day(now, primary)
    phones = sms_phones(snap)
    phone = phones[0] if phones else None
    verdict = SmsVerdict(
        allowed=phone is not None,
        reasons=[],
        debtor_id=snap.id,
        purpose=purpose,
        on_call=on_call,
        campaign_id=campaign_id,
        phone_id=phone.id if phone else None,
        to_number=phone.e164 if phone else None,
        zones=zones,
        local_day=today,
        sent_today=facts.sent_today,
        next_at=now,
    )
    if purpose in CAP_EXEMPT_PURPOSES:
        return verdict

    reasons = sms_person_reasons(snap, facts, phones)
    chosen = campaigns.get(campaign_id) if campaign_id is not None else None
    active = open_debt_campaigns(snap, campaigns)
    rules = chosen or (active[0] if active else None)
    if chosen is not None and not chosen.active and not on_call:
        reasons.append(reason("campaign_paused", campaign_id=chosen.id))

    countries = snap.countries()
    windows = windows_for(rules, countries)
    blocked = rules.blocked if rules else frozenset()
    waive_windows = on_call and purpose is SmsPurpose.PAYMENT_DETAILS
    if not waive_windows:
        reasons.extend(
            window_reasons(now, zones, windows, snap.country, snap.region, blocked, countries)
        )
    # The person's cap is the strictest of every campaign they are in.
    cap_ids = [r.id for r in active] + ([campaign_id] if campaign_id is not None else [])
    cap = sms_cap(facts, cap_ids)
    capped = sms_cap_reason(
        facts.sent_today, cap, local_midnight_utc(today + dt.timedelta(days=1), primary)
    )
    if capped is not None:
        reasons.append(capped)

    allowed = not reasons and phone is not None
    next_at: dt.datetime | None = now
    if not allowed:
        next_at = _next_at(
            reasons, now, zones, () if waive_windows else windows, snap, blocked, waive_windows
        )
    return dataclasses.replace(
        verdict,
        allowed=allowed,
        reasons=reasons,
        daily_cap=cap,
        next_at=next_at,
        windows=windows,
    )


def _next_at(
    reasons: Sequence[Reason],
    now: dt.datetime,
    zones: Sequence[str],
    windows: Sequence[Window],
    snap: DebtorSnapshot,
    blocked: frozenset[dt.date],
    waive_windows: bool,
) -> dt.datetime | None:
    """The earliest instant every reason has cleared and a window is open; None
    when a reason never clears by itself."""
    at = now
    for r in reasons:
        if r.code in WINDOW_CODES:
            continue
        if r.until is None:
            return None
        at = max(at, r.until)
    if waive_windows:
        return at
    return next_open(at, zones, windows, snap.country, snap.region, blocked)
