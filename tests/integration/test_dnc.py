"""Do-not-call lists: import with a bad line, add and remove, lookup, and the rule
book honouring them (explain's reason, the claim dialing another number or none)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from ivr.store.models import DncNumber
from scheduler.claim import claim_batch
from tests.support.api import WEDNESDAY_10H_SP, Api, new_campaign, new_debtor
from tests.support.claims import make_campaign, make_debtor

SP_EXPORT = (
    "(11) 98765-4321\n"
    "11987650000\n"
    "\n"
    "(11) 9876-54\n"  # too short: line 4
    "+55 21 99876-5432\n"
    "(11) 98765-4321\n"  # the same number again: counted once
)


async def _import(api: Api, body: str, list_name: str = "Não Me Ligue SP") -> dict:
    resp = await api.client.post(
        "/api/v1/dnc/import",
        params={"list_name": list_name, "reason": "state registry"},
        data=body.encode(),
        headers=api.sup(),
    )
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_import_reports_the_bad_line_lands_the_good_ones_and_is_idempotent(
    api: Api,
) -> None:
    report = await _import(api, SP_EXPORT)
    assert report["errors"] == [
        {
            "line": 4,
            "reason": "'(11) 9876-54' is not a valid phone number",
            "code": "phone_invalid",
            "params": {"value": "(11) 9876-54"},
        }
    ]
    assert report["added"] == 3 and report["already"] == 0
    async with api.sessions() as s:
        numbers = set((await s.scalars(select(DncNumber.e164))).all())
    assert numbers == {"+5511987654321", "+5511987650000", "+5521998765432"}

    again = await _import(api, SP_EXPORT)
    assert again["added"] == 0 and again["already"] == 3
    async with api.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(DncNumber)) == 3


async def test_csv_with_a_header_reads_the_number_column(api: Api) -> None:
    body = "nome;telefone;data\nJoão;(11) 98765-4321;2026-01-02\nAna;abc;2026-01-03\n"
    report = await _import(api, body, "Credor X")
    assert report["added"] == 1
    assert [e["line"] for e in report["errors"]] == [3]


async def test_add_lookup_remove(api: Api) -> None:
    resp = await api.client.post(
        "/api/v1/dnc/numbers",
        json={"list_name": "Pedido direto", "number": "(11) 98765-4321", "reason": "e-mail"},
        headers=api.sup(),
    )
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["e164"] == "+5511987654321"

    found = await (
        await api.client.get(
            "/api/v1/dnc/lookup", params={"number": "11 98765 4321"}, headers=api.sup()
        )
    ).json()
    assert found["blocked"] is True
    assert [(b["kind"], b["list_name"], b["by"], b["reason"]) for b in found["blocks"]] == [
        ("dnc_list", "Pedido direto", "sofia", "e-mail")
    ]
    lists = await (await api.client.get("/api/v1/dnc/lists", headers=api.sup())).json()
    assert lists["items"][0]["name"] == "Pedido direto" and lists["items"][0]["numbers"] == 1

    resp = await api.client.delete(
        "/api/v1/dnc/numbers",
        params={"list_name": "Pedido direto", "number": "+5511987654321"},
        headers=api.sup(),
    )
    assert resp.status == 200
    resp = await api.client.delete(
        "/api/v1/dnc/numbers",
        params={"list_name": "Pedido direto", "number": "+5511987654321"},
        headers=api.sup(),
    )
    assert resp.status == 404
    found = await (
        await api.client.get(
            "/api/v1/dnc/lookup", params={"number": "+5511987654321"}, headers=api.sup()
        )
    ).json()
    assert found == {"e164": "+5511987654321", "blocked": False, "blocks": []}


async def _dnc_audit(api: Api) -> list[dict]:
    resp = await api.client.get("/api/v1/audit", params={"entity": "dnc"}, headers=api.sup())
    assert resp.status == 200, await resp.text()
    return (await resp.json())["items"]


async def test_adding_and_removing_a_number_is_in_the_audit_log_masked(api: Api) -> None:
    number = {"list_name": "Pedido direto", "number": "(11) 98765-4321", "reason": "e-mail"}
    for _ in range(2):  # the second add changes nothing, so it writes nothing
        resp = await api.client.post("/api/v1/dnc/numbers", json=number, headers=api.sup())
        assert resp.status == 201, await resp.text()
    resp = await api.client.delete(
        "/api/v1/dnc/numbers",
        params={"list_name": "Pedido direto", "number": "+5511987654321"},
        headers=api.sup(),
    )
    assert resp.status == 200, await resp.text()
    entries = await _dnc_audit(api)
    assert [(e["action"], e["username"], e["entity_id"]) for e in entries] == [
        ("remove", "sofia", "+55*******4321"),
        ("add", "sofia", "+55*******4321"),
    ]
    removed, added = entries
    assert added["changes"] == {"list_name": [None, "Pedido direto"], "reason": [None, "e-mail"]}
    assert removed["changes"] == {"list_name": ["Pedido direto", None]}
    # The number is masked as log lines mask it: nowhere in full.
    assert "98765" not in repr(entries)


async def test_importing_a_list_is_in_the_audit_log(api: Api) -> None:
    await _import(api, SP_EXPORT)
    entries = await _dnc_audit(api)
    assert [(e["action"], e["username"], e["entity_id"]) for e in entries] == [
        ("import", "sofia", "Não Me Ligue SP")
    ]
    assert entries[0]["changes"] == {
        "read": [None, 4],
        "added": [None, 3],
        "already": [None, 0],
        "rejected": [None, 1],
        "reason": [None, "state registry"],
    }
    assert "98765" not in repr(entries)


async def test_bad_input_names_the_field(api: Api) -> None:
    resp = await api.client.post(
        "/api/v1/dnc/numbers", json={"list_name": "X", "number": "12"}, headers=api.sup()
    )
    assert resp.status == 422
    assert [e["field"] for e in (await resp.json())["errors"]] == ["number"]
    resp = await api.client.post(
        "/api/v1/dnc/import", params={"list_name": " "}, data=b"11987654321", headers=api.sup()
    )
    assert resp.status == 422
    assert [e["field"] for e in (await resp.json())["errors"]] == ["list_name"]
    resp = await api.client.post(
        "/api/v1/dnc/import",
        params={"list_name": "X"},
        data="11987654321".encode("utf-16"),
        headers=api.sup(),
    )
    assert resp.status == 422
    # Agents may not touch the lists.
    resp = await api.client.get("/api/v1/dnc/lists", headers=api.agent())
    assert resp.status == 403


async def test_explain_names_the_list_and_sms_is_held_too(api: Api) -> None:
    camp = await new_campaign(api, min_gap_minutes=0)
    await new_debtor(api, camp["id"], ref="DNC-1")
    at = WEDNESDAY_10H_SP.isoformat().replace("+00:00", "Z")
    body = await (
        await api.client.get(f"/api/v1/debtors/DNC-1/explain?at={at}", headers=api.sup())
    ).json()
    assert body["callable"] is True, body["reasons"]
    await _import(api, "(11) 98765-4321\n")
    body = await (
        await api.client.get(f"/api/v1/debtors/DNC-1/explain?at={at}", headers=api.sup())
    ).json()
    assert body["callable"] is False
    codes = [r["code"] for r in body["reasons"]]
    assert codes == ["no_valid_phone", "number_on_dnc_list"]
    listed = body["reasons"][1]
    assert listed["detail"] == {"phones": ["+5511987654321"], "lists": ["Não Me Ligue SP"]}
    assert "do-not-call" in listed["message"]
    assert "number_on_dnc_list" in [r["code"] for r in body["sms"]["reasons"]]


T0 = dt.datetime(2026, 11, 24, 13, 0, tzinfo=dt.UTC)  # Tuesday 10:00 in São Paulo


async def test_the_claim_skips_a_listed_number(sessions) -> None:
    async with sessions() as s, s.begin():
        camp = await make_campaign(s)
        both = await make_debtor(s, camp, phones=("+5511987654321", "+5511912345678"))
        only = await make_debtor(s, camp, phones=("+5511987650000",))
        s.add_all(
            [
                DncNumber(list_name="Não Me Ligue SP", e164=e, source="import", added_by="t")
                for e in ("+5511987654321", "+5511987650000")
            ]
        )
        both_id, only_id = both.id, only.id
    claims = await claim_batch(sessions, T0, 10, "w1")
    assert [(c.debtor_id, c.to_number) for c in claims] == [(both_id, "+5511912345678")]
    assert only_id not in [c.debtor_id for c in claims]
