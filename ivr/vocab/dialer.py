"""Whether a campaign's dialer is placing calls now, and if not, why: the
``state`` the wallboard shows for each campaign.

* ``running`` -- calls are being placed (or people are due and the next
  tick takes them).
* ``full`` -- running, with every channel of the campaign in use.
* ``paused`` -- a supervisor paused the campaign.
* ``outside_window`` -- no call window is open now for its debtors (or it is a
  holiday or a blocked date); the wallboard says when one opens.
* ``no_one_callable`` -- open, but nobody may be called now (everyone at the
  cap, waiting out the gap, or nobody left with an open debt); the wallboard
  says when the planner looks again.

``DialerReason`` says which of several causes holds:

* ``outside_window``, ``holiday``, ``blocked_date`` -- why the window is closed
  (the calendar's own codes, see ``scheduler.windows``).
* ``no_open_debts`` -- nobody in the campaign has an open debt left to call about.
* ``waiting`` -- everyone is parked until a later instant (caps, gap, window).
"""

from __future__ import annotations

import enum


class DialerState(enum.StrEnum):
    RUNNING = "running"
    FULL = "full"
    PAUSED = "paused"
    OUTSIDE_WINDOW = "outside_window"
    NO_ONE_CALLABLE = "no_one_callable"


class DialerReason(enum.StrEnum):
    OUTSIDE_WINDOW = "outside_window"
    HOLIDAY = "holiday"
    BLOCKED_DATE = "blocked_date"
    NO_OPEN_DEBTS = "no_open_debts"
    WAITING = "waiting"
