"""The OpenAPI document matches the routes the app serves, both ways."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ivr.web.openapi import api_routes, build_openapi
from tests.support.api import Api, build_app


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        for value in node.values():
            found += _refs(value)
        return found
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
    return []


async def _document(api: Api) -> dict[str, Any]:
    resp = await api.client.get("/api/openapi.json")  # no credentials needed
    assert resp.status == 200
    doc: dict[str, Any] = await resp.json()
    return doc


async def test_every_route_is_documented_and_nothing_else(api: Api) -> None:
    doc = await _document(api)
    assert doc["openapi"].startswith("3.1")
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    served = {(m, p) for m, p, _ in api_routes(api.app)}
    assert served == documented
    expected = {
        ("POST", "/api/v1/campaigns"),
        ("GET", "/api/v1/campaigns"),
        ("GET", "/api/v1/campaigns/{id}"),
        ("PATCH", "/api/v1/campaigns/{id}"),
        ("POST", "/api/v1/campaigns/{id}/pause"),
        ("POST", "/api/v1/campaigns/{id}/resume"),
        ("PUT", "/api/v1/campaigns/{id}/windows"),
        ("PUT", "/api/v1/campaigns/{id}/blocked-dates"),
        ("GET", "/api/v1/debtors/{ref}"),
        ("GET", "/api/v1/debtors/{ref}/explain"),
        ("POST", "/api/v1/payments"),
        ("POST", "/api/v1/debts/{id}/plans"),
        ("GET", "/api/v1/debtors/{ref}/plans"),
        ("GET", "/api/v1/attempts"),
        ("GET", "/api/v1/reviews"),
        ("GET", "/api/v1/reports/summary"),
        ("GET", "/api/v1/creditors"),
        ("GET", "/api/v1/creditors/{name}"),
        ("PUT", "/api/v1/creditors/{name}"),
    }
    assert expected <= documented


async def test_every_documented_path_answers_other_than_404_or_405(api: Api) -> None:
    doc = await _document(api)
    for path, ops in doc["paths"].items():
        concrete = path.replace("{id}", "1").replace("{ref}", "R").replace("{name}", "N")
        for method in ops:
            resp = await api.client.request(method.upper(), concrete, headers=api.sup(), json={})
            # 404 is fine only as a JSON "no such record", never as "no such route".
            if resp.status == 404:
                assert resp.content_type == "application/json", (method, path)
            assert resp.status != 405, (method, path)


async def test_schemas_come_from_the_models_and_refs_resolve(api: Api) -> None:
    doc = await _document(api)
    schemas = doc["components"]["schemas"]
    for ref in _refs(doc):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
    create = doc["paths"]["/api/v1/campaigns"]["post"]
    body_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = schemas[body_ref.rsplit("/", 1)[1]]
    assert {"name", "windows", "daily_cap", "weekly_cap", "locale"} <= set(body["properties"])
    assert body["properties"]["daily_cap"]["minimum"] == 1
    assert body["properties"]["record_calls"]["default"] is True
    assert body["additionalProperties"] is False
    assert set(create["responses"]) >= {"201", "401", "403", "422"}
    err = create["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
    assert err.endswith("/ValidationErrors")
    explain = doc["paths"]["/api/v1/debtors/{ref}/explain"]["get"]
    params = {(p["name"], p["in"]) for p in explain["parameters"]}
    assert params == {("ref", "path"), ("at", "query"), ("tz", "query")}
    assert explain["x-roles"] == ["agent", "supervisor"]
    assert doc["paths"]["/api/v1/auth/login"]["post"]["security"] == []
    assert {"bearer", "apiKey", "session"} <= set(doc["components"]["securitySchemes"])


async def test_a_route_added_without_a_declaration_still_appears(api: Api) -> None:
    async def agent_queue(request: web.Request) -> web.Response:
        """The agent's queue."""
        return web.json_response([])

    app = build_app(api.sessions)
    app.router.add_get("/api/v1/agents/me/queue", agent_queue)
    doc = build_openapi(app)
    op = doc["paths"]["/api/v1/agents/me/queue"]["get"]
    assert op["summary"] == "The agent's queue."
    served = {(m, p) for m, p, _ in api_routes(app)}
    assert served == {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}


async def test_the_agents_api_is_declared_and_documented_like_the_rest(api: Api) -> None:
    from ivr.agents.api import ENDPOINTS as AGENT_ENDPOINTS
    from ivr.agents.api import setup_api_routes

    app = build_app(api.sessions)
    setup_api_routes(app)
    doc = build_openapi(app)
    schemas = doc["components"]["schemas"]
    for ep in AGENT_ENDPOINTS:
        op = doc["paths"][ep.path][ep.method.lower()]
        assert op["operationId"] == ep.handler.__name__
        assert op["tags"] == [ep.tag] and op["x-roles"], ep.path
        if ep.body is not None:
            ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert schemas[ref.rsplit("/", 1)[1]]["additionalProperties"] is False, ep.path
            assert {"400", "413", "422"} <= set(op["responses"]), ep.path
        if ep.path.endswith("/events"):
            continue  # the WebSocket upgrade answers no JSON
        ok = op["responses"][str(ep.status)]["content"]["application/json"]["schema"]
        assert ok["$ref"].rsplit("/", 1)[1] in schemas, ep.path
    wrapup = doc["paths"]["/api/v1/agents/me/transfers/{transfer_id}/wrapup"]["post"]
    assert {p["name"] for p in wrapup["parameters"]} == {"transfer_id"}
    report = doc["paths"]["/api/v1/reports/transfers"]["get"]
    assert {(p["name"], p["in"]) for p in report["parameters"]} == {
        ("since", "query"),
        ("until", "query"),
    }
