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
