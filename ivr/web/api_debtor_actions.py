"""What a supervisor may do about one person from the console, each action logged
(``debtor_actions``: who, when, what) on the person's timeline and in the audit
log (``audit_log``, with the other supervisors' changes).

* opt out / opt in per channel (call, sms), at the person's request made
  elsewhere (a letter, an e-mail, the creditor's desk);
* mark one of their numbers wrong;
* schedule a callback, only at an instant the call windows are open in the
  person's time (the rule book's windows, zones, holidays and blocked dates);
* LGPD: export everything the store holds about them as JSON, and anonymise
  them on request, keeping the debt and its payments (``ivr.store.lgpd``).
  The recordings are deleted at the carrier first, by the retention job's own
  call; if the carrier does not confirm, nothing is anonymised and the
  request may be repeated.

Supervisors only; every input is validated and a 4xx names the field.

The audit entry names the person by reference and keeps no personal data: a
number is masked (``audit_number``) and a supervisor's free-text note stays
on the timeline, so the log outlives an anonymisation without undoing it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import structlog
from aiohttp import web
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.keys import CARRIER, SESSIONS
from ivr.store.audit import audit_number, record_audit
from ivr.store.lgpd import anonymise, export_data, kept_recordings
from ivr.store.models import Callback, Debtor, DebtorAction, OptOut, User, utcnow
from ivr.store.queries import cancel_pending_callbacks
from ivr.store.recordings import mark_recording_deleted
from ivr.vocab.audit import AuditAction, AuditEntity
from ivr.vocab.debtors import DebtorActionKind
from ivr.vocab.messages import Channel
from ivr.web.api_common import (
    API_PREFIX,
    Endpoint,
    FieldError,
    read_body,
    reply,
    unprocessable,
)
from ivr.web.api_debtors import readable_debtor
from ivr.web.api_schemas import Input, Output
from ivr.web.api_types import DbId, Instant
from ivr.web.auth import current_user, json_error
from scheduler.eligibility import evaluate
from scheduler.eligibility_load import load_snapshots
from scheduler.explain import wake_debtors
from scheduler.snapshot import CallbackRow
from scheduler.windows import next_open

log = structlog.get_logger(__name__)

SOURCE = "supervisor"
MAX_CALLBACK_AHEAD = dt.timedelta(days=60)
AUDIT_ACTIONS: dict[DebtorActionKind, AuditAction] = {
    DebtorActionKind.OPT_OUT: AuditAction.OPT_OUT,
    DebtorActionKind.OPT_IN: AuditAction.OPT_IN,
    DebtorActionKind.WRONG_NUMBER: AuditAction.UPDATE,
    DebtorActionKind.CALLBACK: AuditAction.SCHEDULE,
    DebtorActionKind.LGPD_EXPORT: AuditAction.EXPORT,
    DebtorActionKind.LGPD_ANONYMISE: AuditAction.ANONYMISE,
}
"""How each action about a person reads in the audit log."""


class ChannelIn(Input):
    channel: Channel
    note: str | None = Field(default=None, max_length=500, description="how the person asked")


class WrongNumberIn(Input):
    number: str = Field(
        min_length=1, max_length=20, description="one of the person's E.164 numbers"
    )


class CallbackIn(Input):
    due_at: Instant = Field(description="ISO 8601 instant with an offset")
    debt_id: DbId | None = None


class AnonymiseIn(Input):
    confirm: str = Field(min_length=1, max_length=64, description="the person's reference again")


class ActionOut(Output):
    action: str
    debtor: str
    at: dt.datetime
    detail: dict[str, Any]


async def _locked(s: AsyncSession, request: web.Request) -> Debtor:
    found = await readable_debtor(s, request.match_info["ref"])
    debtor = await s.get(Debtor, found.id, with_for_update=True, populate_existing=True)
    assert debtor is not None
    return debtor


async def _log(
    s: AsyncSession,
    debtor: Debtor,
    kind: DebtorActionKind,
    user: User,
    audited: dict[str, Any] | None = None,
    **detail: Any,
) -> ActionOut:
    """Log the action on the person's timeline (``detail``) and in the audit log
    (``audited``: what of it the audit log may keep), in the action's transaction."""
    now = utcnow()
    s.add(
        DebtorAction(debtor_id=debtor.id, kind=kind, detail=detail, by_user=user.username, at=now)
    )
    action = AUDIT_ACTIONS[kind]
    await record_audit(
        s, user, AuditEntity.DEBTOR, debtor.external_ref, action, None, audited, now=now
    )
    log.info("debtor.action", action=kind.value, debtor_id=debtor.id, by=user.username)
    return ActionOut(action=kind.value, debtor=debtor.external_ref, at=now, detail=detail)


