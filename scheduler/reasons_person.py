"""Rules about the person: reported dead, an opt-out (of the person or of a
number), a number on a do-not-call list, calls not allowed (the file's or
their channel choice), a pause, no number to dial, a callback they asked
for; and which of their numbers a call dials.

One module per kind of rule (person, debt, window, caps) so each can be
read, and changed, on its own; ``scheduler.eligibility`` joins them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ivr.vocab.debtors import DebtorStatus
from scheduler.caps import PastAttempt
from scheduler.reasons import Reason, reason
from scheduler.snapshot import CallbackRow, DebtorSnapshot, PhoneRow
from scheduler.zones import dialable


def person_reasons(
    snap: DebtorSnapshot,
    phones: Sequence[PhoneRow],
    now: dt.datetime,
    callback: CallbackRow | None,
) -> list[Reason]:
    """Why the person may not be called at ``now`` (``phones``: the dialable ones).

    A call the person asked for (``callback``) is not held back by a later
    callback of theirs.
    """
    out: list[Reason] = []
    if snap.status == DebtorStatus.DECEASED_REVIEW:
        out.append(reason("deceased_review"))
    if snap.opted_out_at is not None:
        out.append(reason("opted_out", since=snap.opted_out_at.isoformat()))
    if not snap.calls_allowed:
        out.append(reason("calls_not_allowed"))
    if snap.quiet_until is not None and snap.quiet_until > now:
        out.append(
            reason("debtor_quiet", snap.quiet_until, quiet_until=snap.quiet_until.isoformat())
        )
    if not phones:
        out.append(reason("no_valid_phone", phones=[p.e164 for p in snap.phones]))
        stopped = [p for p in snap.phones if p.opted_out_at is not None]
        if stopped:
            since = min(p.opted_out_at for p in stopped if p.opted_out_at is not None)
            out.append(
                reason(
                    "number_opted_out",
                    phones=[p.e164 for p in stopped],
                    since=since.isoformat(),
                )
            )
        listed = dnc_reason(snap.phones)
        if listed is not None:
            out.append(listed)
    if callback is None:
        later = [c for c in snap.callbacks if c.due_at > now]
        if later:
            first = min(c.due_at for c in later)
            out.append(reason("callback_scheduled", first, due_at=first.isoformat()))
    return out


def dnc_reason(phones: Sequence[PhoneRow]) -> Reason | None:
    """``number_on_dnc_list`` naming the listed numbers that were otherwise usable
    and their lists (None when no such number): shown once no number is left,
    like ``number_opted_out``, so a supervisor sees why none is."""
    listed = [p for p in dialable(phones) if p.dnc_lists]
    if not listed:
        return None
    lists = sorted({name for p in listed for name in p.dnc_lists})
    return reason("number_on_dnc_list", phones=[p.e164 for p in listed], lists=lists)


_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)


def choose_phone(phones: Sequence[PhoneRow], history: Sequence[PastAttempt]) -> PhoneRow | None:
    """Rotate numbers: the one tried least recently (never tried first), then by position."""
    if len(phones) <= 1:  # nothing to rotate (most people have one number)
        return phones[0] if phones else None
    last: dict[int, dt.datetime] = {}
    for a in history:
        if a.phone_id is not None:
            last[a.phone_id] = max(last.get(a.phone_id, a.claimed_at), a.claimed_at)
    return min(phones, key=lambda p: (last.get(p.id, _NEVER), p.position, p.id), default=None)
