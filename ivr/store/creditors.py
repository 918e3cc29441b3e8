"""Creditors' spoken names and Pix keys: read for a call or a message, set by the API.

The forms are checked before they get here (ivr.dialog.creditor_names); these
functions only store and read them. Names are the creditor exactly as debts
carry it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import Creditor, CreditorSpokenForm, Debt, utcnow
from ivr.vocab.locales import Locale

FORMS = cast(Table, CreditorSpokenForm.__table__)


@dataclass(frozen=True)
class CreditorPix:
    """Where a static Pix code for this creditor pays: key, receiver's name and city.

    Checked before they get here (ivr.messaging.pix): the key canonical, the
    name and city already in the BR Code's plain characters.
    """

    key: str
    merchant_name: str
    city: str


@dataclass(frozen=True)
class CreditorNames:
    """A creditor, the spoken forms set for it (locale -> text), its debts and Pix key."""

    name: str
    spoken: dict[str, str]
    debts: int
    pix: CreditorPix | None = None


async def creditor_pix(session: AsyncSession, creditor: str) -> CreditorPix | None:
    """The Pix key set for ``creditor``; None when it has none."""
    row = await session.get(Creditor, creditor)
    if row is None or not (row.pix_key and row.pix_merchant_name and row.pix_city):
        return None
    return CreditorPix(row.pix_key, row.pix_merchant_name, row.pix_city)


async def set_creditor_pix(session: AsyncSession, creditor: str, pix: CreditorPix | None) -> None:
    """Set (or, with None, remove) the creditor's Pix key."""
    row = await session.get(Creditor, creditor)
    if row is None:
        row = Creditor(name=creditor)
        session.add(row)
    row.pix_key = pix.key if pix else None
    row.pix_merchant_name = pix.merchant_name if pix else None
    row.pix_city = pix.city if pix else None
    row.updated_at = utcnow()
    await session.flush()


async def spoken_form(session: AsyncSession, creditor: str, locale: str) -> str | None:
    """The form set for ``creditor`` in ``locale``; None when there is none."""
    return await session.scalar(
        select(CreditorSpokenForm.spoken).where(
            CreditorSpokenForm.creditor == creditor, CreditorSpokenForm.locale == locale
        )
    )


async def creditor_names(session: AsyncSession, creditor: str) -> CreditorNames:
    rows = await session.execute(
        select(CreditorSpokenForm.locale, CreditorSpokenForm.spoken).where(
            CreditorSpokenForm.creditor == creditor
        )
    )
    debts = await session.scalar(select(func.count(Debt.id)).where(Debt.creditor == creditor))
    spoken = {str(loc): text for loc, text in rows.all()}
    return CreditorNames(creditor, spoken, debts or 0, await creditor_pix(session, creditor))


async def list_creditors(session: AsyncSession, limit: int) -> list[CreditorNames]:
    """Creditors that have debts, spoken forms or a Pix key, by name, with all three."""
    counted = await session.execute(
        select(Debt.creditor, func.count(Debt.id)).group_by(Debt.creditor)
    )
    counts: dict[str, int] = {creditor: n for creditor, n in counted.all()}
    forms: dict[str, dict[str, str]] = {}
    for creditor, locale, text in await session.execute(
        select(CreditorSpokenForm.creditor, CreditorSpokenForm.locale, CreditorSpokenForm.spoken)
    ):
        forms.setdefault(creditor, {})[str(locale)] = text
    keys: dict[str, CreditorPix] = {
        c.name: CreditorPix(c.pix_key, c.pix_merchant_name, c.pix_city)
        for c in await session.scalars(select(Creditor).where(Creditor.pix_key.is_not(None)))
        if c.pix_key and c.pix_merchant_name and c.pix_city
    }
    names = sorted(set(counts) | set(forms) | set(keys))[:limit]
    return [CreditorNames(n, forms.get(n, {}), counts.get(n, 0), keys.get(n)) for n in names]


async def replace_spoken_forms(
    session: AsyncSession, creditor: str, forms: Mapping[str, str]
) -> None:
    """Set exactly ``forms`` (locale -> text) for ``creditor``; locales left out lose theirs."""
    await session.execute(delete(FORMS).where(FORMS.c.creditor == creditor))
    now = utcnow()
    for locale, text in forms.items():
        session.add(
            CreditorSpokenForm(
                creditor=creditor, locale=Locale(locale), spoken=text, updated_at=now
            )
        )
    await session.flush()


async def merge_spoken_forms(session: AsyncSession, forms: Mapping[tuple[str, str], str]) -> None:
    """Insert or update (creditor, locale) -> text; other forms stay as they are."""
    if not forms:
        return
    now = utcnow()
    rows = [
        {"creditor": creditor, "locale": locale, "spoken": text, "updated_at": now}
        for (creditor, locale), text in forms.items()
    ]
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    ins = pg_insert(FORMS) if dialect == "postgresql" else sqlite_insert(FORMS)
    stmt = ins.on_conflict_do_update(
        index_elements=["creditor", "locale"],
        set_={"spoken": ins.excluded.spoken, "updated_at": ins.excluded.updated_at},
    )
    await session.execute(stmt, rows)
