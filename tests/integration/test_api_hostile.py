"""Hostile input on every route of the OpenAPI document: 4xx, never 5xx.

The walk reads ``/api/openapi.json`` from the real service (create_app, the
agents package, a real database on SQLite and PostgreSQL), so a route added
later is walked too. Each path parameter, query parameter and top-level body
field gets every hostile value in turn while the rest of the request stays
valid (the example bodies below), so the value reaches the handler's own
code and the database, not only the first validator. Whole bodies that are
too deep, too large or carry integers of thousands of digits are sent to
every operation with a body and to the desktop login.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp

from ivr.sandbox.app import Sandbox
from ivr.store.models import Presence, Role, Transfer
from tests.support.agents import agents_service, seed_agent, seed_call

# Raw text for path and query values.
HOSTILE_TEXT = [
    "²",
    "١٢٣",
    "2147483648",
    "9" * 30,
    "-1",
    "0",
    " ",
    "x" * 3000,
    "Infinity",
    "NaN",
    "1e400",
    "0001-01-01T00:00:00",
    "9999-12-31T23:59:59+14:00",
    "1900-01-01",
    "9999-12-31",
    "2025-02-30",
    "null",
]
# Raw JSON text for body values.
HOSTILE_JSON = [
    "2147483648",
    "-2147483649",
    "9223372036854775808",
    "1" + "0" * 5000,
    "1e400",
    "-1e400",
    "Infinity",
    "NaN",
    '"²"',
    '"Infinity"',
    '"1e400"',
    '"-0"',
    "null",
    "true",
    "[]",
    "{}",
    json.dumps("x" * 100_000),
    '"1900-01-01"',
    '"9999-12-31"',
    '"0001-01-01T00:00:00Z"',
    '"pt-BR"',
    "[" * 200 + "]" * 200,
]
HOSTILE_BODIES = [
    b"[" * 100_000 + b"]" * 100_000,
    b'{"username": ' + b"1" * 5000 + b', "password": "x"}',
    b'{"username": "ana", "password": ' + b"9" * 5000 + b"}",
    b'{"a": "' + b"x" * (3 * 1024 * 1024) + b'"}',
    b"\xff\xfe{}",
    b'{"username": "ana", "password": NaN}',
]
SENTINEL = "__hostile__"


def _examples(ref: str, today: dt.date) -> dict[str, dict[str, Any]]:
    """A valid body per operationId: hostile values replace one field at a time."""
    return {
        "post_login": {"username": "boss", "password": "wrong password"},
        "patch_me": {"locale": "en-US"},
        "create_campaign": {"name": "walker", "country": "BR", "daily_cap": 2},
        "update_campaign": {"daily_cap": 2, "name": "walker-2"},
        "put_windows": {"windows": [{"weekday": 0, "start": "09:00", "end": "12:00"}]},
        "put_blocked_dates": {"dates": [today.isoformat()]},
        "post_payment": {
            "external_ref": ref,
            "amount": "1.00",
            "paid_on": today.isoformat(),
            "payment_ref": "P-walker",
        },
        "post_plan": {
            "instalments": [{"date": (today + dt.timedelta(days=3)).isoformat(), "amount": "1.00"}]
        },
        "put_presence": {"presence": "away"},
        "patch_channels": {"calls_allowed": True, "sms_allowed": True, "preferred_channel": "sms"},
        "put_creditor": {"spoken": {"pt-BR": "do Banco Horizonte", "en-US": "Horizon Bank"}},
        "put_creditor_pix": {
            "key": "123.456.789-09",
            "merchant_name": "Banco Horizonte",
            "city": "Sao Paulo",
        },
        "put_debt_payment": {"payment_url": "https://pagar.example.com.br/x"},
        "post_wrapup": {
            "outcome": "promise",
            "promise_date": (today + dt.timedelta(days=3)).isoformat(),
            "promise_amount": "10.00",
            "notes": "walk",
        },
        "post_user": {
            "username": "walker-user",
            "role": "agent",
            "password": "walker-password",
            "languages": ["pt-BR"],
            "skills": ["cards"],
        },
        "update_user": {"languages": ["pt-BR"], "skills": ["cards"]},
        "reset_password": {"password": "walker-password"},
        "post_number": {"list_name": "Não Me Ligue SP", "number": "(11) 98765-0099"},
        "post_opt_out": {"channel": "sms", "note": "walk"},
        "post_opt_in": {"channel": "sms"},
        "post_wrong_number": {"number": "+5511987650031"},
        "post_callback": {
            "due_at": dt.datetime.combine(
                today + dt.timedelta(days=3), dt.time(14), tzinfo=dt.UTC
            ).isoformat()
        },
        "post_anonymise": {"confirm": ref},
        "create_agent": {
            "username": "walker",
            "password": "walker-password",
            "endpoint": "client:walker",
            "languages": ["pt-BR"],
        },
    }


def _with(base: dict[str, Any], field: str, raw: str) -> bytes:
    text = json.dumps(base | {field: SENTINEL})
    return text.replace(json.dumps(SENTINEL), raw).encode("utf-8")


async def test_no_hostile_value_gets_a_5xx(db_url: str, tmp_path: Path) -> None:
    async with Sandbox() as sb, agents_service(db_url, sb, tmp_path / "tts") as svc:
        boss = await seed_agent(
            svc.sessions, "boss", role=Role.SUPERVISOR, presence=Presence.OFFLINE
        )
        call = await seed_call(svc.sessions, ref="W-1", phone="+5511987650031")
        async with svc.sessions() as s, s.begin():
            t = Transfer(
                attempt_id=call.attempt_id, agent_id=boss.id, reason="dispute", status="connected"
            )
            s.add(t)
            await s.flush()
            transfer_id = t.id
        headers = {"Authorization": f"Bearer {boss.api_key}"}
        today = dt.date.today()
        failures: list[str] = []
        async with aiohttp.ClientSession(headers=headers) as http:

            async def send(method: str, url: str, body: bytes | None = None) -> None:
                kw: dict[str, Any] = {}
                if body is not None:
                    kw = {"data": body, "headers": {"Content-Type": "application/json"}}
                async with http.request(method, svc.url + url, **kw) as r:
                    await r.read()
                    if r.status >= 500:
                        failures.append(
                            f"{method} {url[:120]} {(body or b'')[:80]!r} -> {r.status}"
                        )

            async with http.post(svc.url + "/api/v1/campaigns", json={"name": "walked"}) as r:
                assert r.status == 201
                campaign_id = (await r.json())["id"]
            async with http.get(svc.url + "/api/openapi.json") as r:
                doc = await r.json()
            examples = _examples("W-1", today)
            good_path = {
                "id": str(campaign_id),
                "ref": "W-1",
                "transfer_id": str(transfer_id),
                "name": "Banco Horizonte",
            }
            walked = 0
            for template, ops in doc["paths"].items():
                for method, op in ops.items():
                    method = method.upper()
                    params = op.get("parameters", [])
                    in_path = [p["name"] for p in params if p["in"] == "path"]
                    in_query = [p["name"] for p in params if p["in"] == "query"]
                    base = examples.get(op["operationId"]) if "requestBody" in op else None
                    if "requestBody" in op:
                        assert base is not None, f"no example body for {op['operationId']}"

                    def url(
                        over: dict[str, str],
                        query: str = "",
                        template: str = template,
                        in_path: list[str] = in_path,
                    ) -> str:
                        path = template
                        for name in in_path:
                            value = over.get(name, good_path[name])
                            path = path.replace("{" + name + "}", quote(value, safe=""))
                        return path + query

                    body = json.dumps(base).encode() if base is not None else None
                    for name in in_path:
                        for value in HOSTILE_TEXT:
                            await send(method, url({name: value}), body)
                    for name in in_query:
                        for value in HOSTILE_TEXT:
                            await send(method, url({}, f"?{name}={quote(value, safe='')}"), body)
                    if base is not None:
                        props = _body_fields(doc, op)
                        for field in props:
                            for raw in HOSTILE_JSON:
                                await send(method, url({}), _with(base, field, raw))
                        for whole in HOSTILE_BODIES:
                            await send(method, url({}), whole)
                    walked += 1
            for path in ("/desktop/login", "/console/login", "/api/v1/auth/login"):
                for whole in HOSTILE_BODIES:
                    await send("POST", path, whole)
        assert walked >= 20, walked
        assert not failures, "\n".join(failures[:60]) + f"\n({len(failures)} in all)"


def _body_fields(doc: dict[str, Any], op: dict[str, Any]) -> list[str]:
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    name = schema["$ref"].rsplit("/", 1)[-1]
    return list(doc["components"]["schemas"][name].get("properties", {}))


async def test_every_api_operation_is_declared(db_url: str, tmp_path: Path) -> None:
    """No bare operation: each has its roles, parameters and error answers documented."""
    async with (
        Sandbox() as sb,
        agents_service(db_url, sb, tmp_path / "tts") as svc,
        aiohttp.ClientSession() as http,
        http.get(svc.url + "/api/openapi.json") as r,
    ):
        doc = await r.json()
    bare = [
        f"{method.upper()} {path}"
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
        if set(op["responses"]) == {"200"}
    ]
    assert not bare
    agents = doc["paths"]["/api/v1/agents"]["post"]
    assert "requestBody" in agents and "422" in agents["responses"]
    report = doc["paths"]["/api/v1/reports/transfers"]["get"]
    assert {p["name"] for p in report["parameters"]} == {"since", "until"}
