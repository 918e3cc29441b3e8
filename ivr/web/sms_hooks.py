"""SMS webhooks: ``/twilio/sms-status`` (where a message we sent stands) and
``/twilio/sms`` (a message a debtor wrote to us).

Both are signed like every Twilio webhook (:func:`ivr.telephony.signature.signed_form`:
403 without a valid signature, 400 naming a field Twilio would never send),
and both are idempotent: the carrier retries, and its callbacks arrive in
any order.

Inbound messages are kept once per ``MessageSid``. The sender is found by
``From`` among the debtors' numbers (:mod:`ivr.store.sms_contacts`):

* one debtor: the message is kept with them;
* several debtors on one number (a family phone): the message is kept with
  *none* of them -- we cannot tell who wrote it, and showing one person's
  words in another's history would disclose them -- but a STOP or START
  applies to each (each gets an ``opt_outs`` row, the history of the stop);
* nobody: the message is kept without a debtor; a STOP blocks the number
  itself for SMS (``sms_number_opt_outs``), a START lifts that block.

SAIR / PARAR / STOP (:mod:`ivr.messaging.keywords`) stop SMS at once and are
answered once, with ``<Message>`` in the debtor's locale; a STOP while
already stopped gets an empty ``<Response/>``. VOLTAR / START restart SMS
for a stopped sender, with one confirmation; from a sender who is not
stopped they are an ordinary reply. Each confirmation is an outbound
``sms_messages`` row written in the same transaction, whose statuses come
back to ``/twilio/sms-status`` through the ``<Message action>``. Any other
text lands in the debtor's history and on the screen of every agent who
has this debtor on screen (an ``sms`` event of :mod:`ivr.agents.hub`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog
from aiohttp import web
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.agents.hub import AgentEvent
from ivr.agents.keys import AGENT_HUB
from ivr.keys import SESSIONS, SETTINGS, SIGNATURES
from ivr.messaging.keywords import keyword
from ivr.messaging.outbox import SMS_STATUS_PATH, UNSUBSCRIBED, status_callback_url
from ivr.messaging.sms_texts import check_replies, reply_text
from ivr.store.messages import add_inbound, add_outbound, apply_sms_status
from ivr.store.models import Debtor
from ivr.store.sms_contacts import (
    block_number_sms,
    debtors_at_number,
    opt_in_sms,
    opt_out_sms,
    screens_showing,
    unblock_number_sms,
)
from ivr.telephony import twiml
from ivr.telephony.signature import signed_form
from ivr.telephony.webhook_form import MAX_ERROR_CODE, MAX_MEDIA
from ivr.vocab.messages import SmsKeyword, SmsPurpose

log = structlog.get_logger(__name__)

SMS_INBOUND_PATH = "/twilio/sms"


async def sms_status(request: web.Request) -> web.Response:
    """A status callback of a message we sent: forward-only, any order, any number
    of times (:func:`ivr.store.messages.apply_sms_status`). The ``sms`` id in
    the URL we gave the carrier must agree with ``MessageSid``."""
    form = await signed_form(request, request.app[SIGNATURES])
    sid = form.message_sid()
    status = form.sms_status()
    error_code = form.integer("ErrorCode", high=MAX_ERROR_CODE)
    message_id = form.query_id("sms")
    changed = False
    try:
        async with request.app[SESSIONS]() as s, s.begin():
            msg = await apply_sms_status(
                s, message_id=message_id, sid=sid, status=status, error_code=error_code
            )
            changed = msg is not None
            if msg is not None and error_code == UNSUBSCRIBED and msg.debtor_id is not None:
                # The carrier says the recipient replied STOP: as if we had read it.
                debtor = await s.get(Debtor, msg.debtor_id, with_for_update=True)
                if debtor is not None:
                    await opt_out_sms(s, [debtor])
    except IntegrityError:  # the sid is already another message's
        changed = False
    if not changed:
        log.debug("twilio.sms_status_ignored", sms_id=message_id, sid=sid, status=str(status))
    return web.Response(status=204)


@dataclass
class _Handled:
    """What an inbound message led to: the answer, and the screens to tell."""

    reply: str | None = None
    reply_id: int | None = None
    screens: list[tuple[int, int]] = field(default_factory=list)
    sms_id: int | None = None


def _locale(debtors: list[Debtor], default: str) -> str:
    locales = {d.locale for d in debtors}
    return str(locales.pop()) if len(locales) == 1 else default


async def _handle(
    s: AsyncSession,
    *,
    sid: str,
    sender: str,
    to: str,
    body: str,
    default_locale: str,
    public_url: str,
) -> tuple[_Handled, str | None]:
    """Store the message and act on it; (what to do next, the reply's status URL)."""
    debtors = list(await debtors_at_number(s, sender))
    own = debtors[0].id if len(debtors) == 1 else None
    msg, new = await add_inbound(s, debtor_id=own, sid=sid, from_=sender, to=to, body=body)
    if not new:
        return _Handled(), None  # a retried webhook: everything was done the first time
    word = keyword(body)
    purpose: SmsPurpose | None = None
    if word is SmsKeyword.OPT_OUT:
        if debtors:
            stopped = bool(await opt_out_sms(s, debtors))
        else:
            stopped = await block_number_sms(s, sender, sid)
        purpose = SmsPurpose.OPT_OUT_CONFIRMATION if stopped else None
        log.info("sms.opt_out", debtors=[d.id for d in debtors], new=stopped)
    elif word is SmsKeyword.OPT_IN:
        restarted = bool(await opt_in_sms(s, debtors)) if debtors else False
        restarted = await unblock_number_sms(s, sender) or restarted
        if restarted:
            purpose = SmsPurpose.OPT_IN_CONFIRMATION
            log.info("sms.opt_in", debtors=[d.id for d in debtors])
        else:
            word = None  # "yes" from someone who never stopped: just a reply
    out = _Handled(sms_id=msg.id)
    if word is None and own is not None:
        out.screens = await screens_showing(s, own)
    if purpose is None:
        return out, None
    text = reply_text(purpose, _locale(debtors, default_locale))
    row = await add_outbound(
        s, debtor_id=own, purpose=purpose, to=sender, from_=to, body=text, local_day=None
    )
    out.reply, out.reply_id = text, row.id
    return out, status_callback_url(public_url, row.id)


async def inbound(request: web.Request) -> web.Response:
    """A message from a debtor (or anyone): stored once, acted on once, answered
    at most once (TwiML ``<Message>``, or an empty ``<Response/>``)."""
    form = await signed_form(request, request.app[SIGNATURES])
    sid = form.message_sid()
    sender = form.phone("From")
    to = form.phone("To")
    assert sender is not None and to is not None
    body = form.text("Body") or ""
    form.integer("NumMedia", high=MAX_MEDIA)
    settings = request.app[SETTINGS]
    assert settings.public_url
    handled, status_url = _Handled(), None
    # A concurrent delivery may win a unique key (the same MessageSid, or the
    # same number's block) and roll this one back: the second try then finds
    # what it stored and does nothing twice, and a different message is kept.
    for _ in range(2):
        try:
            async with request.app[SESSIONS]() as s, s.begin():
                handled, status_url = await _handle(
                    s,
                    sid=sid,
                    sender=sender,
                    to=to,
                    body=body,
                    default_locale=settings.locale,
                    public_url=settings.public_url,
                )
            break
        except IntegrityError:
            handled, status_url = _Handled(), None
    hub = request.app.get(AGENT_HUB)
    if hub is not None and handled.sms_id is not None:
        for agent_id, transfer_id in handled.screens:
            await hub.publish(AgentEvent(agent_id, "sms", transfer_id, sms_id=handled.sms_id))
    return web.Response(
        text=twiml.message(handled.reply, status_url=status_url), content_type="text/xml"
    )


def setup_sms_routes(app: web.Application) -> None:
    check_replies()  # a missing confirmation text fails at start-up, not at a STOP
    app.router.add_post(SMS_STATUS_PATH, sms_status)
    app.router.add_post(SMS_INBOUND_PATH, inbound)
