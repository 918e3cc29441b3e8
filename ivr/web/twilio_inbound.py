"""``/twilio/voice`` for a call someone placed to the service's number.

The request is signed like every webhook (checked by the caller of
:func:`answer_inbound`). The call is recorded as an inbound attempt -- in the
person's contact history, never against the caps -- and answered with the same
``<Connect><Stream>`` and stream token as our own calls, so one media path
runs both. Caller ID only says whom to ask about; the call verifies.
"""

from __future__ import annotations

import structlog
from aiohttp import web
from sqlalchemy.exc import IntegrityError

from ivr.calls.context import debtor_zone
from ivr.keys import SESSIONS
from ivr.logs import bind_ids
from ivr.store import inbound as store
from ivr.store.models import utcnow
from ivr.store.queries import attempt_id_by_call_sid
from ivr.telephony.webhook_form import TwilioForm
from ivr.web.twilio_hooks import stream_answer
from ivr.web.wallboard_live import wallboard_changed

log = structlog.get_logger(__name__)


async def answer_inbound(request: web.Request, form: TwilioForm, call_sid: str) -> web.Response:
    """Record the inbound call (once: a retried request finds it) and stream it."""
    caller = form.phone_number("From")  # None: the caller ID is withheld
    form.phone_number("To", required=True)
    sessions = request.app[SESSIONS]
    try:
        async with sessions() as s, s.begin():
            attempt_id = await attempt_id_by_call_sid(s, call_sid)
            if attempt_id is None:
                people = await store.debtors_by_phone(s, caller) if caller else []
                one = people[0] if len(people) == 1 else None
                day = utcnow().astimezone(debtor_zone(one)).date() if one else utcnow().date()
                attempt = await store.open_inbound_attempt(
                    s, call_sid=call_sid, caller=caller or "", debtor=one, local_day=day
                )
                attempt_id = attempt.id
    except IntegrityError:  # the same CallSid, recorded by a concurrent retry
        async with sessions() as s:
            attempt_id = await attempt_id_by_call_sid(s, call_sid)
        if attempt_id is None:
            raise
    bind_ids(call_sid=call_sid, attempt_id=attempt_id)
    log.info("twilio.inbound_call", known=bool(caller))
    wallboard_changed(request.app)
    return stream_answer(request, attempt_id, call_sid)
