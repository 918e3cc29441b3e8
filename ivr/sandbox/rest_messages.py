"""The Messages resource of Twilio's 2010-04-01 REST API, as the sandbox serves it.

Routes (under ``/2010-04-01/Accounts/{AccountSid}``):

* ``POST Messages.json``: send (``To``, ``From`` or ``MessagingServiceSid``,
  ``Body``, ``StatusCallback``); ``201`` with the Message resource, ``queued``
  (``accepted`` through a Messaging Service);
* ``GET Messages.json``: list, newest first, with ``To``/``From``/``DateSent``
  (also ``DateSent<``, ``DateSent>``) filters and Twilio's paging;
* ``GET Messages/{Sid}.json``: fetch.

Refusals carry Twilio's codes: 21604/21603/21602 (missing To/From/Body), 21617
(body over 1,600 characters), 21211 (invalid To), 21212 (invalid From), 21606
(a From the account does not own), 21705/21701 (bad or unknown Messaging
Service), 21266 (To equals From), 21609 (bad StatusCallback), 21610 (the
recipient unsubscribed from that sender). Authentication, faults and error
bodies are those of ivr/sandbox/rest.py.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy, MultiMapping

from ivr.messaging.segments import MAX_BODY_CHARS
from ivr.sandbox.messages import SandboxMessage
from ivr.sandbox.messages_center import MessageCenter
from ivr.sandbox.numbers import parse_number
from ivr.sandbox.records import API_VERSION
from ivr.sandbox.rest import _parse_when, _valid_url, paged, twilio_error

MESSAGES_KEY = web.AppKey("sandbox_messages", MessageCenter)

_SID = "{message_sid:(SM|MM)[0-9a-fA-F]{32}}"
_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
_SHORT_CODE = re.compile(r"^[0-9]{3,8}$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def _field(form: MultiDictProxy[Any], name: str) -> str | None:
    value = form.get(name)
    if value is None:
        return None
    return str(value).strip() or None


def _refusal(center: MessageCenter, form: MultiDictProxy[Any]) -> web.Response | None:
    """Twilio's error for a create request it would refuse, or None."""
    to, from_ = _field(form, "To"), _field(form, "From")
    service = _field(form, "MessagingServiceSid")
    body = form.get("Body")
    if to is None:
        return twilio_error(400, 21604, "A 'To' phone number is required.")
    if from_ is None and service is None:
        return twilio_error(400, 21603, "A 'From' phone number is required.")
    if body is None or not str(body).strip():
        return twilio_error(400, 21602, "Message body is required.")
    if len(str(body)) > MAX_BODY_CHARS:
        return twilio_error(
            400, 21617, "The concatenated message body exceeds the 1600 character limit."
        )
    if parse_number(to) is None:
        return twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to}")
    if from_ is not None:
        # A sender is judged by ownership (21606), not by the numbering plan: any
        # E.164 number or short code is well-formed.
        if _E164.match(from_) is None and _SHORT_CODE.match(from_) is None:
            return twilio_error(400, 21212, f"Invalid From Number (caller ID): {from_}")
        if not center.owns_sender(from_):
            return twilio_error(
                400,
                21606,
                f"The 'From' phone number provided ({from_}) is not a valid message-capable "
                "Twilio phone number for this destination/account",
            )
    elif service is not None:
        if _SERVICE_SID.match(service) is None:
            return twilio_error(400, 21705, "The Messaging Service is invalid")
        if not center.service_senders(service):
            return twilio_error(400, 21701, "The Messaging Service does not exist")
    if from_ == to:
        return twilio_error(400, 21266, "'To' and 'From' number cannot be the same")
    callback = _field(form, "StatusCallback")
    if callback is not None and not _valid_url(callback):
        return twilio_error(400, 21609, f"Invalid StatusCallback url: {callback}")
    senders = [from_] if from_ is not None else center.service_senders(service or "") or []
    if any(center.is_unsubscribed(to, sender) for sender in senders):
        return twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")
    return None


async def create_message(request: web.Request) -> web.Response:
    center = request.app[MESSAGES_KEY]
    form = await request.post()
    refusal = _refusal(center, form)
    if refusal is not None:
        return refusal
    to = _field(form, "To")
    assert to is not None
    message = center.send(
        to=to,
        body=str(form["Body"]),
        from_=_field(form, "From"),
        messaging_service_sid=_field(form, "MessagingServiceSid"),
        status_callback=_field(form, "StatusCallback"),
        status_callback_method=_field(form, "StatusCallbackMethod") or "POST",
    )
    message.request_params = {name: [str(v) for v in form.getall(name)] for name in form}
    return web.json_response(message.to_json(), status=201)


def _sent_matches(message: SandboxMessage, query: MultiMapping[str]) -> bool | None:
    """Whether ``message`` passes the ``DateSent`` filters; None when one is malformed."""
    for key in ("DateSent", "DateSent<", "DateSent>"):
        if key not in query:
            continue
        raw = query[key]
        when = _parse_when(raw)
        if when is None:
            return None
        sent = message.date_sent
        if sent is None:
            return False
        # twilio-python sends a date as midnight (``YYYY-MM-DDT00:00:00Z``): that, a
        # bare date and the equality filter all compare by day, inclusive.
        by_day = key == "DateSent" or when.time() == datetime.min.time()
        left: datetime | Any = sent.date() if by_day else sent
        right: datetime | Any = when.date() if by_day else when
        if key == "DateSent" and left != right:
            return False
        if key == "DateSent<" and left > right:
            return False
        if key == "DateSent>" and left < right:
            return False
    return True


async def list_messages(request: web.Request) -> web.Response:
    center = request.app[MESSAGES_KEY]
    query = request.query
    chosen: list[SandboxMessage] = []
    for message in center.messages.values():
        if "To" in query and message.to != query["To"]:
            continue
        if "From" in query and message.from_ != query["From"]:
            continue
        sent = _sent_matches(message, query)
        if sent is None:
            return twilio_error(400, 20001, "DateSent must be YYYY-MM-DD or an ISO 8601 time")
        if sent:
            chosen.append(message)
    chosen.reverse()  # newest first, as Twilio lists them
    base = f"/{API_VERSION}/Accounts/{center.config.account_sid}/Messages.json"
    return paged(query, chosen, SandboxMessage.to_json, base, "messages")


async def fetch_message(request: web.Request) -> web.Response:
    center = request.app[MESSAGES_KEY]
    message = center.messages.get(request.match_info["message_sid"])
    if message is None:
        return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
    return web.json_response(message.to_json())


def add_message_routes(app: web.Application) -> None:
    base = f"/{API_VERSION}/Accounts/{{account_sid}}"
    app.router.add_post(f"{base}/Messages.json", create_message)
    app.router.add_get(f"{base}/Messages.json", list_messages)
    app.router.add_get(f"{base}/Messages/{_SID}.json", fetch_message)
