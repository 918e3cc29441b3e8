"""The Calls resource of Twilio's 2010-04-01 REST API, as the sandbox serves it.

Routes: ``POST/GET /2010-04-01/Accounts/{AccountSid}/Calls.json`` (create,
list) and ``GET/POST/DELETE .../Calls/{CallSid}.json`` (fetch, update,
delete). HTTP Basic auth with the account sid and auth token; errors are the
JSON bodies Twilio sends (``code``, ``message``, ``more_info``, ``status``),
so twilio-python raises the same ``TwilioRestException`` it would in
production. Fault injection (429/5xx, slow answers, the CPS limit) happens
here, after authentication, as on the real API.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from aiohttp import web
from multidict import MultiDictProxy, MultiMapping

from ivr.sandbox.engine import Engine
from ivr.sandbox.legs import CallNotLive
from ivr.sandbox.records import API_VERSION, RECORDING_EVENTS, RecordingRequest, SandboxCall

ENGINE_KEY = web.AppKey("sandbox_engine", Engine)

_FAULT_CODES = {429: (20429, "Too Many Requests"), 500: (20500, "Internal Server Error")}
_FAULT_CODES[503] = (20503, "Service Unavailable")
MEDIA_PATH = re.compile(r"/Recordings/RE[0-9a-fA-F]{32}(\.wav|\.mp3)?$")
_STATUS_FILTERS = frozenset(
    {"queued", "ringing", "in-progress", "canceled", "completed", "failed", "busy", "no-answer"}
)


def twilio_error(status: int, code: int, message: str) -> web.Response:
    """An error body exactly as Twilio's API writes it."""
    return web.json_response(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status=status,
    )


def _not_found(request: web.Request) -> web.Response:
    return twilio_error(404, 20404, f"The requested resource {request.path} was not found")


def _basic_auth(header: str) -> tuple[str, str] | None:
    """(user, password) from an ``Authorization: Basic`` header, or None."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = (
            base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        )
    except (ValueError, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate, then apply the injected faults, then serve."""
    if not request.path.startswith(f"/{API_VERSION}/"):
        return await handler(request)
    engine = request.app[ENGINE_KEY]
    cfg = engine.config
    # Recording media is public by default on Twilio (HTTP auth is an account option).
    public = request.method == "GET" and MEDIA_PATH.search(request.path) is not None
    if not public and _basic_auth(request.headers.get("Authorization", "")) != (
        cfg.account_sid,
        cfg.auth_token,
    ):
        response = twilio_error(401, 20003, "Authenticate")
        response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
        return response
    account = request.match_info.get("account_sid")
    if account is not None and account != cfg.account_sid:
        return _not_found(request)
    if cfg.faults.rest_delay_s > 0:
        await asyncio.sleep(cfg.faults.rest_delay_s)
    failure = cfg.faults.take_rest_failure()
    if failure is not None:
        code, message = _FAULT_CODES.get(failure, (20500, "Internal Server Error"))
        return twilio_error(failure, code, message)
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return _not_found(request)
    except web.HTTPMethodNotAllowed:
        return twilio_error(405, 20004, "Method not allowed")


def _first(form: MultiDictProxy[Any], name: str) -> str | None:
    value = form.get(name)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _is_true(value: str | None) -> bool:
    return value is not None and value.strip().lower() == "true"


def _valid_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


