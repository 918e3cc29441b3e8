"""TwiML documents the service answers with, built with twilio-python."""

from __future__ import annotations

from twilio.twiml.voice_response import Connect, Dial, VoiceResponse

from ivr.telephony.signature import websocket_url


def connect_stream(public_base: str, parameters: dict[str, str]) -> str:
    """Answer with a bidirectional Media Stream; verbs after it end the call.

    The stream URL takes no query string: identity travels as <Parameter>.
    """
    response = VoiceResponse()
    connect = Connect()
    stream = connect.stream(url=websocket_url(public_base.rstrip("/") + "/twilio/media"))
    for name, value in parameters.items():
        stream.parameter(name=name, value=value)
    response.append(connect)
    response.hangup()
    return str(response)


def say_and_hangup(text: str, language: str) -> str:
    response = VoiceResponse()
    response.say(text, language=language)
    response.hangup()
    return str(response)


def hangup() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def dial_agent(
    endpoint: str,
    *,
    action: str,
    whisper_url: str | None,
    caller_id: str | None,
    timeout_s: int = 20,
    hold_text: str | None = None,
    language: str = "pt-BR",
) -> str:
    """Bridge the caller to one agent endpoint (client:, sip:, or a number)."""
    response = VoiceResponse()
    if hold_text:
        response.say(hold_text, language=language)
    dial = Dial(action=action, timeout=timeout_s, caller_id=caller_id)
    if endpoint.startswith("client:"):
        dial.client(endpoint.removeprefix("client:"), url=whisper_url)
    elif endpoint.startswith("sip:"):
        dial.sip(endpoint, url=whisper_url)
    else:
        dial.number(endpoint, url=whisper_url)
    response.append(dial)
    return str(response)


def enqueue(queue: str, *, wait_url: str, action: str) -> str:
    response = VoiceResponse()
    response.enqueue(queue, wait_url=wait_url, action=action)
    return str(response)
