"""What the console's debtor page reads: search people, one person's timeline,
and a call's recording.

Search takes one text: a reference (exact), a phone number in any usual
format (normalised to E.164 and matched on the person's numbers) or the start
of the name or of any word of it, regardless of case and accents; paged.
The timeline (``ivr.store.timeline``) is every contact, newest first, one
list with a ``kind`` per entry. A recording is streamed from the carrier
through this service with the account's credentials, which never leave it;
only while the recording is kept, and only to supervisors.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiohttp
import structlog
from aiohttp import web
from pydantic import Field

from ivr.keys import SESSIONS, SETTINGS
from ivr.store import timeline as timeline_store
from ivr.store.dnc import NumberInvalid, normalise_number
from ivr.store.models import CallAttempt
from ivr.vocab.recordings import RecordingStatus
from ivr.web.api_common import API_PREFIX, Endpoint, path_int, read_query, reply
from ivr.web.api_debtors import readable_debtor
from ivr.web.api_schemas import Input, Output
from ivr.web.auth import current_user, json_error

log = structlog.get_logger(__name__)

TWILIO_API = "https://api.twilio.com"
API_VERSION = "2010-04-01"
_CHUNK = 64 * 1024


class SearchQuery(Input):
    q: str = Field(min_length=1, max_length=200, description="name, reference or phone")
    offset: int = Field(default=0, ge=0, le=1_000_000)
    limit: int = Field(default=20, ge=1, le=100)


class FoundOut(Output):
    external_ref: str
    name: str
    status: str
    phones: list[str]
    matched: str = Field(description="reference, phone or name")


class SearchOut(Output):
    q: str
    e164: str | None = Field(description="the text read as a phone number, if it is one")
    total: int
    offset: int
    items: list[FoundOut]


class EntryOut(Output):
    kind: str = Field(
        description="call, transfer, note, promise, plan, payment, callback, opt_out, sms, "
        "review or action"
    )
    at: dt.datetime
    id: int
    detail: dict[str, Any]


class TimelineOut(Output):
    debtor: str
    items: list[EntryOut]


def _as_phone(text: str) -> str | None:
    """The text as an E.164 number when it looks like one (mostly digits)."""
    digits = sum(c.isdigit() for c in text)
    if digits < 8 or digits < len(text.replace(" ", "")) * 0.6:
        return None
    try:
        return normalise_number(text)
    except NumberInvalid:
        return None


async def search_debtors(request: web.Request) -> web.Response:
    """People by reference, phone or the start of a name."""
    q = read_query(request, SearchQuery)
    e164 = _as_phone(q.q)
    async with request.app[SESSIONS]() as s:
        total, found = await timeline_store.search(s, q.q, e164, offset=q.offset, limit=q.limit)
        items = [
            FoundOut(
                external_ref=f.debtor.external_ref,
                name=f.debtor.name,
                status=str(f.debtor.status),
                phones=[p.e164 for p in f.debtor.phones],
                matched=f.matched,
            )
            for f in found
        ]
    return reply(SearchOut(q=q.q, e164=e164, total=total, offset=q.offset, items=items))


async def get_timeline(request: web.Request) -> web.Response:
    """Every contact with the person, newest first."""
    ref = request.match_info["ref"]
    async with request.app[SESSIONS]() as s:
        debtor = await readable_debtor(s, ref, current_user(request))
        entries = await timeline_store.timeline(s, debtor.id)
    for e in entries:
        if e.kind == "call" and e.detail.get("recording"):
            e.detail["recording"]["url"] = f"{API_PREFIX}/attempts/{e.id}/recording"
    return reply(
        TimelineOut(
            debtor=ref,
            items=[EntryOut(kind=e.kind, at=e.at, id=e.id, detail=e.detail) for e in entries],
        )
    )


async def get_recording(request: web.Request) -> web.StreamResponse:
    """The call's recording as WAV, fetched from the carrier with the account's
    credentials (never sent to the browser)."""
    attempt_id = path_int(request, "id")
    async with request.app[SESSIONS]() as s:
        attempt = await s.get(CallAttempt, attempt_id)
    if attempt is None or attempt.recording_sid is None:
        raise json_error(404, f"no recording for attempt {attempt_id}")
    if attempt.recording_deleted_at is not None:
        raise json_error(410, "the recording was deleted (retention period or LGPD request)")
    if attempt.recording_status != RecordingStatus.COMPLETED:
        raise json_error(409, f"the recording is {attempt.recording_status}, not completed")
    settings = request.app[SETTINGS]
    if not settings.twilio_account_sid or not settings.twilio_auth_token:
        raise json_error(503, "no carrier account is configured")
    base = (settings.twilio_api_url or TWILIO_API).rstrip("/")
    url = (
        f"{base}/{API_VERSION}/Accounts/{settings.twilio_account_sid}"
        f"/Recordings/{attempt.recording_sid}.wav"
    )
    auth = aiohttp.encode_basic_auth(settings.twilio_account_sid, settings.twilio_auth_token)
    timeout = aiohttp.ClientTimeout(total=60, sock_connect=10)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.get(url, headers={"Authorization": auth}) as upstream,
        ):
            if upstream.status == 404:
                raise json_error(410, "the carrier no longer has this recording")
            if upstream.status != 200:
                log.warning("recording.fetch_failed", attempt_id=attempt_id, status=upstream.status)
                raise json_error(502, f"the carrier answered {upstream.status}")
            response = web.StreamResponse(
                headers={
                    "Content-Type": "audio/x-wav",
                    "Cache-Control": "no-store",
                    "Content-Disposition": f'inline; filename="call-{attempt_id}.wav"',
                }
            )
            if upstream.content_length is not None:
                response.content_length = upstream.content_length
            await response.prepare(request)
            async for chunk in upstream.content.iter_chunked(_CHUNK):
                await response.write(chunk)
            await response.write_eof()
            return response
    except aiohttp.ClientError as exc:
        raise json_error(502, f"cannot reach the carrier: {exc}") from None


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "GET",
        f"{API_PREFIX}/debtor-search",
        search_debtors,
        "Find people by name (start of any word, any case or accents), reference or phone",
        tag="debtors",
        query=SearchQuery,
        response=SearchOut,
        errors=(422,),
    ),
    Endpoint(
        "GET",
        f"{API_PREFIX}/debtors/{{ref}}/timeline",
        get_timeline,
        "Every contact with the person, newest first, one entry per call, SMS, payment...",
        tag="debtors",
        response=TimelineOut,
        errors=(404,),
    ),
    Endpoint(
        "GET",
        f"{API_PREFIX}/attempts/{{id}}/recording",
        get_recording,
        "A call's recording (WAV), streamed from the carrier while it is kept",
        tag="attempts",
        errors=(404, 409, 410, 422, 502, 503),
    ),
)
