"""The users API: agents are created as agents, disabling and resets end sessions at once,
the last supervisor stays, input errors name their field, and nothing secret is answered
or logged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select

from ivr.sandbox.app import Sandbox
from ivr.store.models import Agent, AuditEntry, Presence, Role, User
from ivr.web.api_user_schemas import UserCreated, UserList
from tests.support.agents import agents_service, seed_agent
from tests.support.api import AGENT_PASSWORD, Api

_SECRET_KEYS = ("password_hash", "api_key_hash", "token")


async def _users(api: Api) -> dict[str, dict[str, Any]]:
    resp = await api.client.get("/api/v1/users", headers=api.sup())
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    UserList.model_validate(body)
    return {u["username"]: u for u in body["items"]}


async def _login(api: Api, username: str, password: str) -> aiohttp.ClientResponse:
    return await api.client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )


async def _audit(api: Api, **query: str) -> list[dict[str, Any]]:
    resp = await api.client.get("/api/v1/audit", params=query, headers=api.sup())
    assert resp.status == 200, await resp.text()
    items: list[dict[str, Any]] = (await resp.json())["items"]
    return items


async def test_an_agent_user_is_an_agent_and_logs_into_the_desktop(
    db_url: str, tmp_path: Path
) -> None:
    async with Sandbox() as sb, agents_service(db_url, sb, tmp_path / "tts") as svc:
        boss = await seed_agent(
            svc.sessions, "boss", role=Role.SUPERVISOR, presence=Presence.OFFLINE
        )
        boss_h = {"Authorization": f"Bearer {boss.api_key}"}
        new = {
            "username": "carla",
            "role": "agent",
            "password": "senha-forte-1",
            "languages": ["pt-BR", "en-US"],
            "skills": ["cartões"],
        }
        async with aiohttp.ClientSession() as http:
            async with http.post(svc.url + "/api/v1/users", json=new, headers=boss_h) as r:
                created = await r.json()
                assert r.status == 201, created
            UserCreated.model_validate(created)
            assert created["password"] is None  # a password was given: none generated
            agent = created["user"]["agent"]
            assert agent["languages"] == ["pt-BR", "en-US"] and agent["skills"] == ["cartões"]
            async with http.get(svc.url + "/api/v1/agents", headers=boss_h) as r:
                listed = {a["user_id"]: a for a in (await r.json())["agents"]}
            assert listed[created["user"]["id"]]["presence"] == "offline"
        jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=svc.url)
        async with aiohttp.ClientSession(cookie_jar=jar) as browser:
            async with browser.post(
                svc.url + "/desktop/login", json={"username": "carla", "password": "senha-forte-1"}
            ) as r:
                assert r.status == 200, await r.text()
            async with browser.get(svc.url + "/api/v1/agents/me") as r:
                me = await r.json()
                assert r.status == 200, me
                assert me["agent"]["skills"] == ["cartões"]


async def test_create_validation_names_the_field(api: Api) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"username": "x", "role": "boss"}, "role"),
        ({"username": " ", "role": "agent"}, "username"),
        ({"username": "a b", "role": "agent"}, "username"),
        ({"username": "zed", "role": "agent", "password": "short"}, "password"),
        ({"username": "zed", "role": "agent", "languages": ["xx-YY"]}, "languages"),
        ({"username": "zed", "role": "agent", "endpoint": "ana"}, "endpoint"),
        ({"username": "zed", "role": "supervisor", "skills": ["cards"]}, "skills"),
        ({"username": "ana", "role": "agent"}, "username"),  # taken
        ({"username": "zed", "role": "agent", "is_admin": True}, "is_admin"),
    ]
    for body, field in cases:
        resp = await api.client.post("/api/v1/users", json=body, headers=api.sup())
        assert resp.status == 422, (body, await resp.text())
        fields = [e["field"] for e in (await resp.json())["errors"]]
        assert field in fields, (body, fields)
    resp = await api.client.post(
        "/api/v1/users", json={"username": "zed", "role": "agent"}, headers=api.agent()
    )
    assert resp.status == 403
    resp = await api.client.patch("/api/v1/users/1", json={"skills": ["x"]}, headers=api.sup())
    assert resp.status == 422  # sofia (user 1) is a supervisor, not an agent
    assert (await resp.json())["errors"][0]["field"] == "skills"


async def test_generated_password_works_once_shown_and_edits_are_audited(api: Api) -> None:
    resp = await api.client.post(
        "/api/v1/users", json={"username": "bia", "role": "agent"}, headers=api.sup()
    )
    created = await resp.json()
    assert resp.status == 201, created
    generated = created["password"]
    assert isinstance(generated, str) and len(generated) >= 12
    assert (await _login(api, "bia", generated)).status == 200
    assert generated not in json.dumps(await _users(api))
    uid = created["user"]["id"]
    resp = await api.client.patch(
        f"/api/v1/users/{uid}",
        json={"languages": ["en-US"], "skills": ["cards", "loans"]},
        headers=api.sup(),
    )
    assert resp.status == 200, await resp.text()
    assert (await _users(api))["bia"]["agent"]["skills"] == ["cards", "loans"]
    entries = await _audit(api, entity="user", entity_id=str(uid))
    assert [e["action"] for e in entries] == ["update", "create"]
    assert entries[0]["username"] == "sofia"
    assert entries[0]["changes"] == {
        "languages": [["pt-BR"], ["en-US"]],
        "skills": [[], ["cards", "loans"]],
    }


async def test_disable_revokes_sessions_refuses_login_and_takes_the_agent_offline(
    api: Api,
) -> None:
    users = await _users(api)
    ana = users["ana"]
    assert ana["agent"] is not None and not ana["disabled"]
    login = await _login(api, "ana", AGENT_PASSWORD)
    assert login.status == 200
    assert (await api.client.get("/api/v1/auth/me")).status == 200  # the cookie works
    async with api.sessions() as s, s.begin():
        agent = await s.scalar(select(Agent).where(Agent.user_id == ana["id"]))
        assert agent is not None
        agent.presence = Presence.AVAILABLE
    resp = await api.client.post(f"/api/v1/users/{ana['id']}/disable", headers=api.sup())
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["disabled"] is True and body["agent"]["presence"] == "offline"
    # The browser's session and the API key stop working at once; the password is refused.
    assert (await api.client.get("/api/v1/auth/me")).status == 401
    assert (await api.client.get("/api/v1/auth/me", headers=api.agent())).status == 401
    refused = await _login(api, "ana", AGENT_PASSWORD)
    assert refused.status == 403 and "disabled" in (await refused.json())["error"]
    from ivr.store.agents import available_agents

    async with api.sessions() as s:
        assert [a.user_id for a in await available_agents(s)] == []
    entries = await _audit(api, entity="user", entity_id=str(ana["id"]), user="sofia")
    assert entries[0]["action"] == "disable"
    assert entries[0]["changes"] == {"disabled": [False, True]}
    resp = await api.client.post(f"/api/v1/users/{ana['id']}/enable", headers=api.sup())
    assert resp.status == 200 and (await resp.json())["disabled"] is False
    assert (await _login(api, "ana", AGENT_PASSWORD)).status == 200


async def test_password_reset_ends_sessions_and_logs_no_secret(api: Api) -> None:
    ana = (await _users(api))["ana"]
    assert (await _login(api, "ana", AGENT_PASSWORD)).status == 200
    assert (await api.client.get("/api/v1/auth/me")).status == 200
    resp = await api.client.post(
        f"/api/v1/users/{ana['id']}/password",
        json={"password": "a brand new password"},
        headers=api.sup(),
    )
    assert resp.status == 200, await resp.text()
    assert (await resp.json()) == {"password": None, "sessions_revoked": 1}
    assert (await api.client.get("/api/v1/auth/me")).status == 401
    assert (await _login(api, "ana", AGENT_PASSWORD)).status == 401
    assert (await _login(api, "ana", "a brand new password")).status == 200
    resp = await api.client.post(
        f"/api/v1/users/{ana['id']}/password", json={"password": "short"}, headers=api.sup()
    )
    assert resp.status == 422 and (await resp.json())["errors"][0]["field"] == "password"
    resp = await api.client.post(f"/api/v1/users/{ana['id']}/password", json={}, headers=api.sup())
    generated = (await resp.json())["password"]
    assert resp.status == 200 and len(generated) >= 12
    assert (await _login(api, "ana", generated)).status == 200
    # The log says a reset happened, with no values; nothing secret is anywhere in it.
    resets = await _audit(api, entity="user", entity_id=str(ana["id"]))
    assert [e["action"] for e in resets] == ["password_reset", "password_reset", "create"]
    assert resets[-1]["username"] is None  # made by create_user from the CLI: no person
    assert all(e["changes"] == {} for e in resets[:2])
    async with api.sessions() as s:
        stored = json.dumps([e.changes for e in await s.scalars(select(AuditEntry))])
        hashes = [u.password_hash for u in await s.scalars(select(User)) if u.password_hash]
    for secret in ("a brand new password", generated, AGENT_PASSWORD, *hashes):
        assert secret and secret not in stored
    listed = json.dumps(await _users(api))
    assert not any(k in listed for k in _SECRET_KEYS)
    assert "scrypt$" not in listed


async def test_a_supervisor_cannot_disable_themself_or_the_last_supervisor(api: Api) -> None:
    sofia = (await _users(api))["sofia"]
    resp = await api.client.post(f"/api/v1/users/{sofia['id']}/disable", headers=api.sup())
    assert resp.status == 409 and (await resp.json())["field"] == "id"
    resp = await api.client.post(
        "/api/v1/users",
        json={"username": "rui", "role": "supervisor", "password": "rui password"},
        headers=api.sup(),
    )
    assert resp.status == 201
    rui_key = (await resp.json())["api_key"]
    rui_h = {"Authorization": f"Bearer {rui_key}"}
    # Rui disables Sofia: allowed, Rui remains. Then nobody is left to disable Rui.
    resp = await api.client.post(f"/api/v1/users/{sofia['id']}/disable", headers=rui_h)
    assert resp.status == 200, await resp.text()
    rui = (await _users_with(api, rui_h))["rui"]
    resp = await api.client.post(f"/api/v1/users/{rui['id']}/disable", headers=rui_h)
    assert resp.status == 409 and "yourself" in (await resp.json())["error"]
    async with api.sessions() as s, s.begin():  # as if another supervisor asked
        from ivr.store.users import enabled_supervisors

        assert list(await enabled_supervisors(s)) == [rui["id"]]
    resp = await api.client.post("/api/v1/users/999999/disable", headers=rui_h)
    assert resp.status == 404


async def _users_with(api: Api, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    resp = await api.client.get("/api/v1/users", headers=headers)
    return {u["username"]: u for u in (await resp.json())["items"]}
