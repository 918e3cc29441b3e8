"""The TwiML walker: verbs, webhooks and their parameters, against a stub service."""

from __future__ import annotations

import asyncio

import pytest
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from ivr.sandbox.app import Sandbox
from ivr.sandbox.callee import CalleeScript, HangUp, Press, Silence, Speak, WaitForPrompt
from ivr.sandbox.config import SandboxConfig
from ivr.sandbox.testkit import ServiceStub
from tests.support.sandbox import FROM


async def run_call(client, service, sandbox, to: str, script: CalleeScript | None = None):
    if script is not None:
        sandbox.add_callee(to, script)
    created = await client.calls.create_async(to=to, from_=FROM, url=service.url + "/voice")
    return await sandbox.wait_for_call_end(created.sid, timeout=15)


def gather_menu(action: str, **kwargs) -> str:
    response = VoiceResponse()
    gather = Gather(action=action, **kwargs)
    gather.say("Para pagar, tecle um. Para falar com um atendente, tecle dois.")
    response.append(gather)
    response.say("Não recebemos resposta.")
    return str(response)


async def test_voice_webhook_params_and_say(client, service, sandbox):
    service.reply("/voice", "<Response><Say language='pt-BR'>Olá, Maria</Say><Hangup/></Response>")
    record = await run_call(client, service, sandbox, "+5511999993001")
    (req,) = service.at("/voice")
    assert req.signature_valid
    assert req.method == "POST"
    p = req.params
    assert p["CallSid"] == record.sid
    assert p["AccountSid"] == sandbox.account_sid
    assert p["From"] == FROM and p["To"] == "+5511999993001"
    assert p["CallStatus"] == "in-progress"
    assert p["Direction"] == "outbound-api"
    assert p["ApiVersion"] == "2010-04-01"
    assert "AnsweredBy" not in p
    assert record.heard_text == ["Olá, Maria"]
    assert record.events_of("say")[0].detail["language"] == "pt-BR"


async def test_gather_digits_go_to_the_action(client, service, sandbox):
    service.reply("/voice", gather_menu("/menu", num_digits=1))
    service.reply("/menu", "<Response><Say>Obrigado</Say></Response>")
    script = CalleeScript(steps=[WaitForPrompt(min_audible_ms=500), Press("1")])
    record = await run_call(client, service, sandbox, "+5511999993002", script)
    (action,) = service.at("/menu")
    assert action.signature_valid
    assert action.params["Digits"] == "1"
    assert action.params["CallSid"] == record.sid
    assert record.heard_text[-1] == "Obrigado"
    assert "Não recebemos resposta." not in record.heard_text


async def test_gather_finish_on_key_is_not_in_digits(client, service, sandbox):
    service.reply("/voice", gather_menu("/year", finish_on_key="#"))
    service.reply("/year", "<Response/>")
    script = CalleeScript(steps=[WaitForPrompt(min_audible_ms=500), Press("1985#", gap_ms=100)])
    await run_call(client, service, sandbox, "+5511999993003", script)
    (action,) = service.at("/year")
    assert action.params["Digits"] == "1985"
    assert action.params["FinishedOnKey"] == "#"


async def test_digits_barge_in_on_the_gather_prompt(client, service, sandbox):
    service.reply("/voice", gather_menu("/menu", num_digits=1))
    service.reply("/menu", "<Response/>")
    script = CalleeScript(steps=[Press("2")])  # presses at once, during the prompt
    record = await run_call(client, service, sandbox, "+5511999993004", script)
    assert service.at("/menu")[0].params["Digits"] == "2"
    assert record.events_of("press")[0].detail["via"] == "gather"


async def test_gather_timeout_falls_through_to_the_next_verb(client, service, sandbox):
    service.reply("/voice", gather_menu("/menu", num_digits=1, timeout=2))
    record = await run_call(client, service, sandbox, "+5511999993005")
    assert service.at("/menu") == []
    assert record.heard_text[-1] == "Não recebemos resposta."


async def test_action_on_empty_result(client, service, sandbox):
    service.reply(
        "/voice", gather_menu("/menu", num_digits=1, timeout=1, action_on_empty_result=True)
    )
    service.reply("/menu", "<Response/>")
    await run_call(client, service, sandbox, "+5511999993006")
    (action,) = service.at("/menu")
    assert "Digits" not in action.params


