"""The agents API, the desktop login and the carrier callbacks' signature checks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import aiohttp
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from ivr.agents.schemas import AgentCreated, AgentState, TransferStatsOut, WrapupOut
from ivr.sandbox.app import Sandbox
from ivr.store.models import Debt, PaymentPlan, Presence, Promise, Role, Transfer
from tests.support.agents import PUBLIC, agents_service, seed_agent, seed_call

CALLBACK_PATHS = ("whisper", "dial-status", "queue-wait", "queue-offer", "queue-result")


async def test_carrier_callbacks_need_a_valid_signature(db_url: str, tmp_path: Path) -> None:
    async with Sandbox() as sb, agents_service(db_url, sb, tmp_path / "tts") as svc:
        await seed_agent(svc.sessions, "ana", presence=Presence.AWAY)  # nobody takes the queue
        call = await seed_call(svc.sessions, ref="S-1", phone="+5511987650003")
        async with svc.sessions() as s, s.begin():
            t = Transfer(attempt_id=call.attempt_id, reason="dispute", status="queued")
            s.add(t)
            await s.flush()
            tid = t.id
        validator = RequestValidator(sb.auth_token)
        params = {"CallSid": "CA" + "0" * 32, "QueuePosition": "1", "QueueTime": "0"}
        async with aiohttp.ClientSession() as http:
            for path in CALLBACK_PATHS:
                url = f"/agents/{path}?transfer={tid}"
                async with http.post(svc.url + url, data=params) as r:
                    assert r.status == 403, path
                bad = validator.compute_signature(f"{PUBLIC}{url}&x=1", params)
                async with http.post(
                    svc.url + url, data=params, headers={"X-Twilio-Signature": bad}
                ) as r:
                    assert r.status == 403, path
            url = f"/agents/queue-wait?transfer={tid}"
            good = validator.compute_signature(PUBLIC + url, params)
            async with http.post(
                svc.url + url, data=params, headers={"X-Twilio-Signature": good}
            ) as r:
                assert r.status == 200
                body = await r.text()
        assert "<Say" in body and "próxima da fila" in body


async def test_roles_presence_and_agent_creation(db_url: str, tmp_path: Path) -> None:
    async with Sandbox() as sb, agents_service(db_url, sb, tmp_path / "tts") as svc:
        ana = await seed_agent(svc.sessions, "ana", presence=Presence.OFFLINE)
        boss = await seed_agent(svc.sessions, "boss", role=Role.SUPERVISOR)
        agent_h = {"Authorization": f"Bearer {ana.api_key}"}
        boss_h = {"Authorization": f"Bearer {boss.api_key}"}
        async with aiohttp.ClientSession() as http:
            async with http.get(svc.url + "/api/v1/agents/me") as r:
                assert r.status == 401
            async with http.get(svc.url + "/api/v1/agents/me", headers=agent_h) as r:
                me = await r.json()
                assert r.status == 200 and me["agent"]["presence"] == "offline"
                AgentState.model_validate(me)  # the answer is what the document says
            for wanted, code in (("busy", 422), ("sleeping", 422), ("available", 200)):
                async with http.put(
                    svc.url + "/api/v1/agents/me/presence",
                    json={"presence": wanted},
                    headers=agent_h,
                ) as r:
                    assert r.status == code, wanted
            async with http.get(svc.url + "/api/v1/agents", headers=agent_h) as r:
                assert r.status == 403
            async with http.get(svc.url + "/api/v1/agents", headers=boss_h) as r:
                listed = await r.json()
                assert r.status == 200
                assert {a["display_name"] for a in listed["agents"]} == {"Ana", "Boss"}
            new = {
                "username": "carla",
                "password": "senha-forte-1",
                "display_name": "Carla",
                "endpoint": "sip:carla@pbx.example",
                "languages": ["pt-BR", "en-US"],
                "skills": ["disputes"],
            }
            async with http.post(svc.url + "/api/v1/agents", json=new, headers=agent_h) as r:
                assert r.status == 403
            async with http.post(
                svc.url + "/api/v1/agents", json=new | {"endpoint": "ana"}, headers=boss_h
            ) as r:
                assert r.status == 422
            async with http.post(svc.url + "/api/v1/agents", json=new, headers=boss_h) as r:
                created = await r.json()
                assert r.status == 201, created
                assert created["agent"]["languages"] == ["pt-BR", "en-US"]
                assert created["agent"]["presence"] == "offline"
                assert created["api_key"]
                AgentCreated.model_validate(created)
            async with http.post(
                svc.url + "/api/v1/agents",
                json={"user_id": created["agent"]["user_id"], "endpoint": "client:carla"},
                headers=boss_h,
            ) as r:
                assert r.status == 409

        # The new agent logs in to the desktop with the password (cookie session).
        # The public URL is https, so the cookie is Secure: this loopback origin stands in for it.
        jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=svc.url)
        async with aiohttp.ClientSession(cookie_jar=jar) as browser:
            async with browser.get(svc.url + "/desktop") as r:
                assert r.status == 200 and "Agent desktop" in await r.text()
            async with browser.post(
                svc.url + "/desktop/login", json={"username": "carla", "password": "wrong-pass"}
            ) as r:
                assert r.status == 401
            async with browser.post(
                svc.url + "/desktop/login", json={"username": "carla", "password": "senha-forte-1"}
            ) as r:
                assert r.status == 200
            async with browser.get(svc.url + "/api/v1/agents/me") as r:
                me = await r.json()
                assert r.status == 200 and me["agent"]["display_name"] == "Carla"


async def test_transfer_report_counts_and_abandonment_rate(db_url: str, tmp_path: Path) -> None:
    async with Sandbox() as sb, agents_service(db_url, sb, tmp_path / "tts") as svc:
        # Offline: an available agent would let the background dispatcher take the
        # "queued" row below while the report is read.
        boss = await seed_agent(
            svc.sessions, "boss", role=Role.SUPERVISOR, presence=Presence.OFFLINE
        )
        call = await seed_call(svc.sessions, ref="S-2", phone="+5511987650004")
        now = dt.datetime.now(dt.UTC)
        rows = [
            ("completed", True, 12.0),
            ("completed", True, 30.0),
            ("abandoned", False, None),
            ("callback", False, None),
            ("queued", False, None),
        ]
        async with svc.sessions() as s, s.begin():
            for status, answered, wait in rows:
                s.add(
                    Transfer(
                        attempt_id=call.attempt_id,
                        reason="asked_for_agent",
                        status=status,
                        requested_at=now - dt.timedelta(minutes=5),
                        answered_at=now if answered else None,
                        queue_wait_s=wait,
                    )
                )
        headers = {"Authorization": f"Bearer {boss.api_key}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            async with http.get(svc.url + "/api/v1/reports/transfers") as r:
                report = await r.json()
            since = (now + dt.timedelta(minutes=1)).isoformat()
            async with http.get(
                svc.url + "/api/v1/reports/transfers", params={"since": since}
            ) as r:
                later = await r.json()
        assert report["requested"] == 5
        assert report["answered"] == 2
        assert report["abandoned"] == 1 and report["callbacks"] == 1 and report["open"] == 1
        assert report["abandonment_rate"] == 0.2
        assert report["avg_wait_s"] == 21.0 and report["max_wait_s"] == 30.0
        assert later["requested"] == 0 and later["abandonment_rate"] == 0.0
        TransferStatsOut.model_validate(report)


async def test_agent_input_errors_name_the_field(db_url: str, tmp_path: Path) -> None:
    async with Sandbox() as sb, agents_service(db_url, sb, tmp_path / "tts") as svc:
        boss = await seed_agent(svc.sessions, "boss", role=Role.SUPERVISOR)
        headers = {"Authorization": f"Bearer {boss.api_key}"}
        base = {"username": "dora", "password": "senha-forte-2", "endpoint": "client:dora"}
        cases = [
            ({"languages": "pt-BR"}, "languages"),
            ({"skills": [1, 2]}, "skills[0]"),
            ({"user_id": "abc", "username": None}, "user_id"),
            ({"user_id": 2**31}, "user_id"),
            ({"endpoint": "ana"}, "endpoint"),
            ({"display_name": ["x"]}, "display_name"),
            ({"password": "short"}, "password"),
        ]
        async with aiohttp.ClientSession(headers=headers) as http:
            for change, field in cases:
                body = {k: v for k, v in (base | change).items() if v is not None}
                async with http.post(svc.url + "/api/v1/agents", json=body) as r:
                    answer = await r.json()
                    assert r.status == 422, (change, answer)
                    assert field in [e["field"] for e in answer["errors"]], (change, answer)
            async with http.put(
                svc.url + "/api/v1/agents/me/presence", json={"presence": "sleeping"}
            ) as r:
                answer = await r.json()
                assert r.status == 422 and answer["errors"][0]["field"] == "presence"
            async with http.post(svc.url + "/api/v1/agents", json=base) as r:
                created = await r.json()
                assert r.status == 201, created
                assert created["agent"]["languages"] == ["pt-BR"]


async def test_wrapup_promise_dates_stay_in_a_sane_window(db_url: str, tmp_path: Path) -> None:
    async with Sandbox() as sb, agents_service(db_url, sb, tmp_path / "tts") as svc:
        ana = await seed_agent(svc.sessions, "ana", presence=Presence.AWAY)
        call = await seed_call(svc.sessions, ref="S-9", phone="+5511987650019")
        async with svc.sessions() as s, s.begin():
            t = Transfer(
                attempt_id=call.attempt_id, agent_id=ana.id, reason="dispute", status="connected"
            )
            s.add(t)
            await s.flush()
            tid = t.id
        today = dt.date.today()
        url = f"{svc.url}/api/v1/agents/me/transfers/{tid}/wrapup"
        headers = {"Authorization": f"Bearer {ana.api_key}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            for day, amount, field in (
                ("1900-01-01", "10.00", "promise_date"),
                ("9999-12-31", "10.00", "promise_date"),
                ((today - dt.timedelta(days=2)).isoformat(), "10.00", "promise_date"),
                ((today + dt.timedelta(days=400)).isoformat(), "10.00", "promise_date"),
                ((today + dt.timedelta(days=5)).isoformat(), "Infinity", "promise_amount"),
                ((today + dt.timedelta(days=5)).isoformat(), "1e400", "promise_amount"),
                ((today + dt.timedelta(days=5)).isoformat(), "-5", "promise_amount"),
            ):
                body = {"outcome": "promise", "promise_date": day, "promise_amount": amount}
                async with http.post(url, json=body) as r:
                    answer = await r.json()
                    assert r.status == 422, (day, amount, answer)
                    assert field in [e["field"] for e in answer["errors"]], answer
            good = (today + dt.timedelta(days=5)).isoformat()
            body = {"outcome": "promise", "promise_date": good, "promise_amount": "10,50"}
            async with http.post(url, json=body) as r:
                assert r.status == 200, await r.text()
                done = WrapupOut.model_validate(await r.json())
                assert done.promise_id is not None and done.outcome == "promise"


async def test_events_socket_refuses_a_foreign_origin(db_url: str, tmp_path: Path) -> None:
    async with Sandbox() as sb, agents_service(db_url, sb, tmp_path / "tts") as svc:
        ana = await seed_agent(svc.sessions, "ana", presence=Presence.AWAY)
        headers = {"Authorization": f"Bearer {ana.api_key}"}
        url = svc.url + "/api/v1/agents/me/events"
        async with aiohttp.ClientSession(headers=headers) as http:
            for origin in ("https://evil.example", "null", "http://127.0.0.1.evil.example"):
                try:
                    async with http.ws_connect(url, headers={"Origin": origin}) as ws:
                        await ws.close()
                    raise AssertionError(f"{origin} was accepted")
                except aiohttp.WSServerHandshakeError as exc:
                    assert exc.status == 403, origin
            for origin in (svc.url, "https://ivr.test"):
                async with http.ws_connect(url, headers={"Origin": origin}) as ws:
                    first = await ws.receive_json(timeout=10)
                    assert first["type"] == "state"


async def test_wrapup_records_a_plan_checked_like_the_api(db_url: str, tmp_path: Path) -> None:
    async with Sandbox() as sb, agents_service(db_url, sb, tmp_path / "tts") as svc:
        ana = await seed_agent(svc.sessions, "ana", presence=Presence.AWAY)
        call = await seed_call(svc.sessions, ref="S-10", phone="+5511987650020")
        async with svc.sessions() as s, s.begin():
            t = Transfer(
                attempt_id=call.attempt_id, agent_id=ana.id, reason="cannot_pay", status="connected"
            )
            s.add(t)
            await s.flush()
            tid = t.id
            debt = await s.scalar(select(Debt).where(Debt.id == call.debt_id))
            assert debt is not None
            owed = debt.amount_cents
        today = dt.datetime.now(dt.UTC).date()
        day = [(today + dt.timedelta(days=k)).isoformat() for k in (2, 30, 60, 400)]
        url = f"{svc.url}/api/v1/agents/me/transfers/{tid}/wrapup"
        headers = {"Authorization": f"Bearer {ana.api_key}"}
        third = f"{owed / 300:.2f}"
        async with aiohttp.ClientSession(headers=headers) as http:
            for plan, field in (
                (
                    [{"date": day[1], "amount": "1"}, {"date": day[0], "amount": "1"}],
                    "plan[1].date",
                ),
                ([{"date": day[0], "amount": "0"}], "plan[0].amount"),
                (
                    [{"date": day[0], "amount": "1"}, {"date": day[3], "amount": "1"}],
                    "plan[1].date",
                ),
                ([{"date": day[0], "amount": f"{owed / 100 + 1:.2f}"}], "plan"),
            ):
                body = {"outcome": "promise", "plan": plan}
                async with http.post(url, json=body) as r:
                    answer = await r.json()
                    assert r.status == 422, (plan, answer)
                    assert [e["field"] for e in answer["errors"]] == [field], answer
            both = {"outcome": "promise", "plan": [{"date": day[0], "amount": "1"}]}
            both |= {"promise_date": day[0], "promise_amount": "1"}
            async with http.post(url, json=both) as r:
                assert r.status == 422 and (await r.json())["errors"][0]["field"] == "plan"
            plan = [{"date": d, "amount": third} for d in day[:3]]
            async with http.post(url, json={"outcome": "promise", "plan": plan}) as r:
                assert r.status == 200, await r.text()
                done = WrapupOut.model_validate(await r.json())
        assert done.plan_id is not None and done.promise_id is None
        async with svc.sessions() as s:
            rows = list(await s.scalars(select(Promise).where(Promise.plan_id == done.plan_id)))
            made = await s.get(PaymentPlan, done.plan_id)
        assert made is not None and made.source == "agent" and made.attempt_id == call.attempt_id
        assert sorted(p.sequence or 0 for p in rows) == [1, 2, 3]
