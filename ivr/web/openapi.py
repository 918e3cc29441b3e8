"""The OpenAPI 3.1 document of ``/api/v1``, built from the live router.

Paths come from the routes the app actually serves, and schemas from the
pydantic models the handlers validate with (see ``api_common.Endpoint``), so
the document cannot promise an operation the server lacks or miss one it
has. A route added under ``/api/v1`` without an ``Endpoint`` declaration
still appears, with a minimal description taken from its handler.
"""

from __future__ import annotations

import inspect
import re
from importlib import metadata
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel

from ivr.store.ids import MAX_ROW_ID
from ivr.web.api_common import API_PREFIX, Endpoint, endpoints_of
from ivr.web.auth import COOKIE_NAME

OPENAPI_PATH = "/api/openapi.json"
REF = "#/components/schemas/{model}"
_PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    400: "The body is not JSON",
    401: "Missing or invalid credentials",
    403: "The user's role may not do this",
    404: "Not found",
    409: "Conflicts with an existing record",
    413: "The body is larger than the limit",
    422: "Invalid input: one entry per field at fault",
    406: "Not acceptable: see the operation for the Accept it needs",
    429: "Too many requests (failed logins: wait for Retry-After seconds)",
    503: "Not available on this replica now",
}

_ERROR_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "properties": {"error": {"type": "string"}},
        "required": ["error"],
    },
    "ValidationErrors": {
        "type": "object",
        "properties": {
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "field": {"type": "string", "examples": ["windows[0].end"]},
                        "reason": {"type": "string"},
                        "code": {"type": "string", "examples": ["string_too_long"]},
                        "params": {"type": "object", "examples": [{"max_length": 80}]},
                    },
                    "required": ["field", "reason"],
                },
            }
        },
        "required": ["errors"],
    },
}


def api_routes(app: web.Application) -> list[tuple[str, str, Any]]:
    """(METHOD, path, handler) for every route served under ``/api/v1``."""
    out = []
    for route in app.router.routes():
        info = route.resource.canonical if route.resource is not None else ""
        if not (info == API_PREFIX or info.startswith(API_PREFIX + "/")):
            continue
        if route.method not in _METHODS:
            continue  # HEAD is implied by GET; "*" is not an operation
        out.append((route.method, info, route.handler))
    return out


class _Schemas:
    """Collects model schemas into ``components.schemas``, once per model and mode."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = dict(_ERROR_SCHEMAS)

    def ref(self, model: type[BaseModel], mode: Literal["validation", "serialization"]) -> Any:
        schema = model.model_json_schema(ref_template=REF, mode=mode)
        for name, sub in schema.pop("$defs", {}).items():
            self.components.setdefault(name, sub)
        name = model.__name__
        self.components.setdefault(name, schema)
        return {"$ref": REF.format(model=name)}

    def properties(self, model: type[BaseModel]) -> tuple[dict[str, Any], set[str]]:
        schema = model.model_json_schema(ref_template=REF, mode="validation")
        for name, sub in schema.pop("$defs", {}).items():
            self.components.setdefault(name, sub)
        return schema.get("properties", {}), set(schema.get("required", []))


def _path_params(path: str) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID}
            if name in ("id", "transfer_id")
            else {"type": "string"},
        }
        for name in _PARAM.findall(path)
    ]


def _error(status: int) -> dict[str, Any]:
    name = "ValidationErrors" if status == 422 else "Error"
    return {
        "description": _STATUS_TEXT.get(status, "Error"),
        "content": {"application/json": {"schema": {"$ref": REF.format(model=name)}}},
    }


def _operation(ep: Endpoint, schemas: _Schemas) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": ep.handler.__name__,
        "summary": ep.summary,
        "tags": [ep.tag],
    }
    doc = inspect.getdoc(ep.handler)
    if doc:
        op["description"] = doc
    params = _path_params(ep.path)
    if ep.query is not None:
        props, required = schemas.properties(ep.query)
        for name, prop in props.items():
            entry: dict[str, Any] = {
                "name": name,
                "in": "query",
                "required": name in required,
                "schema": prop,
            }
            if "description" in prop:
                entry["description"] = prop["description"]
            params.append(entry)
    if params:
        op["parameters"] = params
    if ep.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schemas.ref(ep.body, "validation")}},
        }
    ok: dict[str, Any] = {"description": _STATUS_TEXT.get(ep.status, "OK")}
    if ep.response is not None:
        ok["content"] = {"application/json": {"schema": schemas.ref(ep.response, "serialization")}}
    responses: dict[str, Any] = {str(ep.status): ok}
    statuses = set(ep.errors)
    if ep.body is not None:
        statuses |= {400, 413, 422}
    if ep.roles is None:
        op["security"] = []
    else:
        statuses |= {401, 403}
        op["x-roles"] = sorted({"supervisor", *(r.value for r in ep.roles)})
    for status in sorted(statuses):
        responses[str(status)] = _error(status)
    op["responses"] = responses
    return op


def _bare_operation(handler: Any) -> dict[str, Any]:
    doc = inspect.getdoc(handler) or ""
    return {
        "operationId": getattr(handler, "__name__", "operation"),
        "summary": doc.splitlines()[0] if doc else "",
        "responses": {"200": {"description": "OK"}},
    }


def _version() -> str:
    try:
        return metadata.version("ivr")
    except metadata.PackageNotFoundError:
        return "0"


def build_openapi(app: web.Application) -> dict[str, Any]:
    """The whole document for ``app`` as it is routed now."""
    declared = endpoints_of(app)
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for method, path, handler in api_routes(app):
        ep = declared.get((method, path))
        op = _operation(ep, schemas) if ep is not None else _bare_operation(handler)
        paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "IVR collection service API",
            "version": _version(),
            "description": "Campaigns, call windows and caps, debtors, payments and KPIs "
            "for supervisors; debtor context for agents. Send an API key as "
            "'Authorization: Bearer <key>' (or X-API-Key), or log in for a session cookie. "
            "Supervisors may do everything agents can.",
        },
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.components.items())),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "session": {"type": "apiKey", "in": "cookie", "name": COOKIE_NAME},
            },
        },
        "security": [{"bearer": []}, {"apiKey": []}, {"session": []}],
    }


async def serve_openapi(request: web.Request) -> web.Response:
    """The document, without authentication (it describes, it reveals no data)."""
    return web.json_response(build_openapi(request.app))