async def test_gather_without_action_posts_to_the_document_url(client, service, sandbox):
    answers = iter(
        [
            "<Response><Gather numDigits='1'><Say>Tecle</Say></Gather></Response>",
            "<Response><Say>Fim</Say></Response>",
        ]
    )
    service.reply("/voice", lambda params: next(answers))
    script = CalleeScript(steps=[WaitForPrompt(min_audible_ms=300), Press("5")])
    record = await run_call(client, service, sandbox, "+5511999993007", script)
    second = service.at("/voice")[1]
    assert second.params["Digits"] == "5"
    assert record.heard_text == ["Tecle", "Fim"]


async def test_speech_gather_uses_the_transcript(client, service, sandbox):
    service.reply(
        "/voice",
        "<Response><Gather input='speech' action='/said' language='pt-BR'>"
        "<Say>Quando pode pagar?</Say></Gather></Response>",
    )
    service.reply("/said", "<Response/>")
    script = CalleeScript(
        steps=[WaitForPrompt(), Speak(b"\x80" * 4000, transcript="sexta-feira", confidence=0.8)]
    )
    await run_call(client, service, sandbox, "+5511999993008", script)
    (said,) = service.at("/said")
    assert said.params["SpeechResult"] == "sexta-feira"
    assert float(said.params["Confidence"]) == pytest.approx(0.8)


async def test_redirect_and_relative_urls(client, service, sandbox):
    service.reply(
        "/voice", "<Response><Say>Um</Say><Redirect method='POST'>step2</Redirect></Response>"
    )
    service.reply("/step2", "<Response><Say>Dois</Say><Hangup/><Say>nunca</Say></Response>")
    record = await run_call(client, service, sandbox, "+5511999993009")
    assert record.heard_text == ["Um", "Dois"]
    assert service.at("/step2")[0].signature_valid


async def test_pause_takes_call_time(client, service, sandbox):
    service.reply("/voice", "<Response><Pause length='3'/></Response>")
    record = await run_call(client, service, sandbox, "+5511999993010")
    paused_at = next(e.media_ms for e in record.events_of("verb") if e.detail["verb"] == "Pause")
    ended_at = record.events_of("status")[-1].media_ms
    assert ended_at - paused_at >= 3000
    assert record.duration >= 3


async def test_http_error_is_11200_and_ends_the_call(client, service, sandbox):
    service.reply("/voice", "oops", status=500)
    record = await run_call(client, service, sandbox, "+5511999993011")
    assert [code for code, _ in record.errors] == [11200]
    assert record.status == "completed"


async def test_bad_xml_is_12100(client, service, sandbox):
    service.reply("/voice", "<Response><Say>unclosed</Response>")
    record = await run_call(client, service, sandbox, "+5511999993012")
    assert [code for code, _ in record.errors] == [12100]


async def test_fallback_url_is_used_when_url_fails(client, service, sandbox):
    service.reply("/voice", "down", status=503)
    service.reply("/fallback", "<Response><Say>Plano B</Say></Response>")
    created = await client.calls.create_async(
        to="+5511999993013",
        from_=FROM,
        url=service.url + "/voice",
        fallback_url=service.url + "/fallback",
    )
    record = await sandbox.wait_for_call_end(created.sid)
    assert record.heard_text == ["Plano B"]
    assert service.at("/fallback")[0].signature_valid


async def test_unknown_verb_is_logged_and_skipped(client, service, sandbox):
    service.reply("/voice", "<Response><Dance/><Say>Depois</Say></Response>")
    record = await run_call(client, service, sandbox, "+5511999993014")
    assert [code for code, _ in record.errors] == [12200]
    assert record.heard_text == ["Depois"]


# ---------------------------------------------------------------------- Dial


def dial_twiml(noun: str, target: str, *, url: str | None = None, timeout: int = 10) -> str:
    response = VoiceResponse()
    dial = Dial(action="/dialed", timeout=timeout, caller_id="+5511333339999")
    getattr(dial, noun)(target, url=url)
    response.append(dial)
    response.say("Depois do atendente")
    return str(response)