async def create_call(request: web.Request) -> web.Response:
    engine = request.app[ENGINE_KEY]
    form = await request.post()
    to, from_ = _first(form, "To"), _first(form, "From")
    url, twiml = _first(form, "Url"), _first(form, "Twiml")
    if to is None:
        return twilio_error(400, 21201, "No 'To' number is specified")
    if from_ is None:
        return twilio_error(400, 21213, "No 'From' number is specified")
    if url is None and twiml is None and _first(form, "ApplicationSid") is None:
        return twilio_error(400, 21205, "Url parameter is required.")
    if url is not None and not _valid_url(url):
        return twilio_error(400, 21205, f"Url is not a valid URL: {url}")
    status_callback = _first(form, "StatusCallback")
    if status_callback is not None and not _valid_url(status_callback):
        return twilio_error(400, 21609, f"Invalid StatusCallback: {status_callback}")
    try:
        timeout = int(_first(form, "Timeout") or 60)
        time_limit = _first(form, "TimeLimit")
        time_limit_s = int(time_limit) if time_limit else None
    except ValueError:
        return twilio_error(400, 21210, "Timeout and TimeLimit must be integers")
    timeout = min(max(timeout, 1), 600)
    events = [str(v) for v in form.getall("StatusCallbackEvent", [])]
    known = {"initiated", "ringing", "answered", "completed"}
    unknown = {e for v in events for e in v.split()} - known
    if unknown:
        return twilio_error(400, 21626, f"Invalid StatusCallbackEvent: {sorted(unknown)[0]}")
    machine_detection = _first(form, "MachineDetection")
    if machine_detection is not None and machine_detection.lower() not in (
        "enable",
        "detectmessageend",
    ):
        return twilio_error(400, 21626, f"Invalid MachineDetection: {machine_detection}")
    recording = _recording_request(form)
    if isinstance(recording, web.Response):
        return recording
    if not engine.cps.admit():
        return twilio_error(429, 20429, "Too Many Requests")
    record = engine.place_call(
        to=to,
        from_=from_,
        url=url,
        method=_first(form, "Method") or "POST",
        twiml=None if url else twiml,
        fallback_url=_first(form, "FallbackUrl"),
        fallback_method=_first(form, "FallbackMethod") or "POST",
        status_callback=status_callback,
        status_callback_method=_first(form, "StatusCallbackMethod") or "POST",
        status_callback_events=events,
        timeout_s=timeout,
        machine_detection=machine_detection,
        async_amd=_is_true(_first(form, "AsyncAmd")),
        async_amd_status_callback=_first(form, "AsyncAmdStatusCallback"),
        async_amd_status_callback_method=_first(form, "AsyncAmdStatusCallbackMethod") or "POST",
        time_limit_s=time_limit_s,
        recording=recording,
    )
    record.request_params = {name: [str(v) for v in form.getall(name)] for name in form}
    callback = _first(form, "RecordingStatusCallback")
    if recording is not None and callback is not None and recording.status_callback is None:
        record.error(13256, f"Invalid recordingStatusCallback URL: {callback}")
    return web.json_response(record.to_json(), status=201)


def _recording_request(form: MultiDictProxy[Any]) -> RecordingRequest | web.Response | None:
    """The ``Record*`` parameters of a new call; None when it is not recorded.

    An invalid ``RecordingStatusCallback`` does not refuse the call: as on
    Twilio (warning 13256) the call is recorded and no callback is sent.
    """
    if not _is_true(_first(form, "Record")):
        return None
    channels = (_first(form, "RecordingChannels") or "mono").lower()
    if channels not in ("mono", "dual"):
        return twilio_error(400, 21626, f"Invalid RecordingChannels: {channels}")
    events = [str(v) for v in form.getall("RecordingStatusCallbackEvent", [])]
    parsed = tuple(e for v in events for e in v.split() if e) or ("completed",)
    unknown = set(parsed) - RECORDING_EVENTS
    if unknown:
        return twilio_error(
            400, 21626, f"Invalid RecordingStatusCallbackEvent: {sorted(unknown)[0]}"
        )
    callback = _first(form, "RecordingStatusCallback")
    return RecordingRequest(
        channels=2 if channels == "dual" else 1,
        status_callback=callback if callback is not None and _valid_url(callback) else None,
        status_callback_method=(_first(form, "RecordingStatusCallbackMethod") or "POST").upper(),
        status_callback_events=parsed,
    )


def _parse_when(value: str) -> datetime | None:
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _matches(record: SandboxCall, query: MultiMapping[str]) -> bool:
    if "To" in query and record.to != query["To"]:
        return False
    if "From" in query and record.from_ != query["From"]:
        return False
    if "ParentCallSid" in query and record.parent_call_sid != query["ParentCallSid"]:
        return False
    if "Status" in query and record.status != query["Status"]:
        return False
    for key, op in (("StartTime>", "ge"), ("StartTime<", "le"), ("StartTime", "eq")):
        if key not in query:
            continue
        when = _parse_when(query[key])
        if when is None or record.start_time is None:
            return False
        start = record.start_time
        if op == "ge" and start < when:
            return False
        if op == "le" and start > when:
            return False
        if op == "eq" and start.date() != when.date():
            return False
    return True