async def post_opt_out(request: web.Request) -> web.Response:
    """Stop calls or SMS to the person."""
    body = await read_body(request, ChannelIn)
    user = current_user(request)
    async with request.app[SESSIONS]() as s, s.begin():
        debtor = await _locked(s, request)
        now = utcnow()
        if body.channel is Channel.CALL:
            debtor.opted_out_at = debtor.opted_out_at or now
            await cancel_pending_callbacks(s, debtor.id)
        else:
            debtor.sms_opted_out_at = debtor.sms_opted_out_at or now
        s.add(OptOut(debtor_id=debtor.id, channel=body.channel.value, source=SOURCE))
        channel = {"channel": body.channel.value}
        out = await _log(
            s, debtor, DebtorActionKind.OPT_OUT, user, channel, **channel, note=body.note
        )
    return reply(out)


async def post_opt_in(request: web.Request) -> web.Response:
    """Allow calls or SMS again (the person asked); the planner looks again at once."""
    body = await read_body(request, ChannelIn)
    user = current_user(request)
    async with request.app[SESSIONS]() as s, s.begin():
        debtor = await _locked(s, request)
        if body.channel is Channel.CALL:
            if debtor.opted_out_at is None:
                raise unprocessable([FieldError("channel", "calls are not opted out")])
            debtor.opted_out_at = None
            debtor.next_attempt_at = None
        else:
            if debtor.sms_opted_out_at is None:
                raise unprocessable([FieldError("channel", "SMS are not opted out")])
            debtor.sms_opted_out_at = None
        channel = {"channel": body.channel.value}
        out = await _log(
            s, debtor, DebtorActionKind.OPT_IN, user, channel, **channel, note=body.note
        )
    return reply(out)


async def post_wrong_number(request: web.Request) -> web.Response:
    """One of the person's numbers is not theirs: it is never dialed for them again."""
    body = await read_body(request, WrongNumberIn)
    user = current_user(request)
    async with request.app[SESSIONS]() as s, s.begin():
        debtor = await _locked(s, request)
        phone = next((p for p in debtor.phones if p.e164 == body.number), None)
        if phone is None:
            raise unprocessable([FieldError("number", "not one of this person's numbers")])
        phone.wrong_number_at = phone.wrong_number_at or utcnow()
        audited = {"wrong_number": audit_number(body.number)}
        out = await _log(
            s, debtor, DebtorActionKind.WRONG_NUMBER, user, audited, number=body.number
        )
    return reply(out)


async def post_callback(request: web.Request) -> web.Response:
    """Schedule a call at ``due_at``, which must fall inside the person's call windows."""
    body = await read_body(request, CallbackIn)
    user = current_user(request)
    due = body.due_at
    if due.tzinfo is None:
        raise unprocessable([FieldError("due_at", "give the instant with its offset")])
    due = due.astimezone(dt.UTC)
    now = utcnow()
    if due <= now:
        raise unprocessable([FieldError("due_at", "must be in the future")])
    if due > now + MAX_CALLBACK_AHEAD:
        raise unprocessable([FieldError("due_at", "must be within 60 days")])
    async with request.app[SESSIONS]() as s, s.begin():
        debtor = await _locked(s, request)
        if body.debt_id is not None and body.debt_id not in {d.id for d in debtor.debts}:
            raise unprocessable([FieldError("debt_id", "not a debt of this person")])
        snaps, campaigns = await load_snapshots(s, [debtor.id], due)
        verdict = evaluate(
            snaps[debtor.id], campaigns, due, callback=CallbackRow(0, body.debt_id, due)
        )
        opening = next_open(
            due, verdict.zones, verdict.windows, verdict.country, verdict.region, verdict.blocked
        )
        if opening != due:
            when = f"; the windows next open at {opening.isoformat()}" if opening else ""
            raise unprocessable(
                [FieldError("due_at", f"outside the call windows in the person's time{when}")]
            )
        cb = Callback(debtor_id=debtor.id, debt_id=body.debt_id, due_at=due, reason=SOURCE)
        s.add(cb)
        await s.flush()
        await wake_debtors(s, debtor_ids=[debtor.id])
        audited = {"due_at": due.isoformat(), "debt_id": body.debt_id}
        out = await _log(
            s,
            debtor,
            DebtorActionKind.CALLBACK,
            user,
            audited,
            callback_id=cb.id,
            due_at=due.isoformat(),
        )
    return reply(out, status=201)


