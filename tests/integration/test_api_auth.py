"""Authentication and roles through the real app and database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ivr.store.models import Role, User
from ivr.web.accounts import UserExists, create_user, rotate_api_key
from ivr.web.auth import COOKIE_NAME
from ivr.web.credentials import hash_api_key
from tests.support.api import AGENT_PASSWORD, Api

SUPERVISOR_ONLY = [
    ("GET", "/api/v1/campaigns"),
    ("POST", "/api/v1/campaigns"),
    ("GET", "/api/v1/campaigns/1"),
    ("PATCH", "/api/v1/campaigns/1"),
    ("POST", "/api/v1/campaigns/1/pause"),
    ("POST", "/api/v1/campaigns/1/resume"),
    ("PUT", "/api/v1/campaigns/1/windows"),
    ("PUT", "/api/v1/campaigns/1/blocked-dates"),
    ("POST", "/api/v1/payments"),
    ("GET", "/api/v1/attempts"),
    ("GET", "/api/v1/reports/summary"),
]


async def test_every_protected_route_needs_a_key(api: Api) -> None:
    for method, path in [
        *SUPERVISOR_ONLY,
        ("GET", "/api/v1/debtors/X"),
        ("GET", "/api/v1/auth/me"),
    ]:
        resp = await api.client.request(method, path, json={})
        assert resp.status == 401, (method, path)
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        assert "error" in await resp.json()
        resp = await api.client.request(
            method, path, json={}, headers={"Authorization": "Bearer not-a-key"}
        )
        assert resp.status == 401, (method, path)


async def test_agent_is_refused_supervisor_routes(api: Api) -> None:
    for method, path in SUPERVISOR_ONLY:
        resp = await api.client.request(method, path, json={}, headers=api.agent())
        assert resp.status == 403, (method, path)
        body = await resp.json()
        assert "supervisor" in body["error"] and body["role"] == "agent"


async def test_x_api_key_header_and_me(api: Api) -> None:
    resp = await api.client.get("/api/v1/auth/me", headers={"X-API-Key": api.supervisor_key})
    assert resp.status == 200
    assert (await resp.json())["role"] == "supervisor"
    resp = await api.client.get("/api/v1/auth/me", headers=api.agent())
    assert (await resp.json())["username"] == "ana"


async def test_only_the_hash_of_a_key_is_stored(api: Api) -> None:
    async with api.sessions() as s:
        users = (await s.scalars(select(User))).all()
    hashes = {u.api_key_hash for u in users}
    assert hash_api_key(api.supervisor_key) in hashes
    assert api.supervisor_key not in hashes and api.agent_key not in hashes
    assert all(u.password_hash is None or AGENT_PASSWORD not in u.password_hash for u in users)


async def test_rotated_key_replaces_the_old_one(api: Api) -> None:
    new_key = await rotate_api_key(api.sessions, "sofia")
    resp = await api.client.get("/api/v1/auth/me", headers=api.sup())
    assert resp.status == 401
    resp = await api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {new_key}"})
    assert resp.status == 200


async def test_create_user_refuses_a_taken_name_and_bad_role(api: Api) -> None:
    with pytest.raises(UserExists):
        await create_user(api.sessions, "ana", Role.AGENT)
    with pytest.raises(ValueError):
        await create_user(api.sessions, "zé", "boss")
    with pytest.raises(ValueError):
        await create_user(api.sessions, "zé", "agent", password="short")


async def test_password_login_gives_a_working_cookie(api: Api) -> None:
    resp = await api.client.post(
        "/api/v1/auth/login", json={"username": "ana", "password": "wrong password"}
    )
    assert resp.status == 401
    resp = await api.client.post(
        "/api/v1/auth/login", json={"username": "nobody", "password": AGENT_PASSWORD}
    )
    assert resp.status == 401
    resp = await api.client.post(
        "/api/v1/auth/login", json={"username": "ana", "password": AGENT_PASSWORD}
    )
    assert resp.status == 200
    assert (await resp.json())["role"] == "agent"
    cookie = resp.cookies[COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    # The test client keeps the cookie: now signed in without a key.
    resp = await api.client.get("/api/v1/auth/me")
    assert resp.status == 200 and (await resp.json())["username"] == "ana"
    resp = await api.client.get("/api/v1/campaigns")
    assert resp.status == 403  # an agent's cookie is still an agent
    # A state-changing request from another origin is refused, logout included
    # (a foreign page must not sign the agent out either).
    resp = await api.client.post("/api/v1/auth/logout", headers={"Origin": "https://evil.example"})
    assert resp.status == 403
    api.client.session.cookie_jar.update_cookies({COOKIE_NAME: cookie.value})
    resp = await api.client.get("/api/v1/debtors/X", headers={"Origin": "https://evil.example"})
    assert resp.status == 404  # reads are harmless; the debtor simply does not exist


async def test_cross_origin_cookie_write_is_refused(api: Api) -> None:
    sup_pw = "supervisor password"
    await create_user(api.sessions, "bruna", Role.SUPERVISOR, password=sup_pw)
    resp = await api.client.post(
        "/api/v1/auth/login", json={"username": "bruna", "password": sup_pw}
    )
    assert resp.status == 200
    resp = await api.client.post(
        "/api/v1/campaigns", json={"name": "x"}, headers={"Origin": "https://evil.example"}
    )
    assert resp.status == 403
    resp = await api.client.post("/api/v1/campaigns", json={"name": "from-console"})
    assert resp.status == 201


async def test_tampered_cookie_is_refused(api: Api) -> None:
    resp = await api.client.post(
        "/api/v1/auth/login", json={"username": "ana", "password": AGENT_PASSWORD}
    )
    token = resp.cookies[COOKIE_NAME].value
    user_id, rest = token.split(".", 1)
    api.client.session.cookie_jar.clear()
    forged = f"{int(user_id) - 1 or 2}.{rest}"  # another user's id, the old signature
    resp = await api.client.get("/api/v1/auth/me", cookies={COOKIE_NAME: forged})
    assert resp.status == 401
    resp = await api.client.get("/api/v1/auth/me", cookies={COOKIE_NAME: token})
    assert resp.status == 200
