"""Creditors' spoken forms in the store: from the portfolio file, into the call.

The import column ``creditor_spoken`` holds the form in the row's locale; it
is checked like every other column, merged per (creditor, locale), and the
call context of a debtor of that creditor carries it.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.calls.context import load_call_setup
from ivr.calls.dialer import claim_manual_attempt
from ivr.dialog.prompt_values import base_variables
from ivr.store.creditors import creditor_names, replace_spoken_forms, spoken_form
from ivr.store.importer import import_debtors
from ivr.store.models import utcnow
from scheduler.manual import next_legal_instant

HEADER = "external_ref,name,phone,amount,due_date,creditor,locale,creditor_spoken\n"


def _write(tmp_path: Path, body: str, name: str = "p.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


async def test_the_import_column_sets_the_spoken_form_per_locale(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    body = (
        "C1,Maria Souza,+5511987654321,10,2026-12-01,Banco Horizonte,pt-BR,do Banco Horizonte\n"
        "C2,João Lima,+5511987654322,10,2026-12-01,Banco Horizonte,pt-BR,\n"
        "C3,Emily Stone,+12125550148,10,2026-12-01,Banco Horizonte,en-US,Horizon Bank\n"
        "C4,Ana Reis,+5511987654323,10,2026-12-01,Loja Estrela,pt-BR,Loja Estrela\n"
        "C5,Bia Reis,+5511987654324,10,2026-12-01,Banco Horizonte,pt-BR,de Banco Horizonte\n"
        "C6,Caio Reis,+5511987654325,10,2026-12-01,Loja Estrela,pt-BR,da Loja Estrela\n"
        "C7,Davi Reis,+5511987654326,10,2026-12-01,Acme,en-US,=HYPERLINK(1)\n"
        f"C8,Eva Reis,+5511987654327,10,2026-12-01,Acme,en-US,{'x' * 201}\n"
    )
    report = await import_debtors(sessions, _write(tmp_path, body))
    by_line = {e.line: e.reason for e in report.errors}
    assert set(by_line) == {5, 6, 8, 9}, by_line
    assert "creditor_spoken 'Loja Estrela' must begin with de, da, do" in by_line[5]
    assert "differs from line 2 ('do Banco Horizonte')" in by_line[6]
    assert "creditor_spoken begins with '='" in by_line[8]
    assert "creditor_spoken is longer than 200" in by_line[9]
    assert report.inserted == 4
    async with sessions() as s:
        horizonte = await creditor_names(s, "Banco Horizonte")
        assert horizonte.spoken == {"pt-BR": "do Banco Horizonte", "en-US": "Horizon Bank"}
        assert horizonte.debts == 3
        assert await spoken_form(s, "Loja Estrela", "pt-BR") == "da Loja Estrela"

    # A later file changes a form; a row without one leaves it as it is.
    later = (
        "C1,Maria Souza,+5511987654321,10,2026-12-01,Banco Horizonte,pt-BR,"
        "do Banco Horizonte S.A.\n"
        "C6,Caio Reis,+5511987654325,10,2026-12-01,Loja Estrela,pt-BR,\n"
    )
    report = await import_debtors(sessions, _write(tmp_path, later, "later.csv"))
    assert report.errors == [] and report.updated == 2
    async with sessions() as s:
        assert await spoken_form(s, "Banco Horizonte", "pt-BR") == "do Banco Horizonte S.A."
        assert await spoken_form(s, "Banco Horizonte", "en-US") == "Horizon Bank"
        assert await spoken_form(s, "Loja Estrela", "pt-BR") == "da Loja Estrela"


async def test_the_call_says_the_form_set_for_its_creditor_and_locale(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    body = "C1,Maria Souza,+5511987654321,10,2026-12-01,Banco Horizonte S.A.,pt-BR,\n"
    assert (await import_debtors(sessions, _write(tmp_path, body))).errors == []
    at = await next_legal_instant(sessions, "C1", utcnow())
    assert at is not None
    attempt_id, _ = await claim_manual_attempt(sessions, "C1", now=at)

    async with sessions() as s:
        setup = await load_call_setup(s, attempt_id)
    assert setup is not None and setup.context.creditor_spoken == ""
    assert base_variables(setup.context)["creditor_with_article"] == "de Banco Horizonte"

    async with sessions() as s, s.begin():
        await replace_spoken_forms(
            s, "Banco Horizonte S.A.", {"pt-BR": "do Banco Horizonte", "en-US": "Horizon Bank"}
        )
    async with sessions() as s:
        setup = await load_call_setup(s, attempt_id)
    assert setup is not None
    assert base_variables(setup.context)["creditor_with_article"] == "do Banco Horizonte"
