"""The document number as a verification factor: only a salted hash of its last
digits is kept, from the import on; the whole number is stored nowhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from ivr.document_digits import DocumentInvalid, document_tail, hash_document, tail_matches
from ivr.store.importer import import_debtors
from ivr.store.models import Debtor

HEADER = "external_ref,name,phone,amount,due_date,creditor,locale,birth_year,document\n"
CPF = "123.456.789-09"


@pytest.mark.parametrize(
    ("raw", "tail"), [(CPF, "8909"), ("12345678909", "8909"), ("123-45-6789", "6789")]
)
def test_the_tail_is_the_last_four_digits_however_written(raw: str, tail: str) -> None:
    assert document_tail(raw) == tail


def test_a_stored_hash_matches_only_the_right_digits_and_is_salted() -> None:
    stored, again = hash_document(CPF), hash_document(CPF)
    assert stored != again  # a fresh salt each time: equal numbers do not look equal
    assert "8909" not in stored and "12345678909" not in stored
    assert tail_matches("8909", stored) and tail_matches("8909", again)
    for wrong in ("8908", "0989", "909", "89090", "", "89#9"):
        assert not tail_matches(wrong, stored)
    assert not tail_matches("8909", None)


def test_too_few_digits_are_refused_without_echoing_them() -> None:
    with pytest.raises(DocumentInvalid) as err:
        document_tail("12-3")
    assert "123" not in str(err.value)


async def test_import_keeps_a_hash_of_the_last_digits_never_the_number(
    sessions, tmp_path: Path
) -> None:
    path = tmp_path / "d.csv"
    path.write_text(
        HEADER
        + f'A1,Maria Souza,+5511987654321,100.00,2026-12-01,Loja,pt-BR,1980,"{CPF}"\n'
        + "A2,Ana Lima,+5531991234567,100.00,2026-12-01,Loja,pt-BR,,\n"
        + "A3,Bia Reis,+5531991234568,100.00,2026-12-01,Loja,pt-BR,,98-1\n",
        encoding="utf-8",
    )
    report = await import_debtors(sessions, path)
    assert report.inserted == 2
    assert [(e.line, e.external_ref) for e in report.errors] == [(4, "A3")]
    assert "document" in report.errors[0].reason and "98" not in report.errors[0].reason
    async with sessions() as s:
        rows = {d.external_ref: d for d in (await s.scalars(select(Debtor))).all()}
    maria = rows["A1"]
    assert maria.birth_year == 1980
    assert tail_matches("8909", maria.document_digits)
    assert maria.document_digits is not None and "12345678909" not in maria.document_digits
    assert rows["A2"].document_digits is None
