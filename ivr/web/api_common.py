"""What every JSON endpoint shares: its declaration, body/query parsing, error shapes.

An :class:`Endpoint` declares a route once (method, path, roles, pydantic
models); :func:`add_endpoints` registers it with aiohttp behind its role
guard and remembers it, so the OpenAPI document is built from the same
declarations the router serves and cannot drift from them.

Invalid input is answered ``422 {"errors": [{"field": "windows[0].end",
"reason": "..."}]}``; other errors are ``{"error": "..."}`` with their status.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from ivr.store.models import Role
from ivr.web.auth import json_error, require

M = TypeVar("M", bound=BaseModel)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

API_PREFIX = "/api/v1"


@dataclass(frozen=True)
class Endpoint:
    """One API operation: enough to route it, guard it and document it."""

    method: str
    path: str
    handler: Handler
    summary: str
    roles: tuple[Role, ...] | None = (Role.SUPERVISOR,)  # None: no authentication
    tag: str = "api"
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.method.upper(), self.path)


ENDPOINTS: web.AppKey[dict[tuple[str, str], Endpoint]] = web.AppKey("api_endpoints")
"""(METHOD, path) -> Endpoint for every declared operation of this app."""


def endpoints_of(app: web.Application) -> dict[tuple[str, str], Endpoint]:
    return app.get(ENDPOINTS, {})


def add_endpoints(app: web.Application, endpoints: Iterable[Endpoint]) -> None:
    """Route each endpoint behind its guard and record it for the OpenAPI document.

    Other parts of the service that serve under ``/api/v1`` call this too, so
    their operations appear in the document with their schemas.
    """
    if ENDPOINTS not in app:
        app[ENDPOINTS] = {}
    table = app[ENDPOINTS]
    for ep in endpoints:
        handler = ep.handler if ep.roles is None else require(*ep.roles).handler(ep.handler)
        app.router.add_route(ep.method.upper(), ep.path, handler)
        table[ep.key] = ep


# --- validation errors -------------------------------------------------------


@dataclass(frozen=True)
class FieldError:
    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


def field_path(loc: Sequence[str | int]) -> str:
    """``("windows", 0, "end")`` -> ``"windows[0].end"``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _reason(err: dict[str, Any]) -> str:
    msg = str(err.get("msg", "invalid"))
    return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def from_pydantic(exc: ValidationError, prefix: Sequence[str | int] = ()) -> list[FieldError]:
    out = []
    for err in exc.errors(include_url=False):
        loc = [p for p in err["loc"] if isinstance(p, int) or "[" not in p]
        out.append(FieldError(field_path([*prefix, *loc]), _reason(dict(err))))
    return out


def unprocessable(errors: Sequence[FieldError]) -> web.HTTPException:
    return web.HTTPUnprocessableEntity(
        text=json.dumps({"errors": [e.as_dict() for e in errors]}),
        content_type="application/json",
    )


async def read_body(request: web.Request, model: type[M]) -> M:
    """The JSON body validated as ``model``: 400 if it is not JSON, 422 if it is wrong."""
    raw = await request.read()
    try:
        data = json.loads(raw or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise json_error(400, f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise unprocessable([FieldError("", "the body must be a JSON object")])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise unprocessable(from_pydantic(exc)) from None


def read_query(request: web.Request, model: type[M]) -> M:
    data = {k: v for k, v in request.query.items()}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise unprocessable(from_pydantic(exc)) from None


def path_int(request: web.Request, name: str) -> int:
    raw = request.match_info.get(name, "")
    if not raw.isdigit():
        raise unprocessable([FieldError(name, "must be a positive integer")])
    return int(raw)


def reply(model: BaseModel, status: int = 200) -> web.Response:
    return web.json_response(model.model_dump(mode="json"), status=status)


def utc(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value.astimezone(dt.UTC)


def rate(numerator: int, denominator: int) -> float | None:
    """A ratio rounded for display; None when there is nothing to divide by."""
    return round(numerator / denominator, 4) if denominator else None
