"""Do-not-call lists over the API: import a registry's file, add and remove a
number, and "when and why is this number blocked".

``POST /dnc/import?list_name=...`` takes the file itself as the body (CSV or one
number a line, UTF-8 unless ``encoding`` says otherwise): the good lines land,
each bad one is reported with its line and reason, and importing the same file
again adds nothing. Numbers are accepted in any usual format and stored as
E.164. The rule book reads the lists (``number_on_dnc_list`` in ``/explain``),
so the claim never dials a listed number. Supervisors only.

Adding and removing a number, and importing a file, are written to the audit
log in the change's transaction; a number there is masked (``audit_number``).
"""

from __future__ import annotations

import datetime as dt
import re

import structlog
from aiohttp import web
from pydantic import Field, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.keys import SESSIONS
from ivr.store import dnc as dnc_store
from ivr.store.audit import audit_number, record_audit
from ivr.store.csvfile import CsvRefused, decode
from ivr.store.models import DncNumber
from ivr.store.models.dnc import DNC_LIST_MAX
from ivr.vocab.audit import AuditAction, AuditEntity
from ivr.web.api_common import (
    API_PREFIX,
    Endpoint,
    FieldError,
    read_body,
    read_query,
    reply,
    unprocessable,
)
from ivr.web.api_imports import LineErrorOut
from ivr.web.api_schemas import Input, Output
from ivr.web.auth import current_user, json_error
from scheduler.explain import wake_debtors

log = structlog.get_logger(__name__)

MAX_LIST_BYTES = 64 * 1024 * 1024
"""The largest list file read in one request (São Paulo's whole export is smaller)."""
MAX_REPORTED_ERRORS = 1000
_LIST_NAME = re.compile(r"^[^\x00-\x1f\x7f]+$")


