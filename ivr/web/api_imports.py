"""File uploads from the console: a debtor portfolio into a campaign, and payments.

``POST /campaigns/{id}/import`` and ``POST /payments/import`` take the CSV
as the raw request body (or as the ``file`` part of a multipart form),
stream it to a temporary file within :data:`MAX_IMPORT_BYTES` (413 beyond)
and hand it to the very importers ``ivr import`` and ``ivr import-payments``
run, so there is one import path and one report: the good rows land, each
bad row comes back with its line (the header is line 1) and reason. A file
the importer refuses whole (not UTF-8, a required column missing) is a 422
naming ``body`` (or ``encoding``), and nothing was imported.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Self

import structlog
from aiohttp import BodyPartReader, web
from pydantic import Field
from sqlalchemy.exc import DBAPIError

from ivr.keys import SESSIONS, SETTINGS
from ivr.store.audit import record_audit
from ivr.store.import_report import RowError
from ivr.store.importer import ImportRefused, import_debtors
from ivr.store.models import Campaign
from ivr.vocab.audit import AuditAction, AuditEntity
from ivr.vocab.row_errors import RowErrorCode
from ivr.web.api_common import (
    API_PREFIX,
    Endpoint,
    FieldError,
    path_int,
    read_query,
    reply,
    unprocessable,
)
from ivr.web.api_schemas import Input, Output
from ivr.web.auth import current_user, json_error
from scheduler.payments import import_payments_csv

log = structlog.get_logger(__name__)

MAX_IMPORT_BYTES = 50 * 1024 * 1024
"""The largest file one upload takes (a portfolio of some 300,000 debtors)."""
MAX_REPORTED_ERRORS = 1000
"""Bad rows listed in one answer; ``errors_total`` counts them all."""
_CHUNK = 256 * 1024
PAYMENTS_IMPORT = "import"
"""The audit entry's id for a payments file: it spans debts, so no one row names it."""


class ImportQuery(Input):
    encoding: str | None = Field(default=None, max_length=40, description="default UTF-8")


class LineErrorOut(Output):
    """A bad line of any imported file (the do-not-call import's too)."""

    line: int = Field(description="the file's line; the header is line 1")
    reason: str = Field(description="why, in English")
    code: RowErrorCode = Field(description="why, as a word a page translates")
    params: dict[str, str] = Field(description="the values the reason quotes, by name")

    @classmethod
    def of(cls, error: RowError) -> Self:
        return cls(
            line=error.line,
            reason=error.reason,
            code=error.code,
            params=dict(error.params),
            **cls._extra(error),
        )

    @classmethod
    def _extra(cls, error: RowError) -> dict[str, str]:
        return {}


class RowErrorOut(LineErrorOut):
    """A bad row of a debtor or payments file, with the row's reference if it had one."""

    external_ref: str

    @classmethod
    def _extra(cls, error: RowError) -> dict[str, str]:
        return {"external_ref": error.external_ref}


class DebtorImportOut(Output):
    campaign_id: int
    bytes: int
    inserted: int = Field(description="debtors new to the store")
    updated: int = Field(description="debtors already known, updated from the file")
    errors: list[RowErrorOut] = Field(description="bad rows, by line (the first 1000)")
    errors_total: int


class PaymentImportOut(Output):
    bytes: int
    imported: int = Field(description="payments recorded")
    duplicates: int = Field(description="payments already known (same payment_ref)")
    debts_paid: int = Field(description="debts now paid in full")
    errors: list[RowErrorOut] = Field(description="bad rows, by line (the first 1000)")
    errors_total: int


def _too_large() -> web.HTTPException:
    return json_error(413, f"the file is larger than {MAX_IMPORT_BYTES // 2**20} MiB")


async def _chunks(request: web.Request) -> AsyncIterator[bytes]:
    """The file's bytes: the raw body, or the ``file`` part of a multipart form."""
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            if isinstance(part, BodyPartReader) and (part.name == "file" or part.filename):
                while chunk := await part.read_chunk(_CHUNK):
                    yield chunk
                return
        raise unprocessable([FieldError("file", "the form has no file part", "missing")])
    while chunk := await request.content.read(_CHUNK):
        yield chunk


@contextlib.asynccontextmanager
async def received_file(request: web.Request) -> AsyncIterator[tuple[Path, int]]:
    """The upload in a temporary file (removed afterwards) and its size; 413 past the limit."""
    if request.content_length is not None and request.content_length > MAX_IMPORT_BYTES:
        raise _too_large()
    fd, name = tempfile.mkstemp(prefix="ivr-upload-", suffix=".csv")
    path = Path(name)
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            async for chunk in _chunks(request):
                size += len(chunk)
                if size > MAX_IMPORT_BYTES:
                    raise _too_large()
                out.write(chunk)
        if size == 0:
            raise unprocessable([FieldError("body", "the file is empty", "empty_file")])
        yield path, size
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)


