"""The port to the carrier: all the dialer knows of Twilio or the sandbox.

Kept apart from the dialer so the adapters (``ivr.calls.dialer``, the
sandbox's) and the tests' fake carriers depend on this small contract, not
on how placing is paced, retried and reconciled. The errors say what the
dialer may do next: retry (:class:`PlaceCallError` with ``retryable``) or
only reconcile (:class:`PlaceCallUnknown`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

from ivr.store.models import AttemptStatus, CallAttempt, Debtor, Phone


class PlaceCallError(Exception):
    """The carrier refused the request; ``retryable`` only if surely no call was created."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class PlaceCallUnknown(Exception):
    """The request may or may not have created a call (timeout, broken connection)."""


class CarrierCall(Protocol):
    """What the dialer reads about a call the carrier knows."""

    @property
    def sid(self) -> str: ...

    @property
    def status(self) -> str: ...


@runtime_checkable
class PlaceCall(Protocol):
    """The port to the carrier (Twilio or the sandbox).

    A port may also offer ``prepare(attempt_id)`` (see :data:`Prepare`): the
    slow per-call work (rendering the person's prompts) done *before* the
    dialer waits for its pace, so the paced instant is when the request
    leaves, not when a slow render happens to finish.
    """

    async def place(self, attempt: CallAttempt, debtor: Debtor, phone: Phone) -> str:
        """Create the call; return its sid. Raise PlaceCallError / PlaceCallUnknown."""
        ...

    async def fetch(self, call_sid: str) -> CarrierCall | None:
        """The carrier's view of one call (None if it does not exist)."""
        ...

    async def find_calls(self, to: str, after: dt.datetime) -> list[CarrierCall]:
        """Calls to ``to`` created at or after ``after`` (to reconcile a lost sid)."""
        ...


# Optional work before pacing (see PlaceCall); its failure is only logged: what
# it left undone (prompts not rendered) is done during the call instead.
Prepare = Callable[[int], Awaitable[object]]


def port_prepare(port: object) -> Prepare | None:
    """The port's ``prepare``, if it has one."""
    fn = getattr(port, "prepare", None)
    return fn if callable(fn) else None


# Optional: delete a call recording at the carrier (the retention job). Returns
# once the carrier confirmed the recording is gone (deleted now, or unknown to
# it already); raises otherwise, and the job tries again on its next run.
DeleteRecording = Callable[[str], Awaitable[object]]


def port_delete_recording(port: object) -> DeleteRecording | None:
    """The port's ``delete_recording``, if it has one."""
    fn = getattr(port, "delete_recording", None)
    return fn if callable(fn) else None


def port_deliver_sms(port: object) -> Any:
    """The port's ``deliver_sms(message_id, sms)`` (``scheduler.reminders.DeliverSms``),
    if it has one: a port without it sends no reminders."""
    fn = getattr(port, "deliver_sms", None)
    return fn if callable(fn) else None


# The carrier's call statuses are the attempt's (Twilio's names); an unknown
# one is read by each caller's own default.
CARRIER_STATUSES = {s.value: s for s in AttemptStatus}
