"""The reasons a person cannot be called, and the words a supervisor reads for each.

Every rule module (``scheduler.reasons_person``, ``reasons_debt``,
``reasons_window``, ``reasons_caps``) answers in :class:`Reason`; the
wording lives here in one table so the API, the console and ``ivr call``
say the same thing for the same code. The cap reasons carry their own
message (it quotes the limit) from ``scheduler.caps``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from scheduler.frozen import direct_init

MESSAGES = {
    "outside_window": "outside the call window in the debtor's local time",
    "holiday": "a public holiday where the debtor lives",
    "blocked_date": "a date the supervisor blocked",
    "no_timezone": "the debtor's time zone is unknown",
    "opted_out": "the debtor asked not to be called",
    "calls_not_allowed": "calls are not allowed for this debtor (the file or their choice)",
    "deceased_review": (
        "reported deceased on a call: no contact at all until a supervisor reviews the case"
    ),
    "number_opted_out": "someone at this number asked not to be called there",
    "number_on_dnc_list": (
        "the number is on a do-not-call list (e.g. Não Me Ligue): never called nor written to"
    ),
    "debtor_quiet": "calls to this debtor are paused",
    "no_valid_phone": "no valid phone number",
    "callback_scheduled": "the debtor asked to be called back at a later time",
    "debt_not_open": "the debt is paid, disputed or closed",
    "no_campaign": "the debt belongs to no campaign",
    "campaign_paused": "the campaign is paused",
    "paid_pause": "the debtor said they paid; waiting for the payment to clear",
    "open_promise": "an open promise to pay is not yet due",
    "broken_promise_followup": (
        "a promise or instalment was broken: the campaign waits a few days"
        " (a late payment often arrives) before calling about it again"
    ),
    "no_debt": "the debtor has no debt",
    "inbound_today": (
        "the debtor called us today and was verified: no calls from us for the rest of"
        " their local day (campaign setting; a callback they asked for is still made)"
    ),
    # SMS (scheduler.reasons_sms): the same windows, their own consent and cap.
    "sms_opted_out": "the debtor asked not to receive SMS (SAIR / STOP)",
    "sms_not_allowed": "SMS to this debtor is not allowed (the creditor's file or their choice)",
    "no_mobile_number": "no mobile number to send an SMS to",
}


@direct_init
@dataclass(frozen=True)
class Reason:
    """Why a person cannot be called now (``until``: earliest clear time, if known)."""

    code: str
    message: str
    detail: dict[str, Any] = field(default_factory=dict)
    until: dt.datetime | None = None


def reason(code: str, until: dt.datetime | None = None, **detail: Any) -> Reason:
    """A reason with the supervisor's wording for ``code``."""
    return Reason(code, MESSAGES[code], detail, until)


def all_clear(reasons: Sequence[Reason]) -> dt.datetime | None:
    """When every reason in the list has cleared (None: one never clears by itself)."""
    if any(r.until is None for r in reasons):
        return None
    return max((r.until for r in reasons if r.until is not None), default=None)
