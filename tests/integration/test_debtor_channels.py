"""Channel choices per debtor: imported from the debt file, shown and changed
through the API, and ``calls_allowed = false`` stops calls through the rule
book (explain shows why; the claim does not take the debtor)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from ivr.store.importer import import_debtors
from ivr.store.messages import add_inbound, add_outbound
from ivr.store.models import Debtor
from ivr.vocab.messages import Channel, SmsPurpose
from scheduler.claim import claim_batch
from tests.support.api import WEDNESDAY_10H_SP, Api, new_campaign, new_debtor
from tests.support.claims import make_campaign, make_debtor

T0 = dt.datetime(2026, 11, 24, 13, 0, tzinfo=dt.UTC)  # Tuesday 10:00 in São Paulo
HEADER = (
    "external_ref,name,phone,amount,due_date,creditor,locale,"
    "calls_allowed,sms_allowed,preferred_channel\n"
)


def _explain_url(ref: str) -> str:
    at = WEDNESDAY_10H_SP.isoformat().replace("+00:00", "Z")
    return f"/api/v1/debtors/{ref}/explain?at={at}"


async def _choices(sessions, ref: str) -> tuple[bool, bool, Channel | None]:
    async with sessions() as s:
        d = await s.scalar(select(Debtor).where(Debtor.external_ref == ref))
        assert d is not None
        return d.calls_allowed, d.sms_allowed, d.preferred_channel


async def test_import_channel_columns(sessions, tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        HEADER
        + "C1,Ana Lima,+5511987654321,10,2026-12-01,Loja,pt-BR,não,Sim,sms\n"
        + "C2,Bia Reis,+5511987654322,10,2026-12-01,Loja,pt-BR,yes,0,CALL\n"
        + "C3,Caio Dias,+5511987654323,10,2026-12-01,Loja,pt-BR,,,\n"
        + "C4,Davi Cruz,+5511987654324,10,2026-12-01,Loja,pt-BR,talvez,1,\n"
        + "C5,Eva Melo,+5511987654325,10,2026-12-01,Loja,pt-BR,1,1,fax\n"
        + "C6,Flor Paz,+5511987654326,10,2026-12-01,Loja,pt-BR,0,1,call\n",
        encoding="utf-8",
    )
    report = await import_debtors(sessions, path)
    assert report.inserted == 3
    by_line = {e.line: e.reason for e in report.errors}
    assert set(by_line) == {5, 6, 7}
    assert "calls_allowed" in by_line[5] and "'talvez'" in by_line[5]
    assert "preferred_channel" in by_line[6] and "'fax'" in by_line[6]
    assert "preferred_channel" in by_line[7] and "calls_allowed" in by_line[7]
    assert await _choices(sessions, "C1") == (False, True, Channel.SMS)
    assert await _choices(sessions, "C2") == (True, False, Channel.CALL)
    assert await _choices(sessions, "C3") == (True, True, None)

    # Re-import: an empty cell, or a file without the columns, changes nothing.
    path.write_text(
        HEADER + "C1,Ana Lima,+5511987654321,10,2026-12-01,Loja,pt-BR,,,\n", encoding="utf-8"
    )
    assert (await import_debtors(sessions, path)).updated == 1
    assert await _choices(sessions, "C1") == (False, True, Channel.SMS)
    path.write_text(
        "external_ref,name,phone,amount,due_date,creditor\n"
        "C2,Bia Reis,+5511987654322,10,2026-12-01,Loja\n"
        "C1,Ana Lima,+5511987654321,10,2026-12-01,Loja\n",
        encoding="utf-8",
    )
    assert (await import_debtors(sessions, path)).updated == 2
    assert await _choices(sessions, "C2") == (True, False, Channel.CALL)
    # A file that says otherwise does change it.
    path.write_text(HEADER + "C1,Ana Lima,+5511987654321,10,2026-12-01,Loja,pt-BR,sim,,\n")
    await import_debtors(sessions, path)
    assert await _choices(sessions, "C1") == (True, True, Channel.SMS)


async def test_calls_not_allowed_is_explained_and_not_claimed(sessions) -> None:
    async with sessions() as s, s.begin():
        camp = await make_campaign(s)
        d = await make_debtor(s, camp)
        debtor_id = d.id
        d.calls_allowed = False
    assert await claim_batch(sessions, T0, 10, "w1") == []
    async with sessions() as s, s.begin():
        debtor = await s.get(Debtor, debtor_id)
        assert debtor is not None
        debtor.calls_allowed = True
        debtor.next_attempt_at = None
    assert [c.debtor_id for c in await claim_batch(sessions, T0, 10, "w1")] == [debtor_id]


async def test_api_shows_and_changes_channels(api: Api) -> None:
    camp = await new_campaign(api)
    debtor = await new_debtor(api, camp["id"], ref="CH-1")
    body = await (await api.client.get(_explain_url("CH-1"), headers=api.sup())).json()
    assert body["callable"] is True, body["reasons"]

    url = "/api/v1/debtors/CH-1/channels"
    resp = await api.client.patch(
        url, json={"calls_allowed": False, "preferred_channel": "sms"}, headers=api.sup()
    )
    assert resp.status == 200, await resp.text()
    out = await resp.json()
    assert (out["calls_allowed"], out["sms_allowed"], out["preferred_channel"]) == (
        False,
        True,
        "sms",
    )
    body = await (await api.client.get(_explain_url("CH-1"), headers=api.sup())).json()
    assert body["callable"] is False
    assert [r["code"] for r in body["reasons"]] == ["calls_not_allowed"]
    assert body["reasons"][0]["overridable"] is False
    detail = await (await api.client.get("/api/v1/debtors/CH-1", headers=api.sup())).json()
    assert (detail["calls_allowed"], detail["preferred_channel"]) == (False, "sms")

    # Bad input: 422 naming the field; nothing changes.
    for bad, field in (
        ({"sms_allowed": False}, "preferred_channel"),  # sms preferred but not allowed
        ({"preferred_channel": "fax"}, "preferred_channel"),
        ({"calls_allowed": "perhaps"}, "calls_allowed"),
        ({"email_allowed": True}, "email_allowed"),
    ):
        resp = await api.client.patch(url, json=bad, headers=api.sup())
        assert resp.status == 422, (bad, await resp.text())
        assert (await resp.json())["errors"][0]["field"] == field
    assert await _choices(api.sessions, "CH-1") == (False, True, Channel.SMS)
    # Agents read but do not change; an unknown debtor is 404.
    assert (await api.client.patch(url, json={}, headers=api.agent())).status == 403
    missing = await api.client.patch("/api/v1/debtors/NOPE/channels", json={}, headers=api.sup())
    assert missing.status == 404
    # null clears the preference; calls allowed again are callable again.
    resp = await api.client.patch(
        url, json={"preferred_channel": None, "calls_allowed": True}, headers=api.sup()
    )
    assert (await resp.json())["preferred_channel"] is None
    body = await (await api.client.get(_explain_url("CH-1"), headers=api.sup())).json()
    assert body["callable"] is True, body["reasons"]

    # The SMS history, newest first.
    async with api.sessions() as s, s.begin():
        await add_outbound(
            s,
            debtor_id=debtor.id,
            purpose=SmsPurpose.REMINDER,
            to="+5511987654321",
            from_="+551130000000",
            body="Olá, Maria",
            local_day=None,
        )
        await add_inbound(
            s,
            debtor_id=debtor.id,
            sid="SM" + "a" * 32,
            from_="+5511987654321",
            to="+551130000000",
            body="Obrigada",
        )
    resp = await api.client.get("/api/v1/debtors/CH-1/messages", headers=api.sup())
    assert resp.status == 200, await resp.text()
    items = (await resp.json())["items"]
    assert [(m["direction"], m["body"]) for m in items] == [
        ("inbound", "Obrigada"),
        ("outbound", "Olá, Maria"),
    ]
