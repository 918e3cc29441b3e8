"""The typed data model: one ``DeclarativeBase`` for every table.

Money is kept in integer cents; instants are UTC (``UTCDateTime`` restores
the zone that SQLite drops); a debtor's local calendar lives in their IANA
time zone, resolved by the scheduler. Schema changes go through alembic
(``ivr/store/migrations``), never ``create_all`` in production code.

The tables are split by aggregate (campaigns, creditors, debtors, calls, agents, users, messages)
so each module reads as one part of the schema; everything stays importable
from ``ivr.store.models``, as the rest of the code and the migrations import
it. The status enums are the shared vocabularies of :mod:`ivr.vocab` (see
there what each value means), re-exported here with the tables.
"""

from __future__ import annotations

from ivr.store.models.agents import Agent, Transfer
from ivr.store.models.audit import AuditEntry
from ivr.store.models.base import NAMING, Base, UTCDateTime, string_enum, utcnow
from ivr.store.models.calls import CallAttempt, CallEvent, PacingSlot
from ivr.store.models.campaigns import CallWindow, Campaign
from ivr.store.models.creditors import Creditor, CreditorSpokenForm
from ivr.store.models.debtors import (
    Callback,
    Debt,
    Debtor,
    DebtorReview,
    NumberOptOut,
    OptOut,
    Payment,
    PaymentPlan,
    Phone,
    Promise,
)
from ivr.store.models.dnc import DebtorAction, DncNumber
from ivr.store.models.messages import SmsMessage, SmsNumberOptOut
from ivr.store.models.reports import DailyCampaignStats, RollupWatermark
from ivr.store.models.users import AuthSession, LoginThrottle, User
from ivr.vocab.attempts import FINAL_ATTEMPT_STATUSES, LIVE_ATTEMPT_STATUSES, AttemptStatus
from ivr.vocab.debtors import DebtorStatus, ReviewKind
from ivr.vocab.debts import CallbackStatus, DebtStatus, PlanSource, PlanStatus, PromiseStatus
from ivr.vocab.outcomes import Outcome
from ivr.vocab.staff import Presence, Role
from ivr.vocab.transfers import TransferOutcome, TransferStatus

__all__ = [
    "FINAL_ATTEMPT_STATUSES",
    "LIVE_ATTEMPT_STATUSES",
    "NAMING",
    "Agent",
    "AttemptStatus",
    "AuditEntry",
    "AuthSession",
    "Base",
    "CallAttempt",
    "CallEvent",
    "CallWindow",
    "Callback",
    "CallbackStatus",
    "Campaign",
    "Creditor",
    "CreditorSpokenForm",
    "DailyCampaignStats",
    "Debt",
    "DebtStatus",
    "Debtor",
    "DebtorAction",
    "DebtorReview",
    "DebtorStatus",
    "DncNumber",
    "LoginThrottle",
    "NumberOptOut",
    "OptOut",
    "Outcome",
    "PacingSlot",
    "Payment",
    "PaymentPlan",
    "Phone",
    "PlanSource",
    "PlanStatus",
    "Presence",
    "Promise",
    "PromiseStatus",
    "ReviewKind",
    "Role",
    "RollupWatermark",
    "SmsMessage",
    "SmsNumberOptOut",
    "Transfer",
    "TransferOutcome",
    "TransferStatus",
    "UTCDateTime",
    "User",
    "string_enum",
    "utcnow",
]