def paged(
    query: MultiMapping[str],
    items: Sequence[Any],
    render: Callable[[Any], dict[str, Any]],
    base: str,
    key: str,
) -> web.Response:
    """One page of a list resource, with Twilio's paging fields (``Page``, ``PageSize``)."""
    try:
        page_size = min(max(int(query.get("PageSize", "50")), 1), 1000)
        page = max(int(query.get("Page", "0")), 0)
    except ValueError:
        return twilio_error(400, 20001, "PageSize and Page must be integers")
    chunk = items[page * page_size : (page + 1) * page_size]
    filters = [(k, v) for k, v in query.items() if k not in ("Page", "PageSize", "PageToken")]

    def page_uri(number: int) -> str:
        return base + "?" + urlencode([*filters, ("PageSize", page_size), ("Page", number)])

    has_next = (page + 1) * page_size < len(items)
    return web.json_response(
        {
            key: [render(item) for item in chunk],
            "end": page * page_size + max(len(chunk) - 1, 0),
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1) if has_next else None,
            "page": page,
            "page_size": page_size,
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
            "start": page * page_size,
            "uri": page_uri(page),
        }
    )


async def list_calls(request: web.Request) -> web.Response:
    engine = request.app[ENGINE_KEY]
    query = request.query
    if "Status" in query and query["Status"] not in _STATUS_FILTERS:
        return twilio_error(400, 20001, f"Invalid Status: {query['Status']}")
    records = sorted(
        (r for r in engine.calls.values() if _matches(r, query)),
        key=lambda r: r.date_created,
        reverse=True,
    )
    base = f"/{API_VERSION}/Accounts/{engine.config.account_sid}/Calls.json"
    return paged(query, records, SandboxCall.to_json, base, "calls")


async def fetch_call(request: web.Request) -> web.Response:
    engine = request.app[ENGINE_KEY]
    record = engine.calls.get(request.match_info["call_sid"])
    if record is None:
        return _not_found(request)
    return web.json_response(record.to_json())


async def update_call(request: web.Request) -> web.Response:
    engine = request.app[ENGINE_KEY]
    sid = request.match_info["call_sid"]
    if sid not in engine.calls:
        return _not_found(request)
    form = await request.post()
    status = _first(form, "Status")
    if status is not None and status not in ("completed", "canceled"):
        return twilio_error(400, 21218, f"Invalid Status: {status}")
    url = _first(form, "Url")
    if url is not None and not _valid_url(url):
        return twilio_error(400, 21205, f"Url is not a valid URL: {url}")
    twiml = None if url else _first(form, "Twiml")
    record = engine.calls[sid]
    callback = _first(form, "StatusCallback")
    if callback is not None:
        record.status_callback = callback
        record.status_callback_method = (_first(form, "StatusCallbackMethod") or "POST").upper()
    try:
        record = engine.update_call(
            sid, url=url, method=_first(form, "Method") or "POST", twiml=twiml, status=status
        )
    except CallNotLive:
        return twilio_error(400, 21220, "Call is not in-progress. Cannot redirect.")
    await asyncio.sleep(0)
    return web.json_response(record.to_json())


async def delete_call(request: web.Request) -> web.Response:
    engine = request.app[ENGINE_KEY]
    sid = request.match_info["call_sid"]
    record = engine.calls.get(sid)
    if record is None:
        return _not_found(request)
    if not record.is_final:
        return twilio_error(400, 21220, "Call is not in a final state; it cannot be deleted.")
    del engine.calls[sid]
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    base = f"/{API_VERSION}/Accounts/{{account_sid}}"
    app.router.add_post(f"{base}/Calls.json", create_call)
    app.router.add_get(f"{base}/Calls.json", list_calls)
    app.router.add_get(f"{base}/Calls/{{call_sid}}.json", fetch_call)
    app.router.add_post(f"{base}/Calls/{{call_sid}}.json", update_call)
    app.router.add_delete(f"{base}/Calls/{{call_sid}}.json", delete_call)
