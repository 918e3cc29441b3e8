"""What the eligibility rules read about one person and their campaigns, as plain rows.

Kept apart from both the rules (``scheduler.eligibility`` and its
``scheduler.reasons_*`` modules) and the queries that fill it
(``scheduler.eligibility_load``), so the pure evaluation can be run on rows
built by hand (tests, a callback's planning) and the loading can change
without touching a rule.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ivr.vocab.debtors import DebtorStatus
from scheduler.caps import CapPolicy, PastAttempt
from scheduler.frozen import direct_init
from scheduler.legal import phone_countries
from scheduler.windows import Window
from scheduler.zones import debtor_zones, dialable


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
    followup_after_broken_days: int = 2
    # A verified conversation on a call the person placed to us keeps our
    # calls away for the rest of their local day (reasons_caps.inbound_reasons).
    inbound_suppresses_today: bool = True


@direct_init
@dataclass(frozen=True)
class PhoneRow:
    id: int
    e164: str
    position: int
    wrong_number_at: dt.datetime | None
    # Someone at this number asked not to be called (before saying who they were).
    opted_out_at: dt.datetime | None = None
    # The do-not-call lists the number is on (``dnc_numbers``): never dialed nor
    # written to while listed.
    dnc_lists: tuple[str, ...] = ()
    # The number's stored facts (``ivr.number_facts``; None: not stored, parsed
    # when read): its country and the time zones its prefix spans.
    number_country: str | None = None
    number_zones: str | None = None


@direct_init
@dataclass(frozen=True)
class DebtRow:
    id: int
    status: str
    campaign_id: int | None
    due_date: dt.date
    paused_until: dt.datetime | None


@direct_init
@dataclass(frozen=True)
class PromiseRow:
    """An open promise, or a recently broken one (the follow-up wait reads it).

    ``shields``: an open promise keeps calls away until its date; an open
    instalment of a broken plan does not (the plan needs a conversation).
    """

    id: int
    debt_id: int
    promised_date: dt.date
    status: str = "open"
    shields: bool = True


@direct_init
@dataclass(frozen=True)
class CallbackRow:
    id: int
    debt_id: int | None
    due_at: dt.datetime


@dataclass
class DebtorSnapshot:
    """Everything :func:`scheduler.eligibility.evaluate` reads about one person, loaded in bulk."""

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
    status: str = DebtorStatus.ACTIVE
    # False: the creditor's file or the debtor allows no calls (SMS may still be).
    calls_allowed: bool = True

    def valid_phones(self) -> list[PhoneRow]:
        """The numbers a call may dial: well formed, not wrong, not opted out, on
        no do-not-call list. (Time zones still read every number: an opted-out
        one says where the person lives as well as any.)"""
        return [p for p in dialable(self.phones) if p.opted_out_at is None and not p.dnc_lists]

    def zones(self) -> tuple[str, ...]:
        return debtor_zones(self.timezone, self.phones, self.country)

    def countries(self) -> tuple[str, ...]:
        return phone_countries(self.country, self.valid_phones())


@dataclass(frozen=True)
class SmsFacts:
    """What the SMS rules read beyond the person's snapshot: their consent for
    written messages, the messages already counted on their local day, and the
    SMS cap of each of their campaigns (``scheduler.eligibility_sms``)."""

    sms_opted_out_at: dt.datetime | None
    sms_allowed: bool
    sent_today: int
    daily_caps: dict[int, int] = field(default_factory=dict)  # campaign id -> sms_daily_cap
