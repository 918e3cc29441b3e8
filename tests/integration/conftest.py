"""Fixtures of the integration tests: a sandbox carrier and its clients, and the API app.

``sandbox`` is a fast sandbox carrier on a free port, ``service`` a
:class:`ServiceStub` that checks the sandbox's signatures, ``client`` the real
twilio-python client pointed at the sandbox, and ``api`` a minimal aiohttp app
with only the API on it over a migrated database (``db_url``, so both
backends), with a supervisor and an agent made by the CLI's ``create_user``.
The builders these tests share are plain functions in tests/support/.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from twilio.rest import Client

from ivr.sandbox.app import Sandbox
from ivr.sandbox.config import SandboxConfig
from ivr.sandbox.testkit import ServiceStub
from ivr.store.models import Role
from ivr.web.accounts import create_user
from tests.support.api import AGENT_PASSWORD, Api, build_app
from tests.support.sandbox import make_client


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


@pytest.fixture
async def api(
    sessions: async_sessionmaker[AsyncSession],
    aiohttp_client: Callable[[web.Application], Awaitable[TestClient[Any, Any]]],
) -> Api:
    sup = await create_user(sessions, "sofia", Role.SUPERVISOR)
    agent = await create_user(sessions, "ana", "agent", password=AGENT_PASSWORD)
    app = build_app(sessions)
    client = await aiohttp_client(app)
    return Api(client, sessions, sup, agent, app)
