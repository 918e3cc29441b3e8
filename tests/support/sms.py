"""A minimal app with the SMS webhooks on it, and signed posts to them.

Posts are signed the way Twilio signs them (twilio-python's RequestValidator
over the public URL and every form field), so the tests exercise the same
signature check every webhook uses; the carrier's Messages resource is not
needed to post a callback.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from twilio.request_validator import RequestValidator

from ivr.agents.hub import AgentHub
from ivr.agents.keys import AGENT_HUB
from ivr.config import Settings
from ivr.keys import SESSIONS, SETTINGS, SIGNATURES
from ivr.store.models import Debtor, Phone
from ivr.telephony.signature import SignatureChecker
from ivr.web.sms_hooks import setup_sms_routes

PUBLIC = "https://ivr.test"
TOKEN = "sms-test-token"
OUR_NUMBER = "+551130000000"
FORM = "application/x-www-form-urlencoded"
_seq = itertools.count(1)


def new_sid(prefix: str = "SM") -> str:
    return prefix + secrets.token_hex(16)


@dataclass
class SmsApp:
    client: TestClient[Any, Any]
    sessions: async_sessionmaker[AsyncSession]
    hub: AgentHub

    async def post(
        self,
        path: str,
        fields: dict[str, str],
        *,
        signature: str | None = "compute",
        token: str = TOKEN,
    ) -> tuple[int, str]:
        headers = {"Content-Type": FORM}
        if signature == "compute":
            signature = RequestValidator(token).compute_signature(PUBLIC + path, fields)
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        resp = await self.client.post(path, data=urlencode(fields), headers=headers)
        return resp.status, await resp.text()

    async def inbound(self, sender: str, body: str, sid: str | None = None) -> tuple[int, str]:
        fields = {
            "MessageSid": sid or new_sid(),
            "AccountSid": "AC" + "0" * 32,
            "From": sender,
            "To": OUR_NUMBER,
            "Body": body,
            "NumMedia": "0",
        }
        fields["SmsSid"] = fields["MessageSid"]
        return await self.post("/twilio/sms", fields)


@asynccontextmanager
async def sms_app(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    db_url: str,
    aiohttp_client: Callable[[web.Application], Awaitable[TestClient[Any, Any]]],
) -> AsyncIterator[SmsApp]:
    settings = Settings(
        secret_key="test-secret-key",
        public_url=PUBLIC,
        twilio_auth_token=TOKEN,
        database_url=db_url,
    )
    hub = AgentHub(engine, db_url)
    await hub.start()
    app = web.Application()
    app[SETTINGS] = settings
    app[SESSIONS] = sessions
    app[SIGNATURES] = SignatureChecker(TOKEN, PUBLIC)
    app[AGENT_HUB] = hub
    setup_sms_routes(app)
    try:
        yield SmsApp(await aiohttp_client(app), sessions, hub)
    finally:
        await hub.stop()


async def add_debtor(
    sessions: async_sessionmaker[AsyncSession],
    phone: str,
    *,
    locale: str = "pt-BR",
    wrong_number: bool = False,
) -> int:
    async with sessions() as s, s.begin():
        d = Debtor(external_ref=f"SMS{next(_seq)}", name="Maria Souza", locale=locale)
        d.phones.append(Phone(e164=phone, position=0))
        s.add(d)
        await s.flush()
        if wrong_number:
            from ivr.store.models import utcnow

            d.phones[0].wrong_number_at = utcnow()
        return d.id
