"""Carrier callbacks of a transfer: ``/agents/whisper``, ``dial-status``, ``queue-*``.

Each is a Twilio webhook: the request must carry a valid X-Twilio-Signature
over the configured public URL (403 otherwise, before anything happens), and
the answer is TwiML. The transfer travels in the query string (``?transfer=ID``),
which the signature covers.
"""

from __future__ import annotations

from collections.abc import Mapping

import structlog
from aiohttp import web

from ivr.agents.keys import TRANSFER_SERVICE
from ivr.keys import SIGNATURES

log = structlog.get_logger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"


async def signed_params(request: web.Request) -> dict[str, str]:
    form = await request.post()
    params = {k: str(v) for k, v in form.items()}
    if not request.app[SIGNATURES].check_form(
        request.rel_url.raw_path_qs, params, request.headers.get(SIGNATURE_HEADER)
    ):
        log.warning("agents.bad_signature", path=request.path)
        raise web.HTTPForbidden(text="invalid X-Twilio-Signature")
    return params


def _transfer_id(request: web.Request) -> int:
    raw = request.query.get("transfer", "")
    if not raw.isdigit():
        raise web.HTTPBadRequest(text="missing ?transfer=ID")
    return int(raw)


def _int(params: Mapping[str, str], name: str, default: int = 0) -> int:
    try:
        return int(params.get(name, default))
    except ValueError:
        return default


def _xml(body: str) -> web.Response:
    return web.Response(text=body, content_type="text/xml")


async def whisper(request: web.Request) -> web.Response:
    await signed_params(request)
    service = request.app[TRANSFER_SERVICE]
    return _xml(await service.on_whisper(_transfer_id(request)))


async def dial_status(request: web.Request) -> web.Response:
    params = await signed_params(request)
    service = request.app[TRANSFER_SERVICE]
    status = params.get("DialCallStatus", "failed")
    return _xml(await service.on_dial_status(_transfer_id(request), status))


async def queue_wait(request: web.Request) -> web.Response:
    params = await signed_params(request)
    service = request.app[TRANSFER_SERVICE]
    return _xml(
        await service.on_queue_wait(
            _transfer_id(request), _int(params, "QueuePosition", 1), _int(params, "QueueTime")
        )
    )


async def queue_offer(request: web.Request) -> web.Response:
    params = await signed_params(request)
    service = request.app[TRANSFER_SERVICE]
    return _xml(
        await service.on_queue_offer(
            _transfer_id(request), params.get("Digits"), params.get("SpeechResult")
        )
    )


async def queue_result(request: web.Request) -> web.Response:
    params = await signed_params(request)
    service = request.app[TRANSFER_SERVICE]
    return _xml(await service.on_queue_result(_transfer_id(request), params.get("QueueResult", "")))


def setup_carrier_callbacks(app: web.Application) -> None:
    app.router.add_post("/agents/whisper", whisper)
    app.router.add_post("/agents/dial-status", dial_status)
    app.router.add_post("/agents/queue-wait", queue_wait)
    app.router.add_post("/agents/queue-offer", queue_offer)
    app.router.add_post("/agents/queue-result", queue_result)
