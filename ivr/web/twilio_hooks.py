"""Twilio webhooks: /twilio/voice, /twilio/status, /twilio/amd and the media socket.

Every request is checked against X-Twilio-Signature computed over
IVR_PUBLIC_URL; a missing or wrong signature gets 403 before anything else
happens, the WebSocket upgrade included.
"""

from __future__ import annotations

import structlog
from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ivr import metrics
from ivr.keys import LIVE_CALLS, SESSIONS, SETTINGS, SIGNATURES
from ivr.logs import bind_ids
from ivr.store.models import FINAL_ATTEMPT_STATUSES, CallAttempt
from ivr.store.queries import StatusUpdate, add_event, apply_status, relax_durability
from ivr.telephony import twiml

log = structlog.get_logger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"


async def _signed_form(request: web.Request) -> MultiDictProxy[str]:
    form = await request.post()
    params = {k: str(v) for k, v in form.items()}
    checker = request.app[SIGNATURES]
    if not checker.check_form(
        request.rel_url.raw_path_qs, params, request.headers.get(SIGNATURE_HEADER)
    ):
        log.warning("twilio.bad_signature", path=request.path)
        raise web.HTTPForbidden(text="invalid X-Twilio-Signature")
    return form  # type: ignore[return-value]


async def _attempt_id(request: web.Request, session: AsyncSession, call_sid: str) -> int | None:
    """The attempt a callback is about: from the ``attempt`` query parameter we
    put in every URL given to the carrier (covered by the signature), else by
    CallSid for URLs configured elsewhere."""
    raw = request.query.get("attempt")
    if raw and raw.isdigit():
        return int(raw)
    found: int | None = await session.scalar(
        select(CallAttempt.id).where(CallAttempt.call_sid == call_sid)
    )
    return found


async def voice(request: web.Request) -> web.Response:
    """The call was answered: stream it to us; the attempt travels as a <Parameter>.

    The attempt id comes from the URL we gave the carrier, and the signature
    proves the carrier is replaying exactly that URL, so no database read is
    needed here; the stream's start checks the attempt before anything is said.
    """
    form = await _signed_form(request)
    call_sid = str(form.get("CallSid", ""))
    bind_ids(call_sid=call_sid or None, attempt_id=request.query.get("attempt"))
    async with request.app[SESSIONS]() as s:
        attempt_id = await _attempt_id(request, s, call_sid)
    if attempt_id is None:
        log.warning("twilio.voice_unknown_call", call_sid=call_sid)
        return web.Response(text=twiml.hangup(), content_type="text/xml")
    settings = request.app[SETTINGS]
    assert settings.public_url
    body = twiml.connect_stream(
        settings.public_url, {"attempt_id": str(attempt_id), "call_sid": call_sid}
    )
    return web.Response(text=body, content_type="text/xml")


async def status(request: web.Request) -> web.Response:
    """Call progress: idempotent and order-independent (SequenceNumber)."""
    form = await _signed_form(request)
    call_sid = str(form.get("CallSid", ""))
    bind_ids(call_sid=call_sid or None, attempt_id=request.query.get("attempt"))
    try:
        upd = StatusUpdate(
            call_sid=call_sid,
            status=str(form["CallStatus"]),
            sequence=int(str(form.get("SequenceNumber", "0"))),
            duration_s=int(str(form["CallDuration"])) if form.get("CallDuration") else None,
            answered_by=str(form["AnsweredBy"]) if form.get("AnsweredBy") else None,
            timestamp=str(form.get("Timestamp")) if form.get("Timestamp") else None,
        )
    except (KeyError, ValueError) as exc:
        raise web.HTTPBadRequest(text=f"bad status callback: {exc}") from None
    sessions = request.app[SESSIONS]
    attempt_id: int | None = None
    try:
        async with sessions() as s, s.begin():
            await relax_durability(s)
            attempt_id = await _attempt_id(request, s, call_sid)
            changed = attempt_id is not None and await apply_status(s, attempt_id, upd)
    except IntegrityError:  # the attempt does not exist (foreign key)
        changed = False
    if attempt_id is None or not changed:
        log.debug("twilio.status_ignored", call_sid=call_sid, sequence=upd.sequence)
    if changed and upd.status in FINAL_ATTEMPT_STATUSES:
        metrics.CALLS.labels(upd.status).inc()
        request.app[LIVE_CALLS].ended(call_sid)
    return web.Response(status=204)


async def amd(request: web.Request) -> web.Response:
    """Asynchronous answering-machine detection result."""
    form = await _signed_form(request)
    call_sid = str(form.get("CallSid", ""))
    bind_ids(call_sid=call_sid or None, attempt_id=request.query.get("attempt"))
    answered_by = str(form.get("AnsweredBy", "unknown"))
    sessions = request.app[SESSIONS]
    async with sessions() as s, s.begin():
        attempt_id = await _attempt_id(request, s, call_sid)
        attempt = await s.get(CallAttempt, attempt_id) if attempt_id is not None else None
        if attempt is None:
            return web.Response(status=204)
        attempt.answered_by = answered_by
        await add_event(s, attempt.id, "amd", {"answered_by": answered_by})
    request.app[LIVE_CALLS].answered_by(call_sid, answered_by)
    return web.Response(status=204)


async def media(request: web.Request) -> web.StreamResponse:
    """The Media Streams WebSocket; the upgrade itself is signed."""
    checker = request.app[SIGNATURES]
    if not checker.check_websocket(
        request.rel_url.raw_path_qs, request.headers.get(SIGNATURE_HEADER)
    ):
        log.warning("twilio.bad_signature", path=request.path)
        raise web.HTTPForbidden(text="invalid X-Twilio-Signature")
    from ivr.calls.session import run_media_socket

    return await run_media_socket(request)


def setup_twilio_routes(app: web.Application) -> None:
    app.router.add_post("/twilio/voice", voice)
    app.router.add_post("/twilio/status", status)
    app.router.add_post("/twilio/amd", amd)
    app.router.add_get("/twilio/media", media)
