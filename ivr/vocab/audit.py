"""The audit log's words: what kind of thing changed (``AuditEntity``) and how (``AuditAction``).

Every change a person makes to how the service behaves (a campaign setting,
a do-not-call list, a user) is written to ``audit_log`` with one entity kind
and one action from here, so the console can filter on them and a report
can count them.

Entity kinds:

* ``campaign`` -- a campaign's settings (caps, pacing, names, blocked dates...).
* ``campaign_window`` -- a campaign's weekly call windows (id: the campaign's).
* ``creditor`` -- a creditor's settings, e.g. its Pix key.
* ``spoken_form`` -- how the voice says a creditor's name.
* ``debtor`` -- a person's record: channels, opt-outs, LGPD requests.
* ``debt`` -- one debt's settings, e.g. its payment details (link, Pix, boleto).
* ``plan`` -- a payment plan.
* ``payment`` -- a payment recorded by hand (id: the payment's) or a payments
  file imported (id: ``import``).
* ``dnc`` -- a do-not-call list (id: its name) or one of its numbers (id: the
  number masked, ``+55*******4321``).
* ``user`` -- a user account (and the agent it may be).

Actions:

* ``create`` / ``update`` / ``delete`` -- the plain life of a row.
* ``pause`` / ``resume`` -- a campaign stops or starts placing calls.
* ``replace`` -- a set (windows, dates) replaced as a whole.
* ``add`` / ``remove`` / ``import`` -- members of a list.
* ``opt_out`` / ``opt_in`` -- a person's consent to a channel.
* ``schedule`` -- a call booked for a person at a given instant.
* ``disable`` / ``enable`` -- a user may or may not sign in.
* ``password_reset`` -- a user's password was set by someone else (never with values).
* ``export`` / ``anonymise`` -- LGPD requests on a person's data.
"""

from __future__ import annotations

import enum


class AuditEntity(enum.StrEnum):
    CAMPAIGN = "campaign"
    CAMPAIGN_WINDOW = "campaign_window"
    CREDITOR = "creditor"
    SPOKEN_FORM = "spoken_form"
    DEBTOR = "debtor"
    DEBT = "debt"
    PLAN = "plan"
    PAYMENT = "payment"
    DNC = "dnc"
    USER = "user"


class AuditAction(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    PAUSE = "pause"
    RESUME = "resume"
    REPLACE = "replace"
    ADD = "add"
    REMOVE = "remove"
    IMPORT = "import"
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    SCHEDULE = "schedule"
    DISABLE = "disable"
    ENABLE = "enable"
    PASSWORD_RESET = "password_reset"
    EXPORT = "export"
    ANONYMISE = "anonymise"
