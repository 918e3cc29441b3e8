"""Twilio webhooks: /twilio/voice, /twilio/status, /twilio/amd, /twilio/recording
and the media socket (the SMS ones are in :mod:`ivr.web.sms_hooks`).

Every request is checked against X-Twilio-Signature computed over
IVR_PUBLIC_URL (:mod:`ivr.telephony.signature`); a missing or wrong signature
gets 403 before anything else happens, the WebSocket upgrade included. A
field sent twice, or a value Twilio would never send, gets 400 naming it
(:mod:`ivr.telephony.webhook_form`), never a 5xx.
"""

from __future__ import annotations

import structlog
from aiohttp import web
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ivr import metrics
from ivr.keys import CALLBACK_ENGINE, LIVE_CALLS, SESSIONS, SETTINGS, SIGNATURES, STREAM_TOKENS
from ivr.logs import bind_ids
from ivr.store.models import FINAL_ATTEMPT_STATUSES
from ivr.store.queries import (
    StatusUpdate,
    apply_status,
    apply_status_at_once,
    attempt_id_by_call_sid,
    record_answered_by,
)
from ivr.store.recordings import RecordingUpdate, apply_recording
from ivr.telephony import twiml
from ivr.telephony.signature import signed_form, verify_upgrade
from ivr.telephony.stream_token import TOKEN_PARAMETER
from ivr.telephony.webhook_form import (
    ANSWERED_BY,
    CALL_STATUSES,
    DIRECTIONS,
    MAX_CALL_SECONDS,
    RECORDING_SOURCES,
    TwilioForm,
)
from ivr.vocab.recordings import CARRIER_RECORDING_STATUSES, RecordingStatus
from ivr.web.sms_hooks import setup_sms_routes
from ivr.web.wallboard_live import wallboard_changed

log = structlog.get_logger(__name__)


async def _attempt_id(form: TwilioForm, session: AsyncSession, call_sid: str) -> int | None:
    """The attempt a callback is about: from the ``attempt`` query parameter we
    put in every URL given to the carrier (covered by the signature), else by
    CallSid for URLs configured elsewhere."""
    from_query = form.query_id("attempt")
    if from_query is not None:
        return from_query
    return await attempt_id_by_call_sid(session, call_sid)


async def _apply_status(
    request: web.Request, form: TwilioForm, upd: StatusUpdate
) -> tuple[int | None, bool]:
    """The callback's attempt and whether the callback was new: on PostgreSQL
    one autocommit statement (:func:`apply_status_at_once`), else a transaction."""
    callbacks = request.app[CALLBACK_ENGINE]
    if callbacks is None:
        async with request.app[SESSIONS]() as s, s.begin():
            attempt_id = await _attempt_id(form, s, upd.call_sid)
            return attempt_id, attempt_id is not None and await apply_status(s, attempt_id, upd)
    async with request.app[SESSIONS]() as s:  # connects only to look the CallSid up
        attempt_id = await _attempt_id(form, s, upd.call_sid)
    if attempt_id is None:
        return None, False
    async with callbacks.connect() as conn:
        return attempt_id, await apply_status_at_once(conn, attempt_id, upd)


async def voice(request: web.Request) -> web.Response:
    """The call was answered: stream it to us; the attempt travels as a <Parameter>.

    The attempt id comes from the URL we gave the carrier, and the signature
    proves the carrier is replaying exactly that URL with this CallSid, so no
    database read is needed here. The stream token binds the two: the
    stream's ``start`` must present it, and is checked against the attempt
    before anything is said.
    """
    form = await signed_form(request, request.app[SIGNATURES])
    call_sid = form.call_sid()
    assert call_sid is not None
    attempt_id = form.query_id("attempt")
    bind_ids(call_sid=call_sid, attempt_id=attempt_id)
    if attempt_id is None:
        async with request.app[SESSIONS]() as s:
            attempt_id = await _attempt_id(form, s, call_sid)
    if attempt_id is None and form.choice("Direction", DIRECTIONS) == "inbound":
        from ivr.web.twilio_inbound import answer_inbound

        return await answer_inbound(request, form, call_sid)
    if attempt_id is None:
        log.warning("twilio.voice_unknown_call", call_sid=call_sid)
        return web.Response(text=twiml.hangup(), content_type="text/xml")
    return stream_answer(request, attempt_id, call_sid)


def stream_answer(request: web.Request, attempt_id: int, call_sid: str) -> web.Response:
    """Stream the call to us, our calls and the debtors' alike: the attempt
    travels as a <Parameter>, with the per-call token its stream must show."""
    settings = request.app[SETTINGS]
    assert settings.public_url
    token = request.app[STREAM_TOKENS].mint(attempt_id, call_sid)
    body = twiml.connect_stream(
        settings.public_url,
        {"attempt_id": str(attempt_id), "call_sid": call_sid, TOKEN_PARAMETER: token},
    )
    return web.Response(text=body, content_type="text/xml")


