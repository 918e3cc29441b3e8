"""``POST /twilio/sms``: a debtor's text, kept once, acted on once, answered once.

SAIR / PARAR / STOP in any case, accents and punctuation stop SMS at once
and are confirmed once; VOLTAR / START restart them; anything else lands
in the history and on the screen of the agent who has the debtor on it;
a STOP from a number nobody is known by blocks that number for SMS.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import select

from ivr.messaging.sms_texts import reply_text
from ivr.store.models import Debtor, OptOut, SmsMessage, SmsNumberOptOut, Transfer
from ivr.vocab.messages import SmsDirection, SmsPurpose
from tests.support.agents import seed_agent, seed_call
from tests.support.sms import SmsApp, add_debtor, new_sid, sms_app

MOBILE = "+5511987654321"
STRANGER = "+5511976543210"
EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response />'


@pytest.fixture
async def app(engine, sessions, db_url, aiohttp_client):
    async with sms_app(engine, sessions, db_url, aiohttp_client) as a:
        yield a


async def _debtor(app: SmsApp, debtor_id: int) -> Debtor:
    async with app.sessions() as s:
        d = await s.get(Debtor, debtor_id)
        assert d is not None
        return d


async def _messages(app: SmsApp) -> list[SmsMessage]:
    async with app.sessions() as s:
        return list(await s.scalars(select(SmsMessage).order_by(SmsMessage.id)))


@pytest.mark.parametrize("body", ["stop", " Sair ", "PARAR!", "párar", "Descadastrar."])
async def test_stop_words_opt_out_and_confirm_once(app: SmsApp, body: str) -> None:
    debtor_id = await add_debtor(app.sessions, MOBILE)
    status, xml = await app.inbound(MOBILE, body)
    first_xml = xml
    assert status == 200, xml
    confirmation = reply_text(SmsPurpose.OPT_OUT_CONFIRMATION, "pt-BR")
    assert "<Message action=" in xml and confirmation in xml
    debtor = await _debtor(app, debtor_id)
    assert debtor.sms_opted_out_at is not None
    assert debtor.opted_out_at is None  # calls are a separate choice
    async with app.sessions() as s:
        channels = (
            await s.scalars(select(OptOut.channel).where(OptOut.debtor_id == debtor_id))
        ).all()
    assert channels == ["sms"]
    # A second STOP: nothing more is sent.
    status, xml = await app.inbound(MOBILE, "STOP")
    assert (status, xml) == (200, EMPTY)
    rows = await _messages(app)
    assert [(m.direction, m.purpose) for m in rows] == [
        (SmsDirection.INBOUND, SmsPurpose.REPLY),
        (SmsDirection.OUTBOUND, SmsPurpose.OPT_OUT_CONFIRMATION),
        (SmsDirection.INBOUND, SmsPurpose.REPLY),
    ]
    assert all(m.debtor_id == debtor_id for m in rows)
    reply = rows[1]
    assert (reply.to_number, reply.body) == (MOBILE, confirmation)
    assert f"/twilio/sms-status?sms={reply.id}" in first_xml


async def test_sentences_are_not_keywords(app: SmsApp) -> None:
    debtor_id = await add_debtor(app.sessions, MOBILE)
    for body in ("stop please", "não consigo parar", "stopp", "PARAR DE LIGAR"):
        assert await app.inbound(MOBILE, body) == (200, EMPTY)
    assert (await _debtor(app, debtor_id)).sms_opted_out_at is None


async def test_retried_webhook_does_nothing_twice(app: SmsApp) -> None:
    debtor_id = await add_debtor(app.sessions, MOBILE)
    sid = new_sid()
    first = await app.inbound(MOBILE, "SAIR", sid=sid)
    assert "<Message" in first[1]
    again = await asyncio.gather(*(app.inbound(MOBILE, "SAIR", sid=sid) for _ in range(3)))
    assert all(r == (200, EMPTY) for r in again)
    assert len(await _messages(app)) == 2  # the STOP and its one confirmation
    async with app.sessions() as s:
        assert (
            len((await s.scalars(select(OptOut).where(OptOut.debtor_id == debtor_id))).all()) == 1
        )


async def test_voltar_opts_back_in_once(app: SmsApp) -> None:
    debtor_id = await add_debtor(app.sessions, MOBILE)
    await app.inbound(MOBILE, "PARAR")
    status, xml = await app.inbound(MOBILE, " Voltar! ")
    assert status == 200 and reply_text(SmsPurpose.OPT_IN_CONFIRMATION, "pt-BR") in xml
    assert (await _debtor(app, debtor_id)).sms_opted_out_at is None
    # Not stopped any more: VOLTAR again is just a reply, not confirmed again.
    assert await app.inbound(MOBILE, "VOLTAR") == (200, EMPTY)
    purposes = [m.purpose for m in await _messages(app) if m.direction == SmsDirection.OUTBOUND]
    assert purposes == [SmsPurpose.OPT_OUT_CONFIRMATION, SmsPurpose.OPT_IN_CONFIRMATION]


async def test_confirmation_in_the_debtors_locale(app: SmsApp) -> None:
    await add_debtor(app.sessions, "+12025550143", locale="en-US")
    status, xml = await app.inbound("+12025550143", "Unsubscribe")
    assert status == 200 and reply_text(SmsPurpose.OPT_OUT_CONFIRMATION, "en-US") in xml
    assert "START" in xml


async def test_other_text_is_kept_and_pushed_to_the_agents_screen(app: SmsApp) -> None:
    call = await seed_call(app.sessions, ref="SMS-SCREEN", phone=MOBILE)
    agent = await seed_agent(app.sessions, "bea")
    bystander = await seed_agent(app.sessions, "caio")
    async with app.sessions() as s, s.begin():
        transfer = Transfer(
            attempt_id=call.attempt_id,
            agent_id=agent.id,
            reason="asked",
            status="connected",
            tried_agent_ids=[],
        )
        s.add(transfer)
        await s.flush()
        transfer_id = transfer.id
    queue = app.hub.subscribe(agent.id)
    other_queue = app.hub.subscribe(bystander.id)
    status, xml = await app.inbound(MOBILE, "Posso pagar na sexta-feira?")
    assert (status, xml) == (200, EMPTY)
    [msg] = await _messages(app)
    assert (msg.debtor_id, msg.body) == (call.debtor_id, "Posso pagar na sexta-feira?")
    event = await asyncio.wait_for(queue.get(), 5)
    assert (event.kind, event.transfer_id, event.sms_id) == ("sms", transfer_id, msg.id)
    assert other_queue.empty()
    # What the desktop shows for that event: the pop with the message on top.
    from ivr.agents.screen import build_pop

    async with app.sessions() as s:
        pop = await build_pop(s, transfer_id)
    assert pop is not None
    assert pop["messages"][0]["text"] == "Posso pagar na sexta-feira?"
    assert pop["messages"][0]["who"] == "debtor"


async def test_unknown_number_stop_blocks_the_number(app: SmsApp) -> None:
    status, xml = await app.inbound(STRANGER, "STOP")
    assert status == 200 and reply_text(SmsPurpose.OPT_OUT_CONFIRMATION, "pt-BR") in xml
    assert await app.inbound(STRANGER, "stop") == (200, EMPTY)
    async with app.sessions() as s:
        assert (await s.scalars(select(SmsNumberOptOut.e164))).all() == [STRANGER]
    rows = await _messages(app)
    assert all(m.debtor_id is None for m in rows) and len(rows) == 3
    # START lifts the block, once.
    status, xml = await app.inbound(STRANGER, "START")
    assert reply_text(SmsPurpose.OPT_IN_CONFIRMATION, "pt-BR") in xml
    async with app.sessions() as s:
        assert (await s.scalars(select(SmsNumberOptOut.e164))).all() == []


async def test_a_wrong_number_is_nobodys(app: SmsApp) -> None:
    """A number marked wrong for a debtor is not them: their SMS go on, the number stops."""
    debtor_id = await add_debtor(app.sessions, MOBILE, wrong_number=True)
    assert "<Message" in (await app.inbound(MOBILE, "PARAR"))[1]
    assert (await _debtor(app, debtor_id)).sms_opted_out_at is None
    async with app.sessions() as s:
        assert (await s.scalars(select(SmsNumberOptOut.e164))).all() == [MOBILE]


async def test_shared_number_stops_each_and_keeps_the_text_with_none(app: SmsApp) -> None:
    first = await add_debtor(app.sessions, MOBILE)
    second = await add_debtor(app.sessions, MOBILE)
    status, xml = await app.inbound(MOBILE, "Sair")
    assert status == 200 and xml.count("<Message") == 1
    assert (await _debtor(app, first)).sms_opted_out_at is not None
    assert (await _debtor(app, second)).sms_opted_out_at is not None
    assert {m.debtor_id for m in await _messages(app)} == {None}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"From": "not a number"}, "From"),
        ({"From": ""}, "From"),
        ({"To": "+1"}, "To"),
        ({"MessageSid": "SM123"}, "MessageSid"),
        ({"NumMedia": "11"}, "NumMedia"),
        ({"Body": "x" * 2001}, "Body"),
    ],
)
async def test_bad_inbound_field_is_400(app: SmsApp, changes: dict[str, str], field: str) -> None:
    sid = new_sid()
    fields = {"MessageSid": sid, "From": MOBILE, "To": "+551130000000", "Body": "STOP", **changes}
    status, body = await app.post("/twilio/sms", fields)
    assert status == 400, body
    assert json.loads(body)["errors"][0]["field"] == field
    assert await _messages(app) == []


async def test_unsigned_inbound_is_refused(app: SmsApp) -> None:
    debtor_id = await add_debtor(app.sessions, MOBILE)
    fields = {"MessageSid": new_sid(), "From": MOBILE, "To": "+551130000000", "Body": "STOP"}
    assert (await app.post("/twilio/sms", fields, signature=None))[0] == 403
    assert (await app.post("/twilio/sms", fields, token="forged"))[0] == 403
    assert (await _debtor(app, debtor_id)).sms_opted_out_at is None
    assert await _messages(app) == []


async def test_concurrent_stops_from_an_unknown_number_keep_every_message(app: SmsApp) -> None:
    answers = await asyncio.gather(*(app.inbound(STRANGER, "STOP") for _ in range(4)))
    assert all(status == 200 for status, _ in answers)
    assert sum(xml.count("<Message") for _, xml in answers) == 1
    rows = await _messages(app)
    assert sum(m.direction == SmsDirection.INBOUND for m in rows) == 4
