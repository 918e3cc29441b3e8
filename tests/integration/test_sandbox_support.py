"""Shared fixtures for the sandbox tests (no tests here).

``sandbox`` is a fast sandbox carrier on a free port, ``service`` a
:class:`ServiceStub` that checks the sandbox's signatures, and ``client`` the
real twilio-python client pointed at the sandbox. A test module imports the
fixtures by name and lists them in ``__all__``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from ivr.sandbox.app import Sandbox
from ivr.sandbox.config import SandboxConfig
from ivr.sandbox.testkit import ServiceStub

FROM = "+5511333330000"
"""The service's caller ID in every sandbox test."""


def make_client(sb: Sandbox) -> tuple[Client, AsyncTwilioHttpClient]:
    """A twilio-python client aimed at ``sb``; the caller closes the HTTP client."""
    http = AsyncTwilioHttpClient()
    client = Client(sb.account_sid, sb.auth_token, http_client=http)
    client.api.base_url = sb.url
    return client, http


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(SandboxConfig(speed=20.0)) as sb:
        yield sb


@pytest.fixture
async def service(sandbox: Sandbox) -> AsyncIterator[ServiceStub]:
    async with ServiceStub(sandbox.auth_token) as stub:
        yield stub


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[Client]:
    c, http = make_client(sandbox)
    yield c
    await http.close()