def _check_list(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError("must not be blank")
    if not _LIST_NAME.match(value):
        raise ValueError("must not hold control characters")
    return value


def _check_number(value: str) -> str:
    try:
        return dnc_store.normalise_number(value)
    except dnc_store.NumberInvalid as exc:
        raise ValueError(str(exc)) from None


class ImportQuery(Input):
    list_name: str = Field(
        min_length=1, max_length=DNC_LIST_MAX, description='e.g. "Não Me Ligue SP"'
    )
    reason: str | None = Field(default=None, max_length=200)
    encoding: str | None = Field(default=None, max_length=40, description="default UTF-8")

    _list = field_validator("list_name")(_check_list)


class ImportOut(Output):
    list_name: str
    read: int = Field(description="good lines")
    added: int = Field(description="numbers new on the list")
    already: int = Field(description="numbers the list held already")
    errors: list[LineErrorOut]
    errors_total: int


class NumberIn(Input):
    list_name: str = Field(min_length=1, max_length=DNC_LIST_MAX)
    number: str = Field(min_length=1, max_length=40, description="any usual format")
    reason: str | None = Field(default=None, max_length=200)

    _list = field_validator("list_name")(_check_list)
    _number = field_validator("number")(_check_number)


class NumberQuery(Input):
    number: str = Field(min_length=1, max_length=40, description="any usual format")

    _number = field_validator("number")(_check_number)


class RemoveQuery(NumberQuery):
    list_name: str = Field(min_length=1, max_length=DNC_LIST_MAX)

    _list = field_validator("list_name")(_check_list)


class EntryOut(Output):
    list_name: str
    e164: str
    source: str
    reason: str | None
    added_by: str
    added_at: dt.datetime


class BlockOut(Output):
    kind: str = Field(description="dnc_list, number_opt_out, sms_number_opt_out or wrong_number")
    since: dt.datetime | None
    list_name: str | None = None
    source: str | None = None
    reason: str | None = None
    by: str | None = None
    debtor_ref: str | None = None


class LookupOut(Output):
    e164: str
    blocked: bool = Field(description="no call is placed to this number")
    blocks: list[BlockOut]


class RemovedOut(Output):
    list_name: str
    e164: str
    removed: bool


class ListOut(Output):
    name: str
    numbers: int
    last_added_at: dt.datetime | None


class ListsOut(Output):
    items: list[ListOut]


class PageQuery(Input):
    list_name: str = Field(min_length=1, max_length=DNC_LIST_MAX)
    offset: int = Field(default=0, ge=0, le=10_000_000)
    limit: int = Field(default=50, ge=1, le=500)

    _list = field_validator("list_name")(_check_list)


class PageOut(Output):
    list_name: str
    total: int
    items: list[EntryOut]


def _entry(e: object) -> EntryOut:
    return EntryOut(
        list_name=e.list_name,  # type: ignore[attr-defined]
        e164=e.e164,  # type: ignore[attr-defined]
        source=e.source,  # type: ignore[attr-defined]
        reason=e.reason,  # type: ignore[attr-defined]
        added_by=e.added_by,  # type: ignore[attr-defined]
        added_at=e.added_at,  # type: ignore[attr-defined]
    )


async def post_import(request: web.Request) -> web.Response:
    """Import a list file: good lines land, bad ones are reported by line."""
    q = read_query(request, ImportQuery)
    if request.content_length is not None and request.content_length > MAX_LIST_BYTES:
        raise json_error(413, f"the file is larger than {MAX_LIST_BYTES // 2**20} MiB")
    raw = await request.content.read(MAX_LIST_BYTES + 1)
    if len(raw) > MAX_LIST_BYTES:
        raise json_error(413, f"the file is larger than {MAX_LIST_BYTES // 2**20} MiB")
    if b"\x00" in raw:
        raise unprocessable([FieldError("body", "not a text file (binary content)")])
    try:
        text = decode(raw, q.encoding)
    except CsvRefused as exc:
        field = "encoding" if q.encoding else "body"
        raise unprocessable([FieldError(field, str(exc))]) from None
    if not text.strip():
        raise unprocessable([FieldError("body", "the file is empty")])
    user = current_user(request)
    async with request.app[SESSIONS]() as s, s.begin():
        report = await dnc_store.import_list(
            s, q.list_name, text, source="import", reason=q.reason, added_by=user.username
        )
        counts = {
            "read": report.read,
            "added": report.added,
            "already": report.already,
            "rejected": len(report.errors),
            "reason": q.reason,
        }
        await record_audit(s, user, AuditEntity.DNC, q.list_name, AuditAction.IMPORT, None, counts)
    log.info(
        "dnc.imported",
        list_name=q.list_name,
        by=user.username,
        added=report.added,
        bad=len(report.errors),
    )
    return reply(
        ImportOut(
            list_name=q.list_name,
            read=report.read,
            added=report.added,
            already=report.already,
            errors=[LineErrorOut.of(e) for e in report.errors[:MAX_REPORTED_ERRORS]],
            errors_total=len(report.errors),
        )
    )


async def _listed(s: AsyncSession, list_name: str, e164: str) -> DncNumber | None:
    """The number's entry on this list, if it is on it."""
    entries = await dnc_store.entries_for(s, [e164])
    return next((e for e in entries if e.list_name == list_name), None)


async def post_number(request: web.Request) -> web.Response:
    """Put one number on a list (nothing changes if it is there already)."""
    body = await read_body(request, NumberIn)
    user = current_user(request)
    async with request.app[SESSIONS]() as s, s.begin():
        # Asked before the insert: its row count is not reliable on every driver.
        if await _listed(s, body.list_name, body.number) is None:
            after = {"list_name": body.list_name, "reason": body.reason}
            await record_audit(
                s, user, AuditEntity.DNC, audit_number(body.number), AuditAction.ADD, None, after
            )
        await dnc_store.add_numbers(
            s,
            body.list_name,
            [body.number],
            source="console",
            reason=body.reason,
            added_by=user.username,
        )
        entry = await _listed(s, body.list_name, body.number)
    assert entry is not None  # just added, or there already
    log.info("dnc.added", list_name=body.list_name, e164=body.number, by=user.username)
    return reply(_entry(entry), status=201)


async def delete_number(request: web.Request) -> web.Response:
    """Take a number off one list; the people who have it are looked at again."""
    q = read_query(request, RemoveQuery)
    user = current_user(request)
    async with request.app[SESSIONS]() as s, s.begin():
        removed = await dnc_store.remove_number(s, q.list_name, q.number)
        if not removed:
            raise json_error(404, f"{q.number} is not on the list {q.list_name!r}")
        before = {"list_name": q.list_name}
        await record_audit(
            s, user, AuditEntity.DNC, audit_number(q.number), AuditAction.REMOVE, before, None
        )
        await wake_debtors(s, debtor_ids=await dnc_store.debtor_ids_at(s, [q.number]))
    log.info("dnc.removed", list_name=q.list_name, e164=q.number, by=user.username)
    return reply(RemovedOut(list_name=q.list_name, e164=q.number, removed=True))


async def get_lookup(request: web.Request) -> web.Response:
    """When and why a number is blocked: its lists and every opt-out at it."""
    q = read_query(request, NumberQuery)
    async with request.app[SESSIONS]() as s:
        blocks = await dnc_store.blocks_of(s, q.number)
    items = [
        BlockOut(
            kind=b.kind,
            since=b.since if isinstance(b.since, dt.datetime) else None,
            list_name=b.list_name,
            source=b.source,
            reason=b.reason,
            by=b.by,
            debtor_ref=b.debtor_ref,
        )
        for b in blocks
    ]
    calls = {"dnc_list", "number_opt_out"}
    return reply(
        LookupOut(e164=q.number, blocked=any(b.kind in calls for b in blocks), blocks=items)
    )


async def get_lists(request: web.Request) -> web.Response:
    """The lists with how many numbers each holds."""
    async with request.app[SESSIONS]() as s:
        rows = await dnc_store.list_summaries(s)
    return reply(
        ListsOut(
            items=[
                ListOut(name=r.name, numbers=r.numbers, last_added_at=r.last_added_at)  # type: ignore[arg-type]
                for r in rows
            ]
        )
    )


async def get_entries(request: web.Request) -> web.Response:
    """One page of a list, newest entries first."""
    q = read_query(request, PageQuery)
    async with request.app[SESSIONS]() as s:
        total, rows = await dnc_store.list_page(s, q.list_name, offset=q.offset, limit=q.limit)
    return reply(PageOut(list_name=q.list_name, total=total, items=[_entry(r) for r in rows]))


_P = f"{API_PREFIX}/dnc"

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "POST",
        f"{_P}/import",
        post_import,
        "Import a do-not-call list file (the body: CSV or one number a line)",
        tag="dnc",
        query=ImportQuery,
        response=ImportOut,
        errors=(413, 422),
    ),
    Endpoint(
        "GET",
        f"{_P}/lists",
        get_lists,
        "The do-not-call lists and their sizes",
        tag="dnc",
        response=ListsOut,
    ),
    Endpoint(
        "GET",
        f"{_P}/entries",
        get_entries,
        "One page of a do-not-call list, newest first",
        tag="dnc",
        query=PageQuery,
        response=PageOut,
        errors=(422,),
    ),
    Endpoint(
        "POST",
        f"{_P}/numbers",
        post_number,
        "Put a number on a do-not-call list",
        tag="dnc",
        body=NumberIn,
        response=EntryOut,
        status=201,
        errors=(422,),
    ),
    Endpoint(
        "DELETE",
        f"{_P}/numbers",
        delete_number,
        "Take a number off a do-not-call list",
        tag="dnc",
        query=RemoveQuery,
        response=RemovedOut,
        errors=(404, 422),
    ),
    Endpoint(
        "GET",
        f"{_P}/lookup",
        get_lookup,
        "When and why a number is blocked: its lists and opt-outs",
        tag="dnc",
        query=NumberQuery,
        response=LookupOut,
        errors=(422,),
    ),
)
