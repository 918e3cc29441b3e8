"""Portfolio import: bad rows rejected with line and reason, good rows land, upserts."""

import datetime as dt
import random
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ivr.store.amounts import MAX_CENTS, _cents, parse_amount
from ivr.store.importer import ImportRefused, import_debtors, read_rows
from ivr.store.models import Campaign, Debt, Debtor, Phone

HEADER = "external_ref,name,phone,amount,due_date,creditor,locale,region,timezone,birth_year\n"


def write(tmp_path: Path, body: str, name: str = "p.csv") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("raw", "cents"),
    [
        ("1234.56", 123456),
        ("1.234,56", 123456),
        ("R$ 1.234,56", 123456),
        ("$1,234.56", 123456),
        ("150", 15000),
        ("1.500", 150000),
        ("0,5", 50),
        ("10,00", 1000),
    ],
)
def test_parse_amount(raw: str, cents: int) -> None:
    assert parse_amount(raw) == cents


@pytest.mark.parametrize("raw", ["", "abc", "-5", "0", "12a"])
def test_parse_amount_rejects(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_amount(raw)


def test_plain_amounts_read_as_the_general_rules_read_them() -> None:
    """The short cut for "150" / "10.5" / "10,50" gives the general rules' cents
    (or refusal), for any digits and separators."""
    rng = random.Random(3)
    for _ in range(50_000):
        raw = "".join(rng.choice("0123456789.,") for _ in range(rng.randint(1, 9)))
        try:
            fast: object = parse_amount(raw)
        except ValueError as exc:
            fast = str(exc)
        try:
            cents = _cents(raw)
            general: object = cents if 0 < cents <= MAX_CENTS else parse_amount(raw)
        except ValueError as exc:
            general = str(exc)
        assert fast == general, raw


async def test_bad_rows_reported_good_rows_land(sessions, tmp_path: Path) -> None:
    body = HEADER + (
        "A1,Maria Souza,+5511987654321,100.00,2026-12-01,Loja,pt-BR,SP,,1980\n"
        "A2,João,12345,100.00,2026-12-01,Loja,pt-BR,,,\n"
        "A3,Ana,+5531991234567,dez reais,2026-12-01,Loja,pt-BR,,,\n"
        "A4,Bia,+5531991234568,10,2026-02-30,Loja,pt-BR,,,\n"
        "A5,Caio,+5531991234569,10,2026-12-01,Loja,fr-FR,,,\n"
        "A6,Davi,+5531991234560,10,2026-12-01,Loja,pt-BR,XX,,\n"
        "A7,Eva,+5531991234561,10,2026-12-01,Loja,pt-BR,,Mars/Olympus,\n"
        'A8,Emily Johnson,(212) 555-0148,"$1,250.00",10/15/2026,Acme,en-US,NY,,\n'
        "A1,Maria Again,+5511987654321,100.00,2026-12-01,Loja,pt-BR,SP,,1980\n"
    )
    report = await import_debtors(sessions, write(tmp_path, body))
    assert report.inserted == 2
    by_line = {e.line: e.reason for e in report.errors}
    assert set(by_line) == {3, 4, 5, 6, 7, 8, 10}
    assert "phone" in by_line[3]
    assert "amount" in by_line[4]
    assert "due_date" in by_line[5]
    assert "locale" in by_line[6]
    assert "region" in by_line[7]
    assert "timezone" in by_line[8]
    assert "repeats line 2" in by_line[10]
    async with sessions() as s:
        refs = set((await s.scalars(select(Debtor.external_ref))).all())
        assert refs == {"A1", "A8"}
        emily = await s.scalar(select(Debtor).where(Debtor.external_ref == "A8"))
        assert emily.phones[0].e164 == "+12125550148"
        assert emily.country == "US"
        debt = emily.debts[0]
        assert (debt.amount_cents, debt.currency, debt.due_date) == (
            125000,
            "USD",
            dt.date(2026, 10, 15),
        )


async def test_reimport_updates_never_duplicates(sessions, tmp_path: Path) -> None:
    first = HEADER + "B1,Maria Souza,+5511987654321,100.00,2026-12-01,Loja,pt-BR,SP,,\n"
    second = (
        HEADER
        + "B1,Maria S. Souza,+5511987654321;+5511912345678,150.00,2026-12-10,Loja,pt-BR,SP,,\n"
    )
    r1 = await import_debtors(sessions, write(tmp_path, first, "a.csv"))
    r2 = await import_debtors(sessions, write(tmp_path, second, "b.csv"))
    assert (r1.inserted, r1.updated, r2.inserted, r2.updated) == (1, 0, 0, 1)
    async with sessions() as s:
        assert await s.scalar(select(func.count(Debtor.id))) == 1
        assert await s.scalar(select(func.count(Debt.id))) == 1
        assert await s.scalar(select(func.count(Phone.id))) == 2
        d = await s.scalar(select(Debtor))
        assert d.name == "Maria S. Souza"
        assert d.debts[0].amount_cents == 15000
        camp = await s.scalar(select(Campaign))
        assert camp.name == "default" and len(camp.windows) == 6


def test_not_csv_refused_whole(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    with pytest.raises(ImportRefused, match="not a CSV"):
        read_rows(path, "pt-BR")


def test_missing_column_refused_whole(tmp_path: Path) -> None:
    path = write(tmp_path, "external_ref,name,phone,amount\nA,B,+5511987654321,1\n")
    with pytest.raises(ImportRefused, match="due_date, creditor"):
        read_rows(path, "pt-BR")


def test_semicolon_csv_from_spreadsheet(tmp_path: Path) -> None:
    body = (
        "external_ref;name;phone;amount;due_date;creditor\n"
        "C1;Ana;(11) 98765-4321;1.234,56;28/11/2026;Loja\n"
    )
    rows, errors = read_rows(write(tmp_path, body), "pt-BR")
    assert errors == []
    assert rows[0].amount_cents == 123456
    assert rows[0].due_date == dt.date(2026, 11, 28)
    assert rows[0].phones == ("+5511987654321",)


# ---------------------------------------------------------------- issue 8: nothing lost silently

BR_ROW = "{ref},{name},{phone},100.00,2026-12-01,Loja,pt-BR,,,\n"


def br_rows(*refs: str) -> str:
    return "".join(
        BR_ROW.format(ref=r, name=f"Pessoa {r}", phone=f"+55119876543{i:02d}")
        for i, r in enumerate(refs)
    )


async def count_debtors(sessions) -> int:
    async with sessions() as s:
        return int(await s.scalar(select(func.count(Debtor.id))) or 0)


async def test_latin1_byte_refuses_file_naming_line_unless_encoding_given(
    sessions, tmp_path: Path
) -> None:
    path = tmp_path / "latin1.csv"
    body = HEADER + br_rows("L1") + "L2,João Silva,+5511987654399,10,2026-12-01,Loja,pt-BR,,,\n"
    path.write_bytes(body.encode("latin-1"))
    with pytest.raises(ImportRefused, match=r"line 3\b.*--encoding"):
        await import_debtors(sessions, path)
    assert await count_debtors(sessions) == 0
    report = await import_debtors(sessions, path, encoding="latin-1")
    assert (report.inserted, report.errors) == (2, [])
    async with sessions() as s:
        assert await s.scalar(select(Debtor.name).where(Debtor.external_ref == "L2")) == (
            "João Silva"
        )


async def test_utf8_bom_accepted(sessions, tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + br_rows("U1")).encode())
    report = await import_debtors(sessions, path)
    assert (report.inserted, report.errors) == (1, [])


async def test_unterminated_quote_reported_and_next_rows_land(sessions, tmp_path: Path) -> None:
    body = (
        HEADER
        + br_rows("Q1")
        + 'Q2,"Maria Souza,+5511987654310,100.00,2026-12-01,Loja,pt-BR,,,\n'
        + br_rows("Q3", "Q4")
        + 'Q5,"Ana, Lima",+5511987654311,100.00,2026-12-01,Loja,pt-BR,,,\n'
    )
    report = await import_debtors(sessions, write(tmp_path, body))
    assert [(e.line, "unterminated quote" in e.reason) for e in report.errors] == [(3, True)]
    async with sessions() as s:
        refs = set((await s.scalars(select(Debtor.external_ref))).all())
        assert refs == {"Q1", "Q3", "Q4", "Q5"}
        assert await s.scalar(select(Debtor.name).where(Debtor.external_ref == "Q5")) == (
            "Ana, Lima"
        )


async def test_oversize_field_reported_and_other_rows_land(sessions, tmp_path: Path) -> None:
    huge = "x" * (200 * 1024)
    body = (
        HEADER
        + br_rows("O1")
        + f'O2,"{huge}",+5511987654310,100.00,2026-12-01,Loja,pt-BR,,,\n'
        + br_rows("O3")
    )
    report = await import_debtors(sessions, write(tmp_path, body))
    assert [e.line for e in report.errors] == [3]
    assert "longer than" in report.errors[0].reason
    assert report.inserted == 2


async def test_reimport_replaces_phone_list_in_file_order(sessions, tmp_path: Path) -> None:
    from scheduler.explain import explain

    old, new, other = "+5511987654321", "+5511912345678", "+5521998765432"
    first = HEADER + f"R1,Maria,{old},100.00,2026-12-01,Loja,pt-BR,SP,,\n"
    second = HEADER + f"R1,Maria,{new};{old},100.00,2026-12-01,Loja,pt-BR,SP,,\n"
    third = HEADER + f"R1,Maria,{other},100.00,2026-12-01,Loja,pt-BR,SP,,\n"
    await import_debtors(sessions, write(tmp_path, first, "1.csv"))
    await import_debtors(sessions, write(tmp_path, second, "2.csv"))
    async with sessions() as s:
        debtor = await s.scalar(select(Debtor))
        assert [p.e164 for p in debtor.phones] == [new, old]
        verdict = await explain(s, debtor.id, dt.datetime(2026, 11, 24, 15, tzinfo=dt.UTC))
        assert verdict.to_number == new
    await import_debtors(sessions, write(tmp_path, third, "3.csv"))
    async with sessions() as s:
        phones = (await s.scalars(select(Phone.e164).order_by(Phone.position))).all()
        assert phones == [other]


@pytest.mark.parametrize(
    ("phone", "why"),
    [
        ("0900 123 4567", "premium-rate"),
        ("0800 123 4567", "toll-free"),
        ("0300 123 4567", "shared-cost"),
        ("+447911123456", "outside"),
        ("+12125550148", "outside"),
        ("+5511987654321;+19005551234", "outside"),
    ],
)
async def test_premium_and_foreign_numbers_refused_per_row(
    sessions, tmp_path: Path, phone: str, why: str
) -> None:
    body = HEADER + br_rows("P0") + f"P1,Maria,{phone},100.00,2026-12-01,Loja,,,,\n"
    report = await import_debtors(sessions, write(tmp_path, body))
    assert report.inserted == 1
    assert [e.line for e in report.errors] == [3]
    assert why in report.errors[0].reason


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://x.example/?a=1","clique")', "+SUM(A1)", "-2+3", "@cmd", "Ma\tria"]
)
async def test_formula_names_refused(sessions, tmp_path: Path, name: str) -> None:
    quoted = '"' + name.replace('"', '""') + '"'
    body = HEADER + br_rows("F0") + f"F1,{quoted},+5511987654399,100.00,2026-12-01,Loja,,,,\n"
    report = await import_debtors(sessions, write(tmp_path, body))
    assert report.inserted == 1
    assert [e.line for e in report.errors] == [3]
    assert "formula" in report.errors[0].reason or "control" in report.errors[0].reason