async def status(request: web.Request) -> web.Response:
    """Call progress: idempotent and order-independent (see :func:`apply_status`)."""
    form = await signed_form(request, request.app[SIGNATURES])
    call_sid = form.call_sid()
    status = form.choice("CallStatus", CALL_STATUSES, required=True)
    assert call_sid is not None and status is not None
    upd = StatusUpdate(
        call_sid=call_sid,
        status=status,
        sequence=form.integer("SequenceNumber"),
        duration_s=form.integer("CallDuration", high=MAX_CALL_SECONDS),
        answered_by=form.choice("AnsweredBy", ANSWERED_BY),
        timestamp=form.timestamp(),
    )
    bind_ids(call_sid=call_sid, attempt_id=form.query_id("attempt"))  # malformed: 400 here
    try:
        attempt_id, changed = await _apply_status(request, form, upd)
    except IntegrityError:  # the attempt does not exist (foreign key)
        attempt_id, changed = None, False
    if attempt_id is None or not changed:
        log.debug("twilio.status_ignored", call_sid=call_sid, sequence=upd.sequence)
    else:
        wallboard_changed(request.app)
    if changed and upd.status in FINAL_ATTEMPT_STATUSES:
        metrics.CALLS.labels(upd.status).inc()
        request.app[LIVE_CALLS].ended(call_sid)
    return web.Response(status=204)


async def amd(request: web.Request) -> web.Response:
    """Asynchronous answering-machine detection result."""
    form = await signed_form(request, request.app[SIGNATURES])
    call_sid = form.call_sid()
    assert call_sid is not None
    answered_by = form.choice("AnsweredBy", ANSWERED_BY) or "unknown"
    bind_ids(call_sid=call_sid, attempt_id=form.query_id("attempt"))  # malformed: 400 here
    sessions = request.app[SESSIONS]
    async with sessions() as s, s.begin():
        attempt_id = await _attempt_id(form, s, call_sid)
        if attempt_id is None or not await record_answered_by(s, attempt_id, answered_by):
            return web.Response(status=204)
    request.app[LIVE_CALLS].answered_by(call_sid, answered_by)
    return web.Response(status=204)


async def recording(request: web.Request) -> web.Response:
    """Recording status: keep the recording's sid, status, duration and URL with the
    attempt (idempotent and order-independent, see :func:`apply_recording`)."""
    form = await signed_form(request, request.app[SIGNATURES])
    call_sid = form.call_sid()
    assert call_sid is not None
    status = RecordingStatus(
        form.choice("RecordingStatus", CARRIER_RECORDING_STATUSES, required=True) or ""
    )
    in_progress = status is RecordingStatus.IN_PROGRESS
    upd = RecordingUpdate(
        call_sid=call_sid,
        recording_sid=form.recording_sid(),
        status=status,
        # Twilio reports a duration once the recording is over.
        duration_s=None
        if in_progress
        else form.integer("RecordingDuration", high=MAX_CALL_SECONDS),
        url=form.url("RecordingUrl"),
        started_at=form.timestamp("RecordingStartTime"),
    )
    form.integer("RecordingChannels", low=1, high=2)
    form.choice("RecordingSource", RECORDING_SOURCES)
    form.integer("ErrorCode", high=99999)
    bind_ids(call_sid=call_sid, attempt_id=form.query_id("attempt"))  # malformed: 400 here
    changed = False
    try:
        async with request.app[SESSIONS]() as s, s.begin():
            attempt_id = await _attempt_id(form, s, call_sid)
            changed = attempt_id is not None and await apply_recording(s, attempt_id, upd)
    except IntegrityError:  # no such attempt, or the sid is another attempt's
        changed = False
    if not changed:
        log.debug("twilio.recording_ignored", call_sid=call_sid, recording_sid=upd.recording_sid)
    return web.Response(status=204)


async def media(request: web.Request) -> web.StreamResponse:
    """The Media Streams WebSocket; the upgrade itself is signed, the call is
    proven by the token in ``start`` (see :mod:`ivr.calls.stream_start`)."""
    verify_upgrade(request, request.app[SIGNATURES])
    from ivr.web.media_socket import run_media_socket

    return await run_media_socket(request)


def setup_twilio_routes(app: web.Application) -> None:
    app.router.add_post("/twilio/voice", voice)
    app.router.add_post("/twilio/status", status)
    app.router.add_post("/twilio/amd", amd)
    app.router.add_post("/twilio/recording", recording)
    app.router.add_get("/twilio/media", media)
    setup_sms_routes(app)
