"""TwiML documents the service answers with, built with twilio-python.

One module for every TwiML the service writes, so that the call's Media Stream
and the transfer's verbs (hold line + ``<Dial>``, ``<Enqueue>``, the queue's
wait loop, the agent's whisper) are spelled the same way.

URLs are absolute (the configured public URL), since a redirected call has no
document URL to resolve relative ones against, and Twilio signs exactly what
it requests.
"""

from __future__ import annotations

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Connect, Dial, Gather, VoiceResponse

from ivr.telephony.signature import websocket_url

QUEUE_NAME = "debtors"
DIAL_TIMEOUT_S = 20


#: The carrier's voice for the lines it speaks itself (hold, queue, whisper).
#: ``<Say>`` defaults to "man"; the catalog's lines speak as a woman
#: ("Obrigada pela ligação"), as the call's own synthesized voice does.
SAY_VOICES = {"pt-BR": "Polly.Camila", "en-US": "Polly.Joanna"}


def _say(response: VoiceResponse | Gather, text: str, locale: str) -> None:
    response.say(text, voice=SAY_VOICES.get(locale), language=locale)


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


def dial(
    endpoint: str,
    *,
    action: str,
    whisper_url: str,
    locale: str,
    say_first: str | None = None,
    timeout_s: int = DIAL_TIMEOUT_S,
) -> str:
    """(A short line for the debtor, then) ring one agent endpoint; the agent hears the
    whisper before the bridge. ``endpoint``: ``client:NAME``, ``sip:URI`` or a number."""
    response = VoiceResponse()
    if say_first:
        _say(response, say_first, locale)
    d = Dial(action=action, method="POST", timeout=timeout_s)
    if endpoint.startswith("client:"):
        d.client(endpoint.removeprefix("client:"), url=whisper_url, method="POST")
    elif endpoint.startswith("sip:"):
        d.sip(endpoint, url=whisper_url, method="POST")
    else:
        d.number(endpoint, url=whisper_url, method="POST")
    response.append(d)
    return str(response)


def enqueue(*, wait_url: str, action: str, locale: str, say_first: str | None = None) -> str:
    """Nobody is free: wait in the queue; the wait URL speaks, the action ends it."""
    response = VoiceResponse()
    if say_first:
        _say(response, say_first, locale)
    response.enqueue(
        QUEUE_NAME, wait_url=wait_url, wait_url_method="POST", action=action, method="POST"
    )
    return str(response)


def hold(text: str, locale: str, pause_s: int = 10) -> str:
    """One turn of the queue's wait loop: a line, then a pause (the loop repeats it)."""
    response = VoiceResponse()
    _say(response, text, locale)
    response.pause(length=pause_s)
    return str(response)


def offer_callback(text: str, *, action: str, locale: str, timeout_s: int = 6) -> str:
    """Ask, inside the wait loop, whether the caller wants a callback (keypad 1 or "sim")."""
    response = VoiceResponse()
    g = Gather(
        input="dtmf speech",
        num_digits=1,
        timeout=timeout_s,
        action=action,
        method="POST",
        language=locale,
        hints="sim, não, yes, no" if locale == "pt-BR" else "yes, no",
    )
    _say(g, text, locale)
    response.append(g)
    return str(response)


def say(text: str, locale: str) -> str:
    response = VoiceResponse()
    _say(response, text, locale)
    return str(response)


def say_and_hangup(text: str, locale: str) -> str:
    response = VoiceResponse()
    _say(response, text, locale)
    response.hangup()
    return str(response)


def pause(seconds: int) -> str:
    response = VoiceResponse()
    response.pause(length=seconds)
    return str(response)


def hangup() -> str:
    """Ends a call the service cannot place; also the whisper's answer when the
    transfer is no longer waiting: the agent leg ends."""
    response = VoiceResponse()
    response.hangup()
    return str(response)


def leave() -> str:
    response = VoiceResponse()
    response.leave()
    return str(response)


def empty() -> str:
    return str(VoiceResponse())


def message(text: str | None = None, *, status_url: str | None = None) -> str:
    """The answer to an inbound SMS: one ``<Message>`` back to the sender, or,
    without ``text``, an empty ``<Response/>`` (nothing is sent). The carrier
    posts the reply's statuses to ``status_url`` (its ``action``)."""
    response = MessagingResponse()
    if text:
        if status_url:
            response.message(text, action=status_url, method="POST")
        else:
            response.message(text)
    return str(response)
