"""The chunked import reports a file exactly as the row-by-row rules say, on both backends.

PostgreSQL writes chunks by COPY and a set-based merge (ivr.store.import_copy),
SQLite by paced batches (ivr.store.import_batch); the chunks here are three
rows long so that a file of a dozen lines crosses several of them: a repeat
of an earlier chunk's external_ref, a bad row at a chunk's edge, a re-import
that moves, drops and adds phones and updates the debt in place. The rows
are checked by a thread or, as a large file's are, by a process of their own
(ivr.store.import_stream); on PostgreSQL the rules across rows are applied
to what a query of the staged chunk finds, and must say what the in-memory
rules (read_rows) say.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ivr.number_facts import stored_facts
from ivr.store import fk_triggers, import_batch, import_stream, importer
from ivr.store.db import make_sessionmaker
from ivr.store.importer import ensure_campaign, import_debtors, read_rows
from ivr.store.models import Debt, Debtor, Phone
from ivr.store.name_key import fold_name

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


@pytest.fixture(params=["thread", "process"])
def small_chunks(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "CHUNK_ROWS", 3)
    monkeypatch.setattr(import_batch, "SQLITE_ROWS", (3, 3, 3))
    if request.param == "process":  # any file is "large"
        monkeypatch.setattr(import_stream, "PROCESS_BYTES", 0)


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
        await _written_like_the_orm(s)


async def _written_like_the_orm(s) -> None:  # type: ignore[no-untyped-def]
    """What the bulk writes leave is what the ORM's defaults and listeners write:
    the folded name, and each phone's stored facts."""
    for name, key in (await s.execute(select(Debtor.name, Debtor.name_key))).all():
        assert key == fold_name(name), name
    phones = (await s.execute(select(Phone.e164, Phone.number_country, Phone.number_zones))).all()
    assert phones
    for e164, country, zones in phones:
        assert (country, zones) == stored_facts(e164), e164


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


SPOKEN_HEADER = "external_ref,name,phone,amount,due_date,creditor,locale,creditor_spoken\n"
SPOKEN_BODY = (
    "S1,Ana,+5511987650101,10,2026-12-01,Banco Sol,pt-BR,do Banco Sol\n"  # 2
    "S2,Bia,+5511987650102,10,2026-12-01,Banco Sol,pt-BR,de Banco Sol\n"  # 3: form differs
    "S2,Bia,+5511987650102,10,2026-12-01,Banco Sol,pt-BR,do Banco Sol\n"  # 4: kept (3 was not)
    "S1,Ana,+5511987650101,10,2026-12-01,Banco Sol,pt-BR,\n"  # 5: repeats 2
    "S2,Bia,+5511987650102,10,2026-12-01,Banco Sol,pt-BR,\n"  # 6: repeats 4
    "S3,Caio,+5511987650103,10,2026-12-01,Banco Sol,pt-BR,de Banco Sol\n"  # 7: differs from 2
    "S3,Caio,+5511987650103,10,2026-12-01,Banco Sol,pt-BR,\n"  # 8: kept (7 was not)
    "S4,Davi,+5511987650104,10,2026-12-01,Banco Sol,en-US,Sun Bank\n"  # 9: phone of BR
    "S4,Davi,+12125550104,10,2026-12-01,Banco Sol,en-US,Sun Bank\n"  # 10: kept
    "S4,Davi,+12125550104,10,2026-12-01,Banco Sol,en-US,Sun Bank\n"  # 11: repeats 10
    "S5,Eva,+5511987650105,10,2026-12-01,Banco Sol,pt-BR,\n"  # 12
    "S5,Eva,+5511987650105,10,2026-12-01,Banco Sol,pt-BR,\n"  # 13: repeats 12, same chunk
)


async def test_repeats_and_spoken_forms_across_chunks(
    sessions, tmp_path: Path, small_chunks
) -> None:
    """A refused row keeps neither its reference nor its spoken form, wherever the
    chunks fall: the store's rules say what the in-memory ones say."""
    path = tmp_path / "s.csv"
    path.write_text(SPOKEN_HEADER + SPOKEN_BODY, encoding="utf-8")
    rows, expected = read_rows(path, "pt-BR")
    assert [r.line for r in rows] == [2, 4, 8, 10, 12]
    assert [(e.line, e.code, e.params.get("first_line")) for e in expected] == [
        (3, "spoken_form_conflict", "2"),
        (5, "duplicate_ref", "2"),
        (6, "duplicate_ref", "4"),
        (7, "spoken_form_conflict", "2"),
        (9, "phone_foreign", None),
        (11, "duplicate_ref", "10"),
        (13, "duplicate_ref", "12"),
    ]
    report = await import_debtors(sessions, path)
    assert report.errors == expected
    assert (report.inserted, report.updated) == (5, 0)


