"""Creditor endpoints: how calls say each creditor's name, per locale.

A creditor is addressed by its name exactly as debts carry it (URL-encoded:
``/api/v1/creditors/Banco%20Horizonte%20S%2FA``). PUT sets the spoken forms
(pt-BR with "de" and the article, "do Banco Horizonte"; en-US as said); a
locale left out is said in the safe derived form, which every answer shows
beside the forms set (``said``), so a supervisor hears nothing unexpected.

``PUT .../pix`` sets the creditor's Pix key, with the receiver's name and city
the payer's bank shows: with it, a promise's payment details can be a static
Pix code for the exact amount. ``DELETE .../pix`` removes it.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import Field, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.dialog.creditor_names import check_spoken_form, creditor_with_article
from ivr.keys import SESSIONS
from ivr.messaging.pix import MAX_CITY, MAX_NAME, PixInvalid, clean_text, normalise_pix_key
from ivr.store import creditors as creditor_store
from ivr.store.audit import record_audit
from ivr.store.import_rows import RowInvalid, plain_text
from ivr.vocab.audit import AuditAction, AuditEntity
from ivr.vocab.locales import LOCALES, Locale
from ivr.web.api_common import (
    API_PREFIX,
    Endpoint,
    FieldError,
    read_body,
    read_query,
    reply,
    unprocessable,
)
from ivr.web.api_schemas import Input, Output
from ivr.web.auth import current_user, json_error

SPOKEN_DOC = (
    'locale -> the name as calls say it after "em nome" / "on behalf of": pt-BR begins '
    'with de, da, do, das or dos ("do Banco Horizonte"), en-US as said ("Bright Star '
    'Stores"); a locale left out is said in the derived form (pt-BR "de <name>")'
)


class CreditorSpokenIn(Input):
    """Replaces every spoken form of the creditor."""

    spoken: dict[Locale, str] = Field(description=SPOKEN_DOC, max_length=len(LOCALES))


def _plain(value: str, limit: int) -> str:
    """The text in the BR Code's characters; refused when empty or too long (never cut)."""
    plain = clean_text(value, 10 * limit)
    if not plain:
        raise ValueError("has no letters or digits a Pix code can carry")
    if len(plain) > limit:
        raise ValueError(f"is longer than {limit} characters once accents are removed")
    return plain


class CreditorPixIn(Input):
    """The creditor's Pix key and the receiver's name and city its payers' banks show."""

    key: str = Field(
        min_length=1,
        max_length=100,
        description="e-mail, +55 phone, CPF (11 digits), CNPJ (14 digits) or random key (UUID)",
    )
    merchant_name: str = Field(
        min_length=1, max_length=100, description=f"up to {MAX_NAME} characters, without accents"
    )
    city: str = Field(
        min_length=1, max_length=100, description=f"up to {MAX_CITY} characters, without accents"
    )

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        try:
            return normalise_pix_key(value)[1]
        except PixInvalid as exc:
            raise ValueError(str(exc)) from None

    @field_validator("merchant_name")
    @classmethod
    def _merchant(cls, value: str) -> str:
        return _plain(value, MAX_NAME)

    @field_validator("city")
    @classmethod
    def _city(cls, value: str) -> str:
        return _plain(value, MAX_CITY)


class CreditorPixOut(Output):
    key: str
    merchant_name: str
    city: str


class CreditorOut(Output):
    name: str
    spoken: dict[str, str] = Field(description="the forms set, by locale")
    said: dict[str, str] = Field(
        description="what calls say, by locale: the form set, else the derived one"
    )
    debts: int = Field(description="debts owed to this creditor")
    pix: CreditorPixOut | None = Field(
        default=None, description="the Pix key static codes pay to; null: none set"
    )


class CreditorList(Output):
    items: list[CreditorOut]


class CreditorQuery(Input):
    limit: int = Field(default=500, ge=1, le=5000, description="at most this many, by name")


def _out(names: creditor_store.CreditorNames) -> CreditorOut:
    said = {
        loc: creditor_with_article(names.name, names.spoken.get(loc, ""), loc) for loc in LOCALES
    }
    pix = None
    if names.pix is not None:
        pix = CreditorPixOut(
            key=names.pix.key, merchant_name=names.pix.merchant_name, city=names.pix.city
        )
    return CreditorOut(name=names.name, spoken=names.spoken, said=said, debts=names.debts, pix=pix)


def _name(request: web.Request) -> str:
    try:
        return plain_text("creditor", request.match_info.get("name", "").strip())
    except RowInvalid as exc:
        raise unprocessable([FieldError("name", str(exc))]) from None