async def test_dial_number_with_whisper_then_callee_hangs_up(client, service, sandbox):
    agent = "+5511888880001"
    sandbox.add_callee(
        agent,
        CalleeScript(
            ring_seconds=1, steps=[WaitForPrompt(min_audible_ms=300), Silence(2), HangUp()]
        ),
    )
    service.reply("/voice", dial_twiml("number", agent, url="/whisper"))
    service.reply("/whisper", "<Response><Say>Cliente Maria, promessa pendente</Say></Response>")
    service.reply("/dialed", "<Response><Say>Obrigado</Say></Response>")
    record = await run_call(client, service, sandbox, "+5511999993020")
    (child_sid,) = record.child_call_sids
    child = sandbox.calls[child_sid]
    assert child.direction == "outbound-dial"
    assert child.parent_call_sid == record.sid
    assert child.from_ == "+5511333339999"
    assert child.heard_text == ["Cliente Maria, promessa pendente"]
    (whisper,) = service.at("/whisper")
    assert whisper.params["CallSid"] == child_sid
    assert whisper.params["ParentCallSid"] == record.sid
    assert whisper.signature_valid
    (dialed,) = service.at("/dialed")
    assert dialed.params["DialCallStatus"] == "completed"
    assert dialed.params["DialCallSid"] == child_sid
    assert int(dialed.params["DialCallDuration"]) >= 2
    assert record.heard_text == ["Obrigado"]  # action TwiML replaced the rest
    await sandbox.wait_for_call_end(child_sid)
    assert child.status == "completed"


@pytest.mark.parametrize(
    ("answer", "expected"), [("busy", "busy"), ("no-answer", "no-answer"), ("failed", "failed")]
)
async def test_dial_unanswered_statuses(client, service, sandbox, answer, expected):
    agent = "+5511888880002"
    sandbox.add_callee(agent, CalleeScript(answer=answer, ring_seconds=0.5))
    service.reply("/voice", dial_twiml("number", agent, timeout=3))
    service.reply("/dialed", "<Response/>")
    await run_call(client, service, sandbox, "+5511999993021")
    (dialed,) = service.at("/dialed")
    assert dialed.params["DialCallStatus"] == expected
    assert "DialCallDuration" not in dialed.params


async def test_dial_client_and_whisper_refusal(client, service, sandbox):
    sandbox.add_callee(
        "client:ana", CalleeScript(ring_seconds=0.5, steps=[WaitForPrompt(), Press("2")])
    )
    service.reply("/voice", dial_twiml("client", "ana", url="/screen"))
    service.reply(
        "/screen",
        "<Response><Gather numDigits='1' action='/screened'><Say>Tecle um para aceitar</Say>"
        "</Gather><Hangup/></Response>",
    )
    service.reply(
        "/screened",
        lambda p: "<Response/>" if p["Digits"] == "1" else "<Response><Hangup/></Response>",
    )
    service.reply("/dialed", "<Response/>")
    record = await run_call(client, service, sandbox, "+5511999993022")
    child = sandbox.calls[record.child_call_sids[0]]
    assert child.to == "client:ana"
    assert service.at("/screened")[0].params["Digits"] == "2"
    assert service.at("/dialed")[0].params["DialCallStatus"] == "no-answer"


async def test_bridge_carries_speech_between_legs(client, service, sandbox):
    agent = "+5511888880003"
    voice = bytes([0x10, 0x90] * 800)  # loud enough to be audible
    sandbox.add_callee(agent, CalleeScript(steps=[Silence(0.5), Speak(voice)]))
    service.reply("/voice", dial_twiml("number", agent))
    service.reply("/dialed", "<Response/>")
    debtor = CalleeScript(steps=[WaitForPrompt(min_audible_ms=100, then_silence_ms=200), HangUp()])
    record = await run_call(client, service, sandbox, "+5511999993023", debtor)
    assert voice in bytes(record.heard)  # the debtor heard the agent
    assert record.events_of("prompt-heard")
    child = sandbox.calls[record.child_call_sids[0]]
    await sandbox.wait_for_call_end(child.sid)
    assert child.status == "completed"  # the debtor hanging up ended the agent's leg


# ---------------------------------------------------------------------- queues


