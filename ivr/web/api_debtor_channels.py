"""A debtor's channels: whether calls and SMS are allowed, the one they prefer,
and their text messages.

``PATCH /debtors/{ref}/channels`` changes ``calls_allowed``, ``sms_allowed``
and ``preferred_channel`` (the fields left out stay as they are; ``null``
clears the preference); a preference for a channel the debtor does not
allow is refused with 422 naming ``preferred_channel``. ``calls_allowed``
is read by the call rule book (``calls_not_allowed`` in ``/explain``), so
the planner is woken to look at the debtor again. An SMS opt-out
(``sms_opted_out_at``, set by SAIR/STOP) is the debtor's own word and is
shown, never changed, here: only the debtor lifts it, with VOLTAR/START.

``GET /debtors/{ref}/messages`` is the SMS history, newest first.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.keys import SESSIONS
from ivr.store.audit import audit_fields, record_audit
from ivr.store.messages import debtor_messages
from ivr.store.models import Debtor, Role
from ivr.store.sms_contacts import sms_blocked_numbers
from ivr.vocab.audit import AuditAction, AuditEntity
from ivr.vocab.messages import Channel
from ivr.web.api_common import API_PREFIX, Endpoint, FieldError, read_body, reply, unprocessable
from ivr.web.api_debtor_schemas import (
    ChannelsIn,
    ChannelsOut,
    SmsList,
    SmsOut,
)
from ivr.web.api_debtors import _debtor
from ivr.web.auth import current_user

_ALLOWS = {Channel.CALL: "calls_allowed", Channel.SMS: "sms_allowed"}
_AUDITED = ("calls_allowed", "sms_allowed", "preferred_channel")


async def channels_out(s: AsyncSession, debtor: Debtor) -> ChannelsOut:
    blocked = await sms_blocked_numbers(s, [p.e164 for p in debtor.phones])
    return ChannelsOut(
        calls_allowed=debtor.calls_allowed,
        sms_allowed=debtor.sms_allowed,
        preferred_channel=debtor.preferred_channel,
        sms_opted_out_at=debtor.sms_opted_out_at,
        sms_blocked_numbers=sorted(blocked),
    )


async def get_channels(request: web.Request) -> web.Response:
    """The debtor's channel choices and SMS opt-outs."""
    async with request.app[SESSIONS]() as s:
        debtor = await _debtor(s, request.match_info["ref"], current_user(request))
        return reply(await channels_out(s, debtor))


async def patch_channels(request: web.Request) -> web.Response:
    """Change which channels the debtor may be reached on, and the one they prefer."""
    body = await read_body(request, ChannelsIn)
    given = body.model_fields_set
    async with request.app[SESSIONS]() as s, s.begin():
        found = await _debtor(s, request.match_info["ref"])
        debtor = await s.get(Debtor, found.id, with_for_update=True, populate_existing=True)
        assert debtor is not None
        before = audit_fields(debtor, _AUDITED)
        if "calls_allowed" in given and body.calls_allowed is not None:
            debtor.calls_allowed = body.calls_allowed
            debtor.next_attempt_at = None  # the planner looks again at once
        if "sms_allowed" in given and body.sms_allowed is not None:
            debtor.sms_allowed = body.sms_allowed
        if "preferred_channel" in given:
            debtor.preferred_channel = body.preferred_channel
        preferred = debtor.preferred_channel
        if preferred is not None and not getattr(debtor, _ALLOWS[preferred]):
            raise unprocessable(
                [
                    FieldError(
                        "preferred_channel",
                        f"{preferred.value} is not allowed for this debtor "
                        f"({_ALLOWS[preferred]} is false)",
                    )
                ]
            )
        await s.flush()
        await record_audit(
            s,
            current_user(request),
            AuditEntity.DEBTOR,
            debtor.external_ref,
            AuditAction.UPDATE,
            before,
            audit_fields(debtor, _AUDITED),
        )
        out = await channels_out(s, debtor)
    return reply(out)


async def list_messages(request: web.Request) -> web.Response:
    """The debtor's text messages, sent and received, newest first."""
    async with request.app[SESSIONS]() as s:
        debtor = await _debtor(s, request.match_info["ref"], current_user(request))
        rows = await debtor_messages(s, debtor.id)
        return reply(SmsList(items=[SmsOut.model_validate(m) for m in rows]))


_D = f"{API_PREFIX}/debtors/{{ref}}"
_READERS = (Role.AGENT, Role.SUPERVISOR)

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "GET",
        f"{_D}/channels",
        get_channels,
        "Whether calls and SMS are allowed, the preferred channel, SMS opt-outs",
        roles=_READERS,
        tag="debtors",
        response=ChannelsOut,
        errors=(404,),
    ),
    Endpoint(
        "PATCH",
        f"{_D}/channels",
        patch_channels,
        "Allow or forbid calls and SMS for the debtor; set the preferred channel",
        tag="debtors",
        body=ChannelsIn,
        response=ChannelsOut,
        errors=(404, 422),
    ),
    Endpoint(
        "GET",
        f"{_D}/messages",
        list_messages,
        "The debtor's text messages (SMS), newest first",
        roles=_READERS,
        tag="debtors",
        response=SmsList,
        errors=(404,),
    ),
)