@pytest.mark.postgres
async def test_with_the_foreign_key_triggers_the_same(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A session that may not skip the triggers imports the same rows."""
    from ivr.store.db import make_engine

    monkeypatch.setattr(importer, "CHUNK_ROWS", 3)
    monkeypatch.setattr(fk_triggers, "SKIP", False)
    engine = make_engine(pg_url)
    sessions = make_sessionmaker(engine)
    try:
        report = await import_debtors(sessions, write(tmp_path, BODY, "t.csv"))
        assert [e.line for e in report.errors] == EXPECTED_LINES
        assert (report.inserted, report.updated) == (5, 0)
        again = await import_debtors(sessions, write(tmp_path, BODY, "t.csv"))
        assert (again.inserted, again.updated) == (0, 5)
        async with sessions() as s:
            assert await s.scalar(select(func.count(Phone.id))) == 6
            assert await s.scalar(select(func.count(Debt.id))) == 5
            await _written_like_the_orm(s)
    finally:
        await engine.dispose()


def _checking_processes() -> list[int]:
    """This process's children that are an import's checking process."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read()
        except (OSError, ValueError):
            continue
        if parent == os.getpid() and b"import_stream import serve" in command:
            found.append(int(pid))
    return found


async def test_an_import_that_fails_leaves_no_checking_process(
    sessions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writes fail after the first chunk: the error reaches the caller, the
    checking process is stopped, and the next import works."""
    monkeypatch.setattr(importer, "CHUNK_ROWS", 3)
    monkeypatch.setattr(import_batch, "SQLITE_ROWS", (3, 3, 3))
    monkeypatch.setattr(import_stream, "PROCESS_BYTES", 0)
    counted = importer._count

    def fail_second(report: importer.DebtorImportReport, result: object) -> None:
        if report.ok:
            raise RuntimeError("the store went away")
        counted(report, result)  # type: ignore[arg-type]

    monkeypatch.setattr(importer, "_count", fail_second)
    with pytest.raises(RuntimeError, match="went away"):
        await import_debtors(sessions, write(tmp_path, BODY, "f.csv"))
    assert _checking_processes() == []
    monkeypatch.setattr(importer, "_count", counted)
    report = await import_debtors(sessions, write(tmp_path, BODY, "f.csv"))
    assert [e.line for e in report.errors] == EXPECTED_LINES
    assert report.ok == 5


async def test_bulk_rows_are_stored_as_core_stores_them(sessions) -> None:
    """The batch path's executemany writes each value as Core's insert would
    (bind processors: UTC instants, dates, enums, booleans), on both backends."""
    from sqlalchemy import insert, text

    from ivr.store.import_batch import DEBTORS, _insert_many
    from ivr.store.models import DebtorStatus, utcnow
    from ivr.vocab.messages import Channel

    now = utcnow()
    row = {
        "name": "Zé Núñez",
        "name_key": fold_name("Zé Núñez"),
        "locale": "pt-BR",
        "country": "BR",
        "region": "SP",
        "timezone": "America/Sao_Paulo",
        "birth_year": 1980,
        "document_digits": "s256$ab$cd",
        "calls_allowed": False,
        "sms_allowed": True,
        "preferred_channel": Channel.SMS,
        "status": DebtorStatus.ACTIVE,
        "created_at": now,
        "updated_at": now,
    }
    async with sessions() as s, s.begin():
        await s.execute(insert(DEBTORS), [{**row, "external_ref": "CORE"}])
        await _insert_many(s, DEBTORS, [{**row, "external_ref": "BULK"}])
    async with sessions() as s:
        found = (
            await s.execute(text("SELECT * FROM debtors WHERE external_ref IN ('CORE', 'BULK')"))
        ).mappings()
        stored = {r["external_ref"]: dict(r) for r in found}
    core, bulk = stored["CORE"], stored["BULK"]
    for column in ("id", "external_ref"):
        core.pop(column), bulk.pop(column)
    assert bulk == core