async def list_creditors(request: web.Request) -> web.Response:
    """Creditors with debts or spoken forms, by name, and what calls say for each."""
    query = read_query(request, CreditorQuery)
    async with request.app[SESSIONS]() as s:
        rows = await creditor_store.list_creditors(s, query.limit)
    return reply(CreditorList(items=[_out(r) for r in rows]))


async def get_creditor(request: web.Request) -> web.Response:
    """One creditor's spoken forms and what calls say (404: no debt and no form names it)."""
    name = _name(request)
    async with request.app[SESSIONS]() as s:
        names = await creditor_store.creditor_names(s, name)
    if not names.spoken and not names.debts and names.pix is None:
        raise json_error(404, f"no debt, spoken form or Pix key for creditor {name!r}")
    return reply(_out(names))


async def put_creditor(request: web.Request) -> web.Response:
    """Set how calls say the creditor's name, per locale (before or after its debts arrive)."""
    name = _name(request)
    body = await read_body(request, CreditorSpokenIn)
    forms: dict[str, str] = {}
    errors: list[FieldError] = []
    for locale, text in body.spoken.items():
        try:
            forms[str(locale)] = check_spoken_form(
                plain_text("creditor_spoken", text.strip()), locale
            )
        except ValueError as exc:
            errors.append(FieldError(f"spoken.{locale}", str(exc)))
    if errors:
        raise unprocessable(errors)
    async with request.app[SESSIONS]() as s, s.begin():
        old = (await creditor_store.creditor_names(s, name)).spoken
        await creditor_store.replace_spoken_forms(s, name, forms)
        await record_audit(
            s,
            current_user(request),
            AuditEntity.SPOKEN_FORM,
            name,
            AuditAction.REPLACE,
            {f"spoken.{k}": v for k, v in old.items()},
            {f"spoken.{k}": v for k, v in forms.items()},
        )
    async with request.app[SESSIONS]() as s:
        return reply(_out(await creditor_store.creditor_names(s, name)))


async def _audit_pix(
    s: AsyncSession, request: web.Request, name: str, pix: creditor_store.CreditorPix | None
) -> None:
    """The Pix key's change, logged in the transaction that makes it."""
    old = await creditor_store.creditor_pix(s, name)
    action = AuditAction.DELETE if pix is None else AuditAction.UPDATE
    before, after = {"pix": old}, {"pix": pix}
    await record_audit(s, current_user(request), AuditEntity.CREDITOR, name, action, before, after)


async def put_creditor_pix(request: web.Request) -> web.Response:
    """Set the creditor's Pix key (before or after its debts arrive)."""
    name = _name(request)
    body = await read_body(request, CreditorPixIn)
    pix = creditor_store.CreditorPix(body.key, body.merchant_name, body.city)
    async with request.app[SESSIONS]() as s, s.begin():
        await _audit_pix(s, request, name, pix)
        await creditor_store.set_creditor_pix(s, name, pix)
    async with request.app[SESSIONS]() as s:
        return reply(_out(await creditor_store.creditor_names(s, name)))


async def delete_creditor_pix(request: web.Request) -> web.Response:
    """Remove the creditor's Pix key: payment details fall back to boleto or link."""
    name = _name(request)
    async with request.app[SESSIONS]() as s, s.begin():
        await _audit_pix(s, request, name, None)
        await creditor_store.set_creditor_pix(s, name, None)
    async with request.app[SESSIONS]() as s:
        return reply(_out(await creditor_store.creditor_names(s, name)))


_C = f"{API_PREFIX}/creditors"
_ONE = f"{_C}/{{name}}"

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "GET",
        _C,
        list_creditors,
        "List creditors and how calls say them",
        tag="creditors",
        query=CreditorQuery,
        response=CreditorList,
        errors=(422,),
    ),
    Endpoint(
        "GET",
        _ONE,
        get_creditor,
        "Get a creditor's spoken forms",
        tag="creditors",
        response=CreditorOut,
        errors=(404, 422),
    ),
    Endpoint(
        "PUT",
        _ONE,
        put_creditor,
        "Set a creditor's spoken forms",
        tag="creditors",
        body=CreditorSpokenIn,
        response=CreditorOut,
        errors=(422,),
    ),
    Endpoint(
        "PUT",
        f"{_ONE}/pix",
        put_creditor_pix,
        "Set a creditor's Pix key",
        tag="creditors",
        body=CreditorPixIn,
        response=CreditorOut,
        errors=(422,),
    ),
    Endpoint(
        "DELETE",
        f"{_ONE}/pix",
        delete_creditor_pix,
        "Remove a creditor's Pix key",
        tag="creditors",
        response=CreditorOut,
        errors=(422,),
    ),
)
