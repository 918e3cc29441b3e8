"""Creditors' spoken names: read for a call, set by the API, merged in by imports.

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

from ivr.store.models import CreditorSpokenForm, Debt, utcnow
from ivr.vocab.locales import Locale

FORMS = cast(Table, CreditorSpokenForm.__table__)


@dataclass(frozen=True)
class CreditorNames:
    """A creditor, the spoken forms set for it (locale -> text) and its debts."""

    name: str
    spoken: dict[str, str]
    debts: int


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
    return CreditorNames(creditor, {str(loc): text for loc, text in rows.all()}, debts or 0)


async def list_creditors(session: AsyncSession, limit: int) -> list[CreditorNames]:
    """Creditors that have debts or spoken forms, by name, with both."""
    counted = await session.execute(
        select(Debt.creditor, func.count(Debt.id)).group_by(Debt.creditor)
    )
    counts: dict[str, int] = {creditor: n for creditor, n in counted.all()}
    forms: dict[str, dict[str, str]] = {}
    for creditor, locale, text in await session.execute(
        select(CreditorSpokenForm.creditor, CreditorSpokenForm.locale, CreditorSpokenForm.spoken)
    ):
        forms.setdefault(creditor, {})[str(locale)] = text
    names = sorted(set(counts) | set(forms))[:limit]
    return [CreditorNames(n, forms.get(n, {}), counts.get(n, 0)) for n in names]


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