async def get_export(request: web.Request) -> web.Response:
    """Everything the store holds about the person (LGPD access request), as JSON."""
    user = current_user(request)
    async with request.app[SESSIONS]() as s, s.begin():
        debtor = await _locked(s, request)
        await _log(s, debtor, DebtorActionKind.LGPD_EXPORT, user)
        await s.flush()
        data = await export_data(s, debtor)
    ref = debtor.external_ref
    return web.json_response(
        {"exported_at": utcnow().isoformat(), "by": user.username, **data},
        headers={
            "Content-Disposition": f'attachment; filename="lgpd-{ref}.json"',
            "Cache-Control": "no-store",
        },
    )


async def post_anonymise(request: web.Request) -> web.Response:
    """Anonymise the person (LGPD request): recordings deleted at the carrier first."""
    body = await read_body(request, AnonymiseIn)
    ref = request.match_info["ref"]
    if body.confirm != ref:
        raise unprocessable([FieldError("confirm", "must repeat the person's reference")])
    user = current_user(request)
    async with request.app[SESSIONS]() as s:
        debtor = await readable_debtor(s, ref)
        recordings = await kept_recordings(s, debtor.id)
    deleted = await _delete_recordings(request, recordings)
    async with request.app[SESSIONS]() as s, s.begin():
        debtor = await _locked(s, request)
        counts = await anonymise(s, debtor, utcnow())
        done = {"recordings_deleted": deleted, **counts}
        out = await _log(s, debtor, DebtorActionKind.LGPD_ANONYMISE, user, done, **done)
    return reply(out)


async def _delete_recordings(request: web.Request, recordings: list[tuple[int, str]]) -> int:
    """Delete each recording at the carrier and mark it; 502 if one is not confirmed."""
    if not recordings:
        return 0
    carrier = request.app.get(CARRIER)
    if carrier is None:
        raise json_error(503, "no carrier is configured to delete the recordings; nothing changed")
    deleted = 0
    for attempt_id, sid in recordings:
        try:
            await carrier.delete_recording(sid)  # False: already gone, which is fine
        except Exception as exc:  # the carrier did not confirm: nothing is anonymised
            log.warning("lgpd.recording_delete_failed", attempt_id=attempt_id, error=str(exc))
            raise json_error(
                502, f"the carrier did not confirm deleting a recording ({exc}); nothing changed"
            ) from None
        async with request.app[SESSIONS]() as s, s.begin():
            if await mark_recording_deleted(s, attempt_id, sid, utcnow()):
                deleted += 1
    return deleted


_D = f"{API_PREFIX}/debtors/{{ref}}"


def _ep(method: str, path: str, handler: Any, summary: str, **kw: Any) -> Endpoint:
    return Endpoint(method, f"{_D}/{path}", handler, summary, tag="debtors", **kw)


ENDPOINTS: tuple[Endpoint, ...] = (
    _ep(
        "POST",
        "opt-out",
        post_opt_out,
        "Stop calls or SMS to the person",
        body=ChannelIn,
        response=ActionOut,
        errors=(404, 422),
    ),
    _ep(
        "POST",
        "opt-in",
        post_opt_in,
        "Allow calls or SMS to the person again",
        body=ChannelIn,
        response=ActionOut,
        errors=(404, 422),
    ),
    _ep(
        "POST",
        "wrong-number",
        post_wrong_number,
        "Mark one of the person's numbers wrong",
        body=WrongNumberIn,
        response=ActionOut,
        errors=(404, 422),
    ),
    _ep(
        "POST",
        "callbacks",
        post_callback,
        "Schedule a call inside the person's call windows",
        body=CallbackIn,
        response=ActionOut,
        status=201,
        errors=(404, 422),
    ),
    _ep(
        "GET",
        "lgpd-export",
        get_export,
        "Everything the store holds about the person, as JSON (LGPD access request)",
        errors=(404,),
    ),
    _ep(
        "POST",
        "anonymise",
        post_anonymise,
        "Anonymise the person (LGPD): keep the debt and payments, delete recordings",
        body=AnonymiseIn,
        response=ActionOut,
        errors=(404, 422, 502, 503),
    ),
)
