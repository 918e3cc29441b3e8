"""Rules about writing to a person: their consent for SMS, a mobile number to
write to (no number-level block on it), and the day's SMS cap.

The windows, holidays and blocked dates are the calls' own
(``scheduler.reasons_window``), and so is the person's status; this module
holds only what differs for a written message. One module per kind of rule;
``scheduler.eligibility_sms`` joins them.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence

import phonenumbers

from ivr.vocab.debtors import NO_CONTACT_STATUSES
from scheduler.reasons import Reason, reason
from scheduler.reasons_person import dnc_reason
from scheduler.snapshot import DebtorSnapshot, PhoneRow, SmsFacts
from scheduler.zones import dialable

# The campaign's default (``Campaign.sms_daily_cap``): used when the person has
# no campaign to read one from.
DEFAULT_SMS_DAILY_CAP = 1

# Countries whose numbering plan does not tell mobiles from landlines
# (``phonenumbers`` answers FIXED_LINE_OR_MOBILE): a number of theirs may be texted.
AMBIGUOUS_MOBILE_COUNTRIES = frozenset({"US"})


@functools.lru_cache(maxsize=65536)
def is_mobile(e164: str) -> bool:
    """A number an SMS can reach: a mobile, or a US number (the plan cannot tell)."""
    try:
        parsed = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return False
    if not phonenumbers.is_valid_number(parsed):
        return False
    kind = phonenumbers.number_type(parsed)
    if kind == phonenumbers.PhoneNumberType.MOBILE:
        return True
    return (
        kind == phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE
        and phonenumbers.region_code_for_number(parsed) in AMBIGUOUS_MOBILE_COUNTRIES
    )


def sms_phones(snap: DebtorSnapshot) -> list[PhoneRow]:
    """The numbers an SMS may go to, in the person's order: well formed, not
    marked wrong, not opted out at the number, and mobile."""
    return [p for p in snap.valid_phones() if is_mobile(p.e164)]


def sms_person_reasons(
    snap: DebtorSnapshot, facts: SmsFacts, phones: Sequence[PhoneRow]
) -> list[Reason]:
    """Why the person may not be written to at all (``phones``: :func:`sms_phones`)."""
    out: list[Reason] = []
    if snap.status in NO_CONTACT_STATUSES:
        out.append(reason("deceased_review"))
    if facts.sms_opted_out_at is not None:
        out.append(reason("sms_opted_out", since=facts.sms_opted_out_at.isoformat()))
    if not facts.sms_allowed:
        out.append(reason("sms_not_allowed"))
    if not phones:
        usable = dialable(snap.phones)
        stopped = [p for p in usable if p.opted_out_at is not None]
        out.append(
            reason(
                "no_mobile_number",
                phones=[p.e164 for p in snap.phones],
                not_mobile=[p.e164 for p in usable if not is_mobile(p.e164)],
            )
        )
        if stopped:
            since = min(p.opted_out_at for p in stopped if p.opted_out_at is not None)
            out.append(
                reason(
                    "number_opted_out", phones=[p.e164 for p in stopped], since=since.isoformat()
                )
            )
        listed = dnc_reason(snap.phones)
        if listed is not None:
            out.append(listed)
    return out


def sms_cap(facts: SmsFacts, campaign_ids: Sequence[int]) -> int:
    """The strictest SMS cap of the person's campaigns (the default when none)."""
    caps = [facts.daily_caps[c] for c in campaign_ids if c in facts.daily_caps]
    return min(caps) if caps else DEFAULT_SMS_DAILY_CAP


def sms_cap_reason(sent_today: int, cap: int, next_day: dt.datetime) -> Reason | None:
    """The day's SMS cap reached: clears at the person's next local midnight."""
    if sent_today < cap:
        return None
    return Reason(
        "sms_daily_cap",
        f"{sent_today} SMS already sent on the debtor's day; the limit is {cap} a day",
        {"sent_today": sent_today, "daily_cap": cap},
        next_day,
    )
