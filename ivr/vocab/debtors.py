"""Where a person stands, apart from their debts.

Debtor status:

* ``active`` -- the person may be contacted, subject to every other rule.
* ``deceased_review`` -- someone who answered said the person has died: every
  contact stopped at once, and the case waits in a supervisor's review list
  (who reported it, on which call and number, and when).

Review kinds (why a case is in a supervisor's review list):

* ``deceased`` -- reported dead by whoever answered a call.
"""

from __future__ import annotations

import enum


class DebtorStatus(enum.StrEnum):
    ACTIVE = "active"
    DECEASED_REVIEW = "deceased_review"


class ReviewKind(enum.StrEnum):
    DECEASED = "deceased"


#: Statuses in which no one may contact the person (the rule book refuses them).
NO_CONTACT_STATUSES: frozenset[DebtorStatus] = frozenset({DebtorStatus.DECEASED_REVIEW})


class DebtorActionKind(enum.StrEnum):
    """What a supervisor did about one person from the console (``debtor_actions``):

    * ``opt_out`` / ``opt_in`` -- calls or SMS stopped or allowed again at the
      person's request (the channel is in the action's detail);
    * ``wrong_number`` -- a number is not the person's;
    * ``callback`` -- a call scheduled inside the call windows;
    * ``lgpd_export`` -- the person's data handed over as JSON (LGPD art. 18, II);
    * ``lgpd_anonymise`` -- the person's identifying data removed (art. 18, IV-VI),
      the debt and its payments kept (art. 16, I: a legal obligation).
    """

    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    WRONG_NUMBER = "wrong_number"
    CALLBACK = "callback"
    LGPD_EXPORT = "lgpd_export"
    LGPD_ANONYMISE = "lgpd_anonymise"
