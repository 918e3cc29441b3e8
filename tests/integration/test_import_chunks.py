"""The chunked import reports a file exactly as the row-by-row rules say, on both backends.

PostgreSQL writes chunks by COPY and a set-based merge (ivr.store.import_copy),
SQLite by paced batches (ivr.store.import_batch); the chunks here are three
rows long so that a file of a dozen lines crosses several of them: a repeat
of an earlier chunk's external_ref, a bad row at a chunk's edge, a re-import
that moves, drops and adds phones and updates the debt in place.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ivr.store import import_batch, importer
from ivr.store.db import make_sessionmaker
from ivr.store.importer import ensure_campaign, import_debtors, read_rows
from ivr.store.models import Debt, Debtor, Phone

HEADER = "external_ref,name,phone,amount,due_date,creditor,locale,calls_allowed,pix_code\n"
BODY = (
    "K1,Ana Lima,+5511987650001,10.00,2026-12-01,Loja,pt-BR,,\n"  # 2
    "K2,Bia,+5511987650002;+5511987650003,20.00,2026-12-01,Loja,pt-BR,no,\n"  # 3
    "K3,Caio,12345,30.00,2026-12-01,Loja,pt-BR,,\n"  # 4: phone
    "K4,Davi,+5511987650004,quarenta,2026-12-01,Loja,pt-BR,,\n"  # 5: amount
    "K5,Eva,+5511987650005,50.00,2026-12-01,Loja,pt-BR,talvez,\n"  # 6: calls_allowed
    "K6,Fabi,+5511987650006,60.00,2026-12-01,Loja,pt-BR,,\n"  # 7
    "K1,Ana Again,+5511987650001,10.00,2026-12-01,Loja,pt-BR,,\n"  # 8: repeat of line 2
    "K7,=cmd(),+5511987650007,70.00,2026-12-01,Loja,pt-BR,,\n"  # 9: formula
    "K8,Gil,+5511987650008,80.00,2026-13-01,Loja,pt-BR,,\n"  # 10: due_date
    "K9,Hugo,+5511987650009,90.00,2026-12-01,Loja,pt-BR,,00020126\n"  # 11: pix_code
    "K10,Iara,+5511987650010,100.00,2026-12-01,Loja,pt-BR,sim,\n"  # 12
    'K11,"Joana,+5511987650011,110.00,2026-12-01,Loja,pt-BR,,\n'  # 13: open quote
    "K12,Lia,+5511987650012,120.00,2026-12-01,Outra,pt-BR,,\n"  # 14
)
EXPECTED_LINES = [4, 5, 6, 8, 9, 10, 11, 13]


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "CHUNK_ROWS", 3)
    monkeypatch.setattr(import_batch, "SQLITE_ROWS", (3, 3, 3))


def write(tmp_path: Path, body: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


async def test_report_and_rows_across_chunks(sessions, tmp_path: Path, small_chunks) -> None:
    # What the one validator says of each line, independent of how rows are stored.
    _, expected = read_rows(write(tmp_path, BODY, "a.csv"), "pt-BR")
    assert [e.line for e in expected] == EXPECTED_LINES

    report = await import_debtors(sessions, write(tmp_path, BODY, "a.csv"))
    assert (report.inserted, report.updated) == (5, 0)
    assert report.errors == expected
    assert "repeats line 2" in report.errors[3].reason

    async with sessions() as s:
        refs = set((await s.scalars(select(Debtor.external_ref))).all())
        assert refs == {"K1", "K2", "K6", "K10", "K12"}
        bia = await s.scalar(select(Debtor).where(Debtor.external_ref == "K2"))
        assert [p.e164 for p in bia.phones] == ["+5511987650002", "+5511987650003"]
        assert bia.calls_allowed is False and bia.sms_allowed is True
        assert (await s.scalar(select(Debtor.name).where(Debtor.external_ref == "K1"))) == (
            "Ana Lima"
        )

    # Again, with Bia's phones reordered, one dropped and one added, and an
    # empty calls_allowed (which leaves her "no" as it is).
    again = (
        "K2,Bia Souza,+5511987650099;+5511987650003,25.00,2026-12-05,Loja,pt-BR,,\n"
        "K13,Nina,+5511987650013,130.00,2026-12-01,Loja,pt-BR,,\n"
        "K12,Lia,+5511987650012,121.00,2026-12-01,Outra,pt-BR,,\n"
        "K6,Fabi,+5511987650006,61.00,2026-12-01,Nova,pt-BR,,\n"
    )
    second = await import_debtors(sessions, write(tmp_path, again, "b.csv"))
    assert (second.inserted, second.updated, second.errors) == (1, 3, [])
    async with sessions() as s:
        bia = await s.scalar(select(Debtor).where(Debtor.external_ref == "K2"))
        await s.refresh(bia, ["phones", "debts"])
        assert [p.e164 for p in bia.phones] == ["+5511987650099", "+5511987650003"]
        assert bia.name == "Bia Souza" and bia.calls_allowed is False
        assert [(d.creditor, d.amount_cents) for d in bia.debts] == [("Loja", 2500)]
        fabi = await s.scalar(select(Debtor).where(Debtor.external_ref == "K6"))
        await s.refresh(fabi, ["debts"])
        # Another creditor is another debt; the first one stays.
        assert sorted((d.creditor, d.amount_cents) for d in fabi.debts) == [
            ("Loja", 6000),
            ("Nova", 6100),
        ]
        assert await s.scalar(select(func.count(Debtor.id))) == 6
        assert await s.scalar(select(func.count(Debt.id))) == 7
        assert await s.scalar(select(func.count(Phone.id))) == 7


@pytest.mark.postgres
async def test_a_refused_row_in_a_copied_chunk_costs_only_that_row(
    pg_url: str, tmp_path: Path
) -> None:
    """The chunk is merged again by halves until the line at fault is found."""
    from ivr.store.db import make_engine
    from ivr.store.import_copy import CopyWriter
    from ivr.store.import_stage import copy_text

    rows, _ = read_rows(write(tmp_path, BODY, "c.csv"), "pt-BR")
    assert len(rows) == 5
    rows[2] = replace(rows[2], name="x" * 300)  # past what the column holds
    engine = make_engine(pg_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as s, s.begin():
            camp = await ensure_campaign(s, "default", "pt-BR")
        async with engine.connect() as conn:
            writer = CopyWriter(conn, camp.id, ("pix_code",))
            await writer.open()
            result, refused = await writer.write(*copy_text(rows))
            await writer.close()
        assert refused == []
        assert result.inserted == 4
        failed = [(line, ref, "too long" in why) for line, ref, why in result.failed]
        assert failed == [(rows[2].line, rows[2].external_ref, True)]
        async with sessions() as s:
            assert await s.scalar(select(func.count(Debtor.id))) == 4
            assert await s.scalar(select(func.count(Phone.id))) == 5
            assert await s.scalar(select(func.count(Debt.id))) == 4
    finally:
        await engine.dispose()
