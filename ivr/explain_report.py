"""``ivr explain``: may this debtor be called, and be sent an SMS, now -- and why not.

The same two verdicts the API's ``/explain`` returns (the call rule book and
the SMS rule book, ``scheduler.explain``), written for a terminal: one line
per reason, in the rule book's words, and when each could happen next.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ivr.config import Settings
from ivr.store.db import open_sessions
from ivr.store.models import Debtor
from scheduler.eligibility import Explanation
from scheduler.eligibility_sms import SmsVerdict
from scheduler.explain import explain, explain_sms


def _when(at: dt.datetime | None, zone: str | None) -> str:
    if at is None:
        return "not by itself (a person must change something)"
    if zone:
        from zoneinfo import ZoneInfo

        return at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")
    return at.isoformat()


def format_report(ref: str, at: dt.datetime, call: Explanation, sms: SmsVerdict) -> str:
    """Both sections, calls then SMS, as plain lines."""
    zone = call.zones[0] if call.zones else None
    local = at.astimezone(dt.UTC).isoformat() if zone is None else _when(at, zone)
    lines = [f"{ref} at {local}"]
    if call.callable:
        lines.append(f"call: may be called now ({call.to_number})")
    else:
        lines.append("call: may not be called now")
        lines += [f"  {r.code}: {r.message}" for r in call.reasons]
        lines.append(f"  next look: {_when(call.wake_at, zone)}")
    cap = f"{sms.sent_today} of {sms.daily_cap} today"
    if sms.allowed:
        lines.append(f"sms ({sms.purpose}): may be sent now ({sms.to_number}; {cap})")
    else:
        lines.append(f"sms ({sms.purpose}): may not be sent now ({cap})")
        lines += [f"  {r.code}: {r.message}" for r in sms.reasons]
        lines.append(f"  next possible: {_when(sms.next_at, zone)}")
    return "\n".join(lines)


async def explain_report(settings: Settings, ref: str, at: dt.datetime) -> str:
    """Load the debtor named ``ref`` and explain both channels at ``at``."""
    async with open_sessions(settings.database_url) as sessions, sessions() as s:
        debtor_id = await s.scalar(select(Debtor.id).where(Debtor.external_ref == ref))
        if debtor_id is None:
            raise LookupError(f"no debtor with external_ref {ref!r}")
        call = await explain(s, debtor_id, at)
        sms = await explain_sms(s, debtor_id, at)
    return format_report(ref, at, call, sms)
