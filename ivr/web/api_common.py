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
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from ivr.store.ids import MAX_ROW_ID, parse_row_id
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
    """One field at fault. ``reason`` is English for people reading the JSON; ``code``
    (pydantic's error type, e.g. ``string_too_long``) and ``params`` (its limits, e.g.
    ``{"max_length": 80}``) let a page say the same in its user's language."""

    field: str
    reason: str
    code: str | None = None
    params: dict[str, str | int | float] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "reason": self.reason}
        if self.code:
            out["code"] = self.code
        if self.params:
            out["params"] = self.params
        return out


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


def _params(err: Any) -> dict[str, str | int | float] | None:
    """The error's limits as plain JSON values (pydantic may hold Decimals or dates)."""
    ctx = err.get("ctx") or {}
    out: dict[str, str | int | float] = {}
    for key, value in ctx.items():
        if key == "error":
            continue
        out[key] = value if isinstance(value, int | float | str) else str(value)
    return out or None


def from_pydantic(exc: ValidationError, prefix: Sequence[str | int] = ()) -> list[FieldError]:
    out = []
    for err in exc.errors(include_url=False):
        loc = [p for p in err["loc"] if isinstance(p, int) or "[" not in p]
        code = str(err.get("type", "")) or None
        out.append(FieldError(field_path([*prefix, *loc]), _reason(dict(err)), code, _params(err)))
    return out


def unprocessable(errors: Sequence[FieldError]) -> web.HTTPException:
    return web.HTTPUnprocessableEntity(
        text=json.dumps({"errors": [e.as_dict() for e in errors]}),
        content_type="application/json",
    )


MAX_BODY_BYTES = 1024 * 1024
"""The largest JSON body any endpoint reads (413 beyond): campaigns with 70 windows
and 1000 blocked dates fit many times over."""
MAX_JSON_DEPTH = 32
MAX_INT_DIGITS = 30
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(rb"[\[\]{}]")


class _Refused(ValueError):
    """A JSON value the parser must not build (huge integer, NaN/Infinity)."""


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _Refused(f"an integer has more than {MAX_INT_DIGITS} digits")
    return int(text)


def _parse_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


def _depth(raw: bytes) -> int:
    """Deepest nesting of arrays and objects, strings skipped (no recursion)."""
    deepest = depth = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub(b'""', raw)):
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def parse_json(raw: bytes) -> Any:
    """Bytes to JSON data within the limits: 413 if too large, 400 if not JSON,
    nested deeper than :data:`MAX_JSON_DEPTH`, or holding numbers Python must
    not build (integers of thousands of digits, NaN, Infinity). Decimals stay
    :class:`~decimal.Decimal`, so ``1e400`` is refused by its field, by name."""
    if len(raw) > MAX_BODY_BYTES:
        raise json_error(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    if _depth(raw) > MAX_JSON_DEPTH:
        raise json_error(400, f"the body is nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(
            raw.decode("utf-8-sig") or "null",
            parse_int=_parse_int,
            parse_float=Decimal,
            parse_constant=_parse_constant,
        )
    except (UnicodeDecodeError, json.JSONDecodeError, _Refused, RecursionError) as exc:
        raise json_error(400, f"the body is not valid JSON: {exc}") from None


async def read_json(request: web.Request) -> Any:
    """The request's JSON body within the limits of :func:`parse_json`."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise json_error(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    return parse_json(await request.read())


async def read_body(request: web.Request, model: type[M]) -> M:
    """The JSON body validated as ``model``: 400/413 if it is not acceptable JSON, 422 if wrong."""
    data = await read_json(request)
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
    """A path id: ASCII digits, 1..2^31-1 (``²`` and 2^31 are 422, not a server error)."""
    value = parse_row_id(request.match_info.get(name, ""))
    if value is None:
        raise unprocessable([FieldError(name, f"must be a whole number 1..{MAX_ROW_ID}")])
    return value


def reply(model: BaseModel, status: int = 200) -> web.Response:
    return web.json_response(model.model_dump(mode="json"), status=status)


def utc(value: dt.datetime | None) -> dt.datetime | None:
    """An instant from a query string in UTC; one given without an offset is taken as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
