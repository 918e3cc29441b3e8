"""Carrier callbacks of a transfer: ``/agents/whisper``, ``dial-status``, ``queue-*``.

Each is a Twilio webhook: the request must carry a valid X-Twilio-Signature
over the configured public URL (403 otherwise, before anything happens),
checked by the same :func:`~ivr.telephony.signature.signed_form` as every other
Twilio route (a field sent twice or a value Twilio never sends: 400 naming it),
and the answer is TwiML. The transfer travels in the query string (``?transfer=ID``),
which the signature covers; a Dial's callbacks also name the agent it rang
(``&agent=ID``), and one about an agent the transfer has since moved on from
changes nothing (a URL without it was given out before agents were named, and
is taken as before).
"""

from __future__ import annotations

import structlog
from aiohttp import web

from ivr.agents.keys import TRANSFER_SERVICE
from ivr.keys import SIGNATURES
from ivr.telephony.signature import signed_form
from ivr.telephony.webhook_form import (
    DIAL_CALL_STATUSES,
    MAX_CALL_SECONDS,
    QUEUE_RESULTS,
    TwilioForm,
)

log = structlog.get_logger(__name__)


async def _signed(request: web.Request) -> tuple[TwilioForm, int]:
    """The signed form and the transfer it is about (``?transfer=ID``, required)."""
    form = await signed_form(request, request.app[SIGNATURES])
    transfer_id = form.query_id("transfer", required=True)
    assert transfer_id is not None
    return form, transfer_id


def _xml(body: str) -> web.Response:
    return web.Response(text=body, content_type="text/xml")


async def whisper(request: web.Request) -> web.Response:
    form, transfer_id = await _signed(request)
    service = request.app[TRANSFER_SERVICE]
    return _xml(await service.on_whisper(transfer_id, form.query_id("agent")))


async def dial_status(request: web.Request) -> web.Response:
    form, transfer_id = await _signed(request)
    status = form.choice("DialCallStatus", DIAL_CALL_STATUSES) or "failed"
    service = request.app[TRANSFER_SERVICE]
    return _xml(await service.on_dial_status(transfer_id, status, form.query_id("agent")))


async def queue_wait(request: web.Request) -> web.Response:
    form, transfer_id = await _signed(request)
    position = form.integer("QueuePosition")
    queue_time = form.integer("QueueTime", high=MAX_CALL_SECONDS)
    service = request.app[TRANSFER_SERVICE]
    return _xml(
        await service.on_queue_wait(
            transfer_id, 1 if position is None else position, queue_time or 0
        )
    )


async def queue_offer(request: web.Request) -> web.Response:
    form, transfer_id = await _signed(request)
    digits, speech = form.digits("Digits"), form.text("SpeechResult")
    service = request.app[TRANSFER_SERVICE]
    return _xml(await service.on_queue_offer(transfer_id, digits, speech))


async def queue_result(request: web.Request) -> web.Response:
    form, transfer_id = await _signed(request)
    result = form.choice("QueueResult", QUEUE_RESULTS) or ""
    service = request.app[TRANSFER_SERVICE]
    return _xml(await service.on_queue_result(transfer_id, result))


def setup_carrier_callbacks(app: web.Application) -> None:
    app.router.add_post("/agents/whisper", whisper)
    app.router.add_post("/agents/dial-status", dial_status)
    app.router.add_post("/agents/queue-wait", queue_wait)
    app.router.add_post("/agents/queue-offer", queue_offer)
    app.router.add_post("/agents/queue-result", queue_result)