async def test_enqueue_wait_url_then_bridged_by_dial_queue(client, service, sandbox):
    service.reply(
        "/voice",
        "<Response><Enqueue waitUrl='/hold' action='/left'>cobranca</Enqueue>"
        "<Say>nunca</Say></Response>",
    )
    service.reply("/hold", "<Response><Say>Aguarde, por favor</Say></Response>")
    service.reply("/left", "<Response><Say>Pesquisa de satisfação</Say></Response>")
    created = await client.calls.create_async(
        to="+5511999993030", from_=FROM, url=service.url + "/voice"
    )
    await service.wait_for("/hold", count=2)
    waits = service.at("/hold")
    assert waits[0].params["QueuePosition"] == "1"
    assert waits[0].params["CurrentQueueSize"] == "1"
    assert waits[0].params["QueueSid"].startswith("QU")
    assert int(waits[1].params["QueueTime"]) >= int(waits[0].params["QueueTime"])
    assert all(w.signature_valid for w in waits)

    service.reply(
        "/agent",
        "<Response><Dial action='/agent-done'>"
        "<Queue url='/connecting'>cobranca</Queue></Dial></Response>",
    )
    service.reply("/connecting", "<Response><Say>Conectando ao atendente</Say></Response>")
    service.reply("/agent-done", "<Response/>")
    agent_call = sandbox.start_inbound_call(
        from_="client:ana",
        to=FROM,
        url=service.url + "/agent",
        script=CalleeScript(steps=[Silence(8), HangUp()]),
    )
    await sandbox.wait_for_call_end(agent_call.sid, timeout=15)
    record = await sandbox.wait_for_call_end(created.sid, timeout=15)
    (done,) = service.at("/agent-done")
    assert done.params["DialCallStatus"] == "completed"
    assert done.params["DialCallSid"] == created.sid
    (left,) = service.at("/left")
    assert left.params["QueueResult"] == "bridged"
    assert left.params["QueueSid"] == waits[0].params["QueueSid"]
    assert "Conectando ao atendente" in record.heard_text
    assert record.heard_text[-1] == "Pesquisa de satisfação"
    assert "nunca" not in record.heard_text


async def test_leave_in_wait_document(client, service, sandbox):
    service.reply(
        "/voice",
        "<Response><Enqueue waitUrl='/hold' action='/left'>q2</Enqueue></Response>",
    )
    service.reply("/hold", "<Response><Say>Espere</Say><Leave/></Response>")
    service.reply("/left", "<Response/>")
    await run_call(client, service, sandbox, "+5511999993031")
    assert service.at("/left")[0].params["QueueResult"] == "leave"


async def test_two_callers_see_their_positions(client, service, sandbox):
    service.reply("/voice", "<Response><Enqueue waitUrl='/hold'>q3</Enqueue></Response>")
    service.reply("/hold", "<Response><Pause length='2'/></Response>")
    first = await client.calls.create_async(
        to="+5511999993032", from_=FROM, url=service.url + "/voice"
    )
    await service.wait_for("/hold", count=1)
    second = await client.calls.create_async(
        to="+5511999993033", from_=FROM, url=service.url + "/voice"
    )
    await asyncio.wait_for(_until_position(service, second.sid, "2"), 10)
    for sid in (first.sid, second.sid):
        await client.calls(sid).update_async(status="completed")
    for sid in (first.sid, second.sid):
        await sandbox.wait_for_call_end(sid)
    assert sandbox.engine.queues.get("q3").members == []


async def _until_position(service, sid: str, position: str) -> None:
    while not any(
        r.params.get("CallSid") == sid and r.params.get("QueuePosition") == position
        for r in service.at("/hold")
    ):
        service.arrived.clear()
        await service.arrived.wait()


async def test_inline_twiml_on_create(client, service, sandbox):
    created = await client.calls.create_async(
        to="+5511999993040", from_=FROM, twiml="<Response><Say>Sem URL</Say></Response>"
    )
    record = await sandbox.wait_for_call_end(created.sid)
    assert record.heard_text == ["Sem URL"]
    assert service.requests == []


async def test_dialed_leg_status_callbacks(client, service, sandbox):
    agent = "+5511888880004"
    sandbox.add_callee(agent, CalleeScript(ring_seconds=0.5, steps=[Silence(1), HangUp()]))
    service.reply(
        "/voice",
        "<Response><Dial><Number statusCallback='/leg' "
        f"statusCallbackEvent='initiated ringing answered completed'>{agent}</Number>"
        "</Dial></Response>",
    )
    record = await run_call(client, service, sandbox, "+5511999993041")
    child_sid = record.child_call_sids[0]
    await sandbox.wait_for_call_end(child_sid)
    legs = service.at("/leg")
    assert [r.params["CallStatus"] for r in legs] == [
        "initiated",
        "ringing",
        "in-progress",
        "completed",
    ]
    assert all(r.params["ParentCallSid"] == record.sid for r in legs)
    assert all(r.params["Direction"] == "outbound-dial" for r in legs)
    assert all(r.signature_valid for r in legs)


async def test_unpaced_clock_runs_long_pauses_quickly():
    async with Sandbox(SandboxConfig(realtime=False)) as sb, ServiceStub(sb.auth_token) as stub:
        stub.reply("/voice", "<Response><Pause length='20'/><Say>fim</Say></Response>")
        record = sb.start_inbound_call(from_="+5511999993042", to=FROM, url=stub.url + "/voice")
        await sb.wait_for_call_end(record.sid, timeout=5)
    assert record.heard_text == ["fim"]
    assert record.duration is not None and record.duration >= 20
