"""The people who use the service: their role, and an agent's presence.

Role (of a user of the API and the console):

* ``supervisor`` -- sets campaigns, windows and caps, reads every report,
  manages agents; passes every permission check.
* ``agent`` -- takes transfers and reads what they need for a call.

Presence (of an agent, which decides who gets a transfer):

* ``available`` -- free: may be offered the next transfer.
* ``busy`` -- on a call or wrapping one up (set by calls, never by hand).
* ``away`` -- signed in, not taking calls.
* ``offline`` -- not signed in.
"""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    SUPERVISOR = "supervisor"
    AGENT = "agent"


class Presence(enum.StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"
    AWAY = "away"
    OFFLINE = "offline"
