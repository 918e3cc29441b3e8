"""A call's recording: streamed from the carrier (the sandbox) to a supervisor without
the account's credentials, refused to agents, and deleted at the carrier by an
LGPD anonymisation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.config import Settings
from ivr.keys import CARRIER, SESSIONS, SETTINGS
from ivr.sandbox.app import Sandbox
from ivr.sandbox.recordings import SandboxRecording
from ivr.store.models import CallAttempt, Role
from ivr.telephony.media_messages import new_recording_sid
from ivr.telephony.rest import TwilioCalls
from ivr.web.accounts import create_user
from ivr.web.api import setup_api
from tests.support.api import WEDNESDAY_10H_SP, Api, add_attempt, new_campaign, new_debtor


async def test_recording_streams_then_anonymise_deletes_it(
    sessions: async_sessionmaker[AsyncSession],
    aiohttp_client: Callable[[web.Application], Awaitable[TestClient[Any, Any]]],
    sandbox: Sandbox,
) -> None:
    sup = await create_user(sessions, "sofia", Role.SUPERVISOR)
    agent = await create_user(sessions, "ana", Role.AGENT, password="correct horse battery")
    app = web.Application()
    app[SETTINGS] = Settings(
        secret_key="test-secret-key",
        twilio_account_sid=sandbox.account_sid,
        twilio_auth_token=sandbox.auth_token,
        twilio_api_url=sandbox.url,
    )
    app[SESSIONS] = sessions
    carrier = TwilioCalls(sandbox.account_sid, sandbox.auth_token, api_url=sandbox.url)
    app[CARRIER] = carrier
    setup_api(app)
    api = Api(await aiohttp_client(app), sessions, sup, agent, app)
    try:
        camp = await new_campaign(api)
        debtor = await new_debtor(api, camp["id"], ref="R-1")
        attempt_id = await add_attempt(api, debtor, WEDNESDAY_10H_SP - dt.timedelta(days=1))
        sid = new_recording_sid()
        sandbox.engine.recordings[sid] = SandboxRecording(
            sid=sid,
            account_sid=sandbox.account_sid,
            call_sid="CA" + "0" * 32,
            api_base=sandbox.url,
            status="completed",
            duration=1,
            inbound=b"\xff" * 8000,
        )
        async with sessions() as s, s.begin():
            a = await s.get(CallAttempt, attempt_id)
            assert a is not None
            a.recording_sid, a.recording_status = sid, "completed"
            a.recording_started_at = WEDNESDAY_10H_SP - dt.timedelta(days=1)

        url = f"/api/v1/attempts/{attempt_id}/recording"
        assert (await api.client.get(url, headers=api.agent())).status == 403
        resp = await api.client.get(url, headers=api.sup())
        assert resp.status == 200, await resp.text()
        body = await resp.read()
        assert resp.headers["Content-Type"] == "audio/x-wav" and body[:4] == b"RIFF"
        assert sandbox.auth_token.encode() not in body
        timeline = await (
            await api.client.get("/api/v1/debtors/R-1/timeline", headers=api.sup())
        ).json()
        call = next(i for i in timeline["items"] if i["kind"] == "call")
        assert call["detail"]["recording"]["playable"] is True
        assert call["detail"]["recording"]["url"] == url

        resp = await api.client.post(
            "/api/v1/debtors/R-1/anonymise", json={"confirm": "R-1"}, headers=api.sup()
        )
        assert resp.status == 200, await resp.text()
        assert (await resp.json())["detail"]["recordings_deleted"] == 1
        assert sid not in sandbox.engine.recordings
        assert (await api.client.get(url, headers=api.sup())).status == 410
    finally:
        await carrier.close()
