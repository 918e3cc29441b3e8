"""Payment details arrive checked: import columns (bad rows reported, good rows land), API."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from ivr.store.importer import import_debtors
from ivr.store.models import Debt
from tests.support.api import Api, new_campaign, new_debtor

PIX = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
    "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)
LINE = "00190.50095 40144.816069 06809.350314 3 37370000000100"
HEAD = "external_ref,name,phone,amount,due_date,creditor,payment_url,pix_code,boleto_line\n"
BASE = "Maria,+5511987654321,150.00,2026-10-01,Loja"


async def test_import_checks_each_payment_column(sessions, tmp_path: Path) -> None:
    rows = [
        f"P1,{BASE},https://pagar.example.com.br/p1,{PIX},{LINE}",
        f"P2,{BASE},http://pagar.example.com.br/p2,,",
        f"P3,{BASE},,{PIX[:-1]}0,",
        f"P4,{BASE},,,{LINE[:-1]}9",
        f"P5,{BASE},,,816400000000011000000477261620340777561600000001",
        f"P6,{BASE},https://u:p@pagar.example.com.br/,,",
        f"P7,{BASE},,,",
    ]
    path = tmp_path / "p.csv"
    path.write_text(HEAD + "\n".join(rows) + "\n", encoding="utf-8")
    report = await import_debtors(sessions, path)
    assert report.inserted == 2
    reasons = {e.line: e.reason for e in report.errors}
    assert set(reasons) == {3, 4, 5, 6, 7}
    assert reasons[3].startswith("payment_url:") and "https" in reasons[3]
    assert reasons[4].startswith("pix_code:") and "CRC" in reasons[4]
    assert reasons[5].startswith("boleto_line:") and "check digit" in reasons[5]
    assert reasons[6].startswith("boleto_line:") and "arrecadação" in reasons[6]
    assert reasons[7].startswith("payment_url:") and "password" in reasons[7]
    async with sessions() as s:
        debts = {d.creditor + str(d.debtor_id): d for d in (await s.scalars(select(Debt))).all()}
        stored = sorted(
            ((d.payment_url, d.pix_code, d.boleto_line) for d in debts.values()),
            key=lambda t: t[0] or "",
        )
    assert stored == [
        (None, None, None),
        ("https://pagar.example.com.br/p1", PIX, LINE.replace(".", "").replace(" ", "")),
    ]


async def test_reimport_without_the_columns_keeps_them(sessions, tmp_path: Path) -> None:
    first = tmp_path / "a.csv"
    first.write_text(HEAD + f"K1,{BASE},,{PIX},\n", encoding="utf-8")
    second = tmp_path / "b.csv"
    second.write_text(
        "external_ref,name,phone,amount,due_date,creditor\nK1," + BASE + "\n", encoding="utf-8"
    )
    cleared = tmp_path / "c.csv"
    cleared.write_text(HEAD + f"K1,{BASE},,,\n", encoding="utf-8")
    await import_debtors(sessions, first)
    await import_debtors(sessions, second)
    async with sessions() as s:
        assert (await s.scalar(select(Debt.pix_code))) == PIX
    await import_debtors(sessions, cleared)
    async with sessions() as s:
        assert (await s.scalar(select(Debt.pix_code))) is None


async def test_debt_payment_details_api(api: Api) -> None:
    camp = await new_campaign(api)
    debtor = await new_debtor(api, camp["id"], ref="PD-1")
    debt_id = debtor.debts[0].id
    url = f"/api/v1/debts/{debt_id}/payment-details"
    body = {"payment_url": "https://pagar.example.com.br/x", "pix_code": PIX, "boleto_line": LINE}
    resp = await api.client.put(url, json=body, headers=api.sup())
    assert resp.status == 200, await resp.text()
    out = await resp.json()
    assert out["boleto_line"] == LINE.replace(".", "").replace(" ", "") and out["pix_code"] == PIX
    got = await (await api.client.get("/api/v1/debtors/PD-1", headers=api.sup())).json()
    assert got["debts"][0]["pix_code"] == PIX
    for field, bad in (
        ("pix_code", PIX.replace("Fulano", "Fulana")),
        ("boleto_line", LINE[:-1] + "9"),
        ("payment_url", "javascript:alert(1)"),
    ):
        resp = await api.client.put(url, json={field: bad}, headers=api.sup())
        assert resp.status == 422, await resp.text()
        assert field in await resp.text()
    resp = await api.client.put("/api/v1/debts/999999/payment-details", json={}, headers=api.sup())
    assert resp.status == 404


async def test_changing_a_debts_payment_details_is_in_the_audit_log(api: Api) -> None:
    camp = await new_campaign(api)
    debtor = await new_debtor(api, camp["id"], ref="PD-2")
    debt_id = debtor.debts[0].id
    url = f"/api/v1/debts/{debt_id}/payment-details"
    first = {"payment_url": "https://pagar.example.com.br/x", "pix_code": PIX}
    for body in (first, {"payment_url": "https://pagar.example.com.br/y", "pix_code": PIX}):
        resp = await api.client.put(url, json=body, headers=api.sup())
        assert resp.status == 200, await resp.text()
    resp = await api.client.get(
        "/api/v1/audit", params={"entity": "debt", "entity_id": str(debt_id)}, headers=api.sup()
    )
    assert resp.status == 200, await resp.text()
    entries = (await resp.json())["items"]
    assert [(e["action"], e["username"]) for e in entries] == [
        ("update", "sofia"),
        ("update", "sofia"),
    ]
    assert entries[0]["changes"] == {
        "payment_url": ["https://pagar.example.com.br/x", "https://pagar.example.com.br/y"]
    }
    assert entries[1]["changes"] == {
        "payment_url": [None, "https://pagar.example.com.br/x"],
        "pix_code": [None, PIX],
    }


async def test_creditor_pix_key_api(api: Api) -> None:
    url = "/api/v1/creditors/Banco%20Horizonte/pix"
    body = {"key": "123.456.789-09", "merchant_name": "Banco Horizonte", "city": "São Paulo"}
    resp = await api.client.put(url, json=body, headers=api.sup())
    assert resp.status == 200, await resp.text()
    out = await resp.json()
    assert out["pix"] == {
        "key": "12345678909",
        "merchant_name": "Banco Horizonte",
        "city": "Sao Paulo",
    }
    for field, bad in (
        ("key", "123.456.789-00"),
        ("key", "+1 202 555 0100"),
        ("merchant_name", "Banco Horizonte de Investimentos S/A"),
        ("city", "&&&"),
    ):
        resp = await api.client.put(url, json={**body, field: bad}, headers=api.sup())
        assert resp.status == 422, await resp.text()
        assert field in await resp.text()
    resp = await api.client.delete(url, headers=api.sup())
    assert resp.status == 200 and (await resp.json())["pix"] is None
