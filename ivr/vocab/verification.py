"""How sure the call must be of who answered before it says what it is about.

A campaign picks one policy; nothing about the debt (the creditor, the amount,
even that there is a debt) is said before the policy is met.

* ``name`` -- a clear yes to "é você, {first_name}?" / "is this {first_name}?".
* ``name_and_factor`` -- that yes, then a factor only the person knows: the
  birth year, or the last digits of the document number imported with the
  debtor (CPF in Brazil, Social Security number in the US). Three failed
  attempts end the call politely, having disclosed nothing.

Outbound calls reach a number we chose, so the name suffices by default;
an inbound caller could be anyone who knows a name, so inbound calls ask for
a factor by default.
"""

from __future__ import annotations

import enum


class VerificationPolicy(enum.StrEnum):
    NAME = "name"
    NAME_AND_FACTOR = "name_and_factor"


#: The policy of a campaign that does not choose one, by call direction.
OUTBOUND_DEFAULT = VerificationPolicy.NAME
INBOUND_DEFAULT = VerificationPolicy.NAME_AND_FACTOR