def _refused(exc: Exception, encoding: str | None) -> web.HTTPException:
    text = str(exc)
    field = "encoding" if encoding and "encod" in text.lower() else "body"
    return unprocessable([FieldError(field, _no_path(text), "file_refused")])


def _no_path(text: str) -> str:
    """The importer names the file it read; here that is a temporary name, not the user's."""
    head, sep, tail = text.partition(": ")
    return tail if sep and "ivr-upload-" in head else text


def _rows(errors: list[RowError]) -> list[RowErrorOut]:
    return [RowErrorOut.of(e) for e in errors[:MAX_REPORTED_ERRORS]]


def _db_failed(exc: DBAPIError) -> web.HTTPException:
    # Never the statement's parameters: they are personal data.
    reason = str(exc.orig).splitlines()[0] if exc.orig is not None else type(exc).__name__
    return json_error(
        503,
        f"the import stopped, the database failed: {reason}. The rows already stored stay; "
        "sending the same file again completes it",
    )


async def post_debtor_import(request: web.Request) -> web.Response:
    """Import a debtor CSV into this campaign: good rows land, bad ones come back by line."""
    campaign_id = path_int(request, "id")
    q = read_query(request, ImportQuery)
    async with request.app[SESSIONS]() as s:
        if await s.get(Campaign, campaign_id) is None:
            raise json_error(404, f"no campaign {campaign_id}")
    settings = request.app[SETTINGS]
    async with received_file(request) as (path, size):
        try:
            report = await import_debtors(
                request.app[SESSIONS],
                path,
                campaign_id=campaign_id,
                default_locale=settings.locale,
                encoding=q.encoding,
            )
        except ImportRefused as exc:
            raise _refused(exc, q.encoding) from None
        except LookupError as exc:  # an encoding Python does not know
            raise unprocessable([FieldError("encoding", str(exc), "file_refused")]) from None
        except DBAPIError as exc:
            raise _db_failed(exc) from None
    counts = {
        "bytes": size,
        "inserted": report.inserted,
        "updated": report.updated,
        "rejected": len(report.errors),
    }
    await _audit_import(request, AuditEntity.CAMPAIGN, campaign_id, counts)
    log.info("import.debtors", campaign_id=campaign_id, by=current_user(request).username, **counts)
    return reply(
        DebtorImportOut(
            campaign_id=campaign_id,
            bytes=size,
            inserted=report.inserted,
            updated=report.updated,
            errors=_rows(report.errors),
            errors_total=len(report.errors),
        )
    )


async def _audit_import(
    request: web.Request, entity: AuditEntity, entity_id: int | str, counts: dict[str, int]
) -> None:
    """An upload in the audit log: who, into what, and its counts (never its rows)."""
    async with request.app[SESSIONS]() as s, s.begin():
        await record_audit(
            s, current_user(request), entity, entity_id, AuditAction.IMPORT, None, counts
        )


async def post_payment_import(request: web.Request) -> web.Response:
    """Import a payments CSV: each row is recorded or reported by line on its own."""
    q = read_query(request, ImportQuery)
    async with received_file(request) as (path, size):
        try:
            report = await import_payments_csv(request.app[SESSIONS], path, encoding=q.encoding)
        except (ValueError, LookupError) as exc:  # the file refused whole
            raise _refused(exc, q.encoding) from None
        except DBAPIError as exc:
            raise _db_failed(exc) from None
    if report.errors and report.errors[0].line == 1 and not report.imported:
        raise unprocessable([FieldError("body", report.errors[0].reason, "file_refused")])
    counts = {
        "bytes": size,
        "imported": report.imported,
        "duplicates": report.duplicates,
        "debts_paid": report.debts_paid,
        "rejected": len(report.errors),
    }
    await _audit_import(request, AuditEntity.PAYMENT, PAYMENTS_IMPORT, counts)
    log.info("import.payments", by=current_user(request).username, **counts)
    return reply(
        PaymentImportOut(
            bytes=size,
            imported=report.imported,
            duplicates=report.duplicates,
            debts_paid=report.debts_paid,
            errors=_rows(report.errors),
            errors_total=len(report.errors),
        )
    )


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "POST",
        f"{API_PREFIX}/campaigns/{{id}}/import",
        post_debtor_import,
        "Import a debtor CSV into the campaign (the body: the file, or a multipart `file`)",
        tag="campaigns",
        query=ImportQuery,
        response=DebtorImportOut,
        errors=(404, 413, 422, 503),
    ),
    Endpoint(
        "POST",
        f"{API_PREFIX}/payments/import",
        post_payment_import,
        "Import a payments CSV (the body: the file, or a multipart `file`)",
        tag="payments",
        query=ImportQuery,
        response=PaymentImportOut,
        errors=(413, 422, 503),
    ),
)
