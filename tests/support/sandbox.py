"""Helpers for the sandbox tests: the caller ID, a twilio-python client, a call, an SMS.

The fixtures built on them (``sandbox``, ``service``, ``client``) live in
tests/integration/conftest.py; tests that start their own sandbox (fault
injection, other speeds) use :func:`make_client` directly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from ivr.audio import mulaw
from ivr.sandbox.app import Sandbox, ServedApp

FROM = "+5511333330000"
"""The service's caller ID in every sandbox test."""


def make_client(sb: Sandbox) -> tuple[Client, AsyncTwilioHttpClient]:
    """A twilio-python client aimed at ``sb``; the caller closes the HTTP client."""
    http = AsyncTwilioHttpClient()
    client = Client(sb.account_sid, sb.auth_token, http_client=http)
    client.api.base_url = sb.url
    return client, http


def tone(seconds: float, freq: float = 440.0, level: float = 0.3) -> bytes:
    """A sine tone as mu-law 8 kHz: audio that is plainly not silence."""
    t = np.arange(int(8000 * seconds)) / 8000.0
    pcm = (np.sin(2 * np.pi * freq * t) * level * 32767).astype(np.int16)
    return mulaw.encode(pcm)


async def place(client: Client, service: ServedApp, to: str, **kwargs: Any) -> Any:
    """A call from :data:`FROM` to ``to`` whose TwiML and status callbacks are the
    stub ``service``'s ``/voice`` and ``/status``."""
    return await client.calls.create_async(
        to=to,
        from_=FROM,
        url=service.url + "/voice",
        status_callback=service.url + "/status",
        **kwargs,
    )


async def text(client: Client, service: ServedApp, to: str, body: str, **kwargs: Any) -> Any:
    """An SMS from :data:`FROM` (unless ``from_`` says otherwise) to ``to`` whose
    status callbacks go to the stub ``service``'s ``/sms-status``.

    What the sandbox holds is read with ``sandbox.sms`` (``to(number)``,
    ``wait_for_final(sid)``, each message's ``statuses`` and ``status_callbacks``).
    """
    kwargs.setdefault("from_", FROM)
    return await client.messages.create_async(
        to=to, body=body, status_callback=service.url + "/sms-status", **kwargs
    )