def test_written_cells_that_start_a_formula_are_neutralised() -> None:
    import csv
    import io

    from ivr.store.csvfile import write_csv

    out = io.StringIO()
    write_csv(out, ["a", "b"], [["=1+1", "+55 11"], ["-3", "@x"], ["\tx", "ok"], [5, None]])
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [["a", "b"], ["'=1+1", "'+55 11"], ["'-3", "'@x"], ["'\tx", "ok"], ["5", ""]]


async def test_a_row_the_database_refuses_costs_only_that_row(pg_url: str, tmp_path: Path) -> None:
    """A batch the database refuses is retried row by row: one lost row, reported."""
    from dataclasses import replace

    from ivr.store.db import make_engine, make_sessionmaker
    from ivr.store.import_batch import store_rows
    from ivr.store.importer import ensure_campaign

    rows, errors = read_rows(write(tmp_path, HEADER + br_rows("D1", "D2", "D3")), "pt-BR")
    assert errors == []
    rows[1] = replace(rows[1], name="x" * 300)  # past what the column holds
    engine = make_engine(pg_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as s, s.begin():
            camp = await ensure_campaign(s, "default", "pt-BR")
        result = await store_rows(sessions, rows, camp.id)
        failed = [(line, ref, "too long" in why) for line, ref, why in result.failed]
        assert (result.inserted, failed) == (2, [(3, "D2", True)])
        assert "x" * 300 not in result.failed[0][2]
        assert await count_debtors(sessions) == 2
    finally:
        await engine.dispose()
