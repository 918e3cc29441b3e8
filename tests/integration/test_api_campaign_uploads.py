"""The console's campaign additions over a real database: portfolio and payment
uploads (one import path with the CLI), the coming holidays, the settings the
API did not expose before, and the list's calls placed today."""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from ivr.store.models import AuditEntry, Debt, Debtor, Payment, utcnow
from ivr.web import api_imports
from tests.support.api import Api, add_attempt, new_campaign, new_debtor

C = "/api/v1/campaigns"
HEADER = "external_ref,name,phone,amount,due_date,creditor,region\n"
PORTFOLIO = (
    HEADER
    + 'UP-1,Maria Souza,+55 11 98765-4321,"1.234,50",2026-10-28,Loja Estrela,SP\n'
    + "UP-2,João Pereira,not a phone,389.90,2026-10-15,Banco Horizonte,RJ\n"
    + "UP-3,Ana Lima,(21) 99876-5432,389.90,15/10/2026,Banco Horizonte,RJ\n"
)


async def _errors(resp: Any) -> list[dict[str, Any]]:
    assert resp.status == 422, await resp.text()
    return list((await resp.json())["errors"])


async def test_portfolio_upload_lands_good_rows_and_reports_bad_ones(api: Api) -> None:
    camp = await new_campaign(api)
    resp = await api.client.post(
        f"{C}/{camp['id']}/import", data=PORTFOLIO.encode(), headers=api.sup()
    )
    assert resp.status == 200, await resp.text()
    report = await resp.json()
    assert (report["inserted"], report["updated"], report["errors_total"]) == (2, 0, 1)
    [bad] = report["errors"]
    assert bad["line"] == 3 and bad["external_ref"] == "UP-2" and "phone" in bad["reason"]
    # The code and the value a page needs to say it in the user's language.
    assert (bad["code"], bad["params"]) == ("phone_unreadable", {"value": "not a phone"})
    async with api.sessions() as s:
        landed = (
            await s.execute(
                select(Debtor.external_ref, Debt.campaign_id)
                .join(Debt, Debt.debtor_id == Debtor.id)
                .order_by(Debtor.external_ref)
            )
        ).all()
        audit = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "import"))).all()
    assert [tuple(r) for r in landed] == [("UP-1", camp["id"]), ("UP-3", camp["id"])]
    assert [a.entity_id for a in audit] == [str(camp["id"])]
    assert audit[0].username == "sofia"

    # The same file again, as a multipart form: the known debtors are updated, never doubled.
    form = aiohttp.FormData()
    form.add_field("file", PORTFOLIO.encode(), filename="carteira.csv", content_type="text/csv")
    resp = await api.client.post(f"{C}/{camp['id']}/import", data=form, headers=api.sup())
    assert resp.status == 200, await resp.text()
    again = await resp.json()
    assert (again["inserted"], again["updated"], again["errors_total"]) == (0, 2, 1)


async def test_upload_refusals_name_the_field(api: Api) -> None:
    camp = await new_campaign(api)
    url = f"{C}/{camp['id']}/import"
    [err] = await _errors(await api.client.post(url, data=b"", headers=api.sup()))
    assert err["field"] == "body" and err["code"] == "empty_file"
    no_phone = b"external_ref,name,amount,due_date,creditor\nX,Y,1,2026-01-01,Z\n"
    [err] = await _errors(await api.client.post(url, data=no_phone, headers=api.sup()))
    assert err["field"] == "body" and "phone" in err["reason"]
    assert "ivr-upload-" not in err["reason"]  # the temporary file's name is no one's business
    [err] = await _errors(
        await api.client.post(url + "?encoding=klingon", data=b"a,b\n", headers=api.sup())
    )
    assert err["field"] == "encoding"
    latin = PORTFOLIO.encode("latin-1")
    [err] = await _errors(await api.client.post(url, data=latin, headers=api.sup()))
    assert err["field"] == "body"
    ok = await api.client.post(url + "?encoding=latin-1", data=latin, headers=api.sup())
    assert ok.status == 200 and (await ok.json())["inserted"] == 2
    missing = await api.client.post(f"{C}/999999/import", data=b"x", headers=api.sup())
    assert missing.status == 404


async def test_upload_size_limit_and_roles(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    camp = await new_campaign(api)
    url = f"{C}/{camp['id']}/import"
    forbidden = await api.client.post(url, data=PORTFOLIO.encode(), headers=api.agent())
    assert forbidden.status == 403
    forbidden = await api.client.post("/api/v1/payments/import", data=b"x", headers=api.agent())
    assert forbidden.status == 403
    monkeypatch.setattr(api_imports, "MAX_IMPORT_BYTES", 100)
    big = await api.client.post(url, data=PORTFOLIO.encode(), headers=api.sup())
    assert big.status == 413, await big.text()

    async def chunked() -> Any:  # no Content-Length: the limit holds while streaming
        for _ in range(10):
            yield b"x" * 50

    streamed = await api.client.post(url, data=chunked(), headers=api.sup())
    assert streamed.status == 413
    async with api.sessions() as s:
        assert (await s.scalars(select(Debtor))).all() == []


async def test_payments_upload_reports_by_line(api: Api) -> None:
    camp = await new_campaign(api)
    await new_debtor(api, camp["id"], ref="PAY-1", amount_cents=10_000)
    today = utcnow().date().isoformat()
    body = (
        "external_ref,amount,paid_on,payment_ref\n"
        f"PAY-1,40.00,{today},P-1\n"
        f"NOBODY,10.00,{today},P-2\n"
        f"PAY-1,60.00,{today},P-3\n"
    )
    resp = await api.client.post("/api/v1/payments/import", data=body.encode(), headers=api.sup())
    assert resp.status == 200, await resp.text()
    report = await resp.json()
    assert (report["imported"], report["debts_paid"], report["errors_total"]) == (2, 1, 1)
    [unknown] = report["errors"]
    assert unknown["line"] == 3 and unknown["code"] == "debtor_unknown"
    assert unknown["params"] == {"value": "NOBODY"}
    async with api.sessions() as s:
        refs = sorted((await s.scalars(select(Payment.external_ref))).all())
    assert refs == ["P-1", "P-3"]
    [err] = await _errors(
        await api.client.post(
            "/api/v1/payments/import", data=b"external_ref,amount\nX,1\n", headers=api.sup()
        )
    )
    assert err["field"] == "body" and "paid_on" in err["reason"]


async def test_a_payments_upload_is_in_the_audit_log(api: Api) -> None:
    camp = await new_campaign(api)
    await new_debtor(api, camp["id"], ref="PAY-2", amount_cents=10_000)
    today = utcnow().date().isoformat()
    body = (
        f"external_ref,amount,paid_on,payment_ref\nPAY-2,40.00,{today},Q-1\nNOBODY,1,{today},Q-2\n"
    )
    resp = await api.client.post("/api/v1/payments/import", data=body.encode(), headers=api.sup())
    assert resp.status == 200, await resp.text()
    resp = await api.client.get("/api/v1/audit", params={"entity": "payment"}, headers=api.sup())
    entries = (await resp.json())["items"]
    assert [(e["action"], e["username"], e["entity_id"]) for e in entries] == [
        ("import", "sofia", "import")
    ]
    assert entries[0]["changes"] == {
        "bytes": [None, len(body.encode())],
        "imported": [None, 1],
        "duplicates": [None, 0],
        "debts_paid": [None, 0],
        "rejected": [None, 1],
    }


async def test_holidays_of_the_country_and_the_debtors_states(api: Api) -> None:
    camp = await new_campaign(api, country="BR")
    await new_debtor(api, camp["id"])  # lives in SP
    url = f"{C}/{camp['id']}/holidays?months=12&lang=pt-BR"
    data = await (await api.client.get(url, headers=api.sup())).json()
    assert data["country"] == "BR" and data["debtor_states"] == ["SP"] and data["states"] == ["SP"]
    assert "RJ" in data["known_states"]
    by_day = {(h["date"][5:], h["name"]): h["states"] for h in data["holidays"]}
    assert by_day[("12-25", "Natal")] == []
    assert by_day[("07-09", "Revolução Constitucionalista")] == ["SP"]
    first = dt.date.fromisoformat(data["first"])
    assert all(first <= dt.date.fromisoformat(h["date"]) for h in data["holidays"])
    rj = await (await api.client.get(url + "&states=rj", headers=api.sup())).json()
    assert rj["states"] == ["RJ"] and not any(h["states"] == ["SP"] for h in rj["holidays"])
    [err] = await _errors(await api.client.get(url + "&states=XX", headers=api.sup()))
    assert err["field"] == "states" and err["code"] == "unknown_state"
    [err] = await _errors(await api.client.get(url + "&months=99", headers=api.sup()))
    assert err["field"] == "months" and err["code"] == "less_than_equal"


async def test_sms_and_inbound_settings_round_trip_with_audit(api: Api) -> None:
    camp = await new_campaign(api)
    assert (camp["sms_daily_cap"], camp["reminder_days_before"]) == (1, 1)
    assert camp["inbound_verification_policy"] == "name_and_factor"
    resp = await api.client.patch(
        f"{C}/{camp['id']}",
        json={"sms_daily_cap": 3, "reminder_days_before": 0, "inbound_verification_policy": "name"},
        headers=api.sup(),
    )
    assert resp.status == 200, await resp.text()
    got = await resp.json()
    assert (got["sms_daily_cap"], got["reminder_days_before"]) == (3, 0)
    assert got["inbound_verification_policy"] == "name"
    async with api.sessions() as s:
        [entry] = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "update"))).all()
    assert entry.changes["sms_daily_cap"] == [1, 3]
    errors = await _errors(
        await api.client.patch(
            f"{C}/{camp['id']}",
            json={"sms_daily_cap": 11, "inbound_verification_policy": "none"},
            headers=api.sup(),
        )
    )
    assert {(e["field"], e["code"]) for e in errors} == {
        ("sms_daily_cap", "less_than_equal"),
        ("inbound_verification_policy", "enum"),
    }


async def test_list_counts_calls_placed_today(api: Api) -> None:
    camp = await new_campaign(api)
    other = await new_campaign(api)
    debtor = await new_debtor(api, camp["id"])
    now = utcnow()
    await add_attempt(api, debtor, now - dt.timedelta(minutes=5))
    await add_attempt(api, debtor, now - dt.timedelta(days=2))
    await add_attempt(api, debtor, now - dt.timedelta(minutes=1), placed=False)
    listed = await (await api.client.get(C, headers=api.sup())).json()
    today = {c["id"]: c["attempts_today"] for c in listed["items"]}
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    expected = 1 if now - dt.timedelta(minutes=5) >= midnight else 0
    assert today == {camp["id"]: expected, other["id"]: 0}
    assert listed["account_cps"] == 1.0


async def test_window_and_cap_errors_carry_codes_a_page_can_translate(api: Api) -> None:
    errors = await _errors(
        await api.client.post(
            C,
            json={
                "name": "coded",
                "daily_cap": 3,
                "weekly_cap": 2,
                "windows": [
                    {"weekday": 0, "start": "09:00", "end": "12:00"},
                    {"weekday": 0, "start": "11:00", "end": "13:00"},
                    {"weekday": 0, "start": "06:00", "end": "07:00"},
                    {"weekday": 6, "start": "09:00", "end": "10:00"},
                ],
            },
            headers=api.sup(),
        )
    )
    coded = {(e["field"], e.get("code")): e.get("params") for e in errors}
    assert coded[("weekly_cap", "below_daily_cap")] == {"daily_cap": 3}
    assert coded[("windows[1]", "overlap")] == {"range": "09:00-12:00"}
    assert coded[("windows[2]", "outside_default_hours")] == {
        "hours": "08:00-20:00",
        "country": "BR",
    }
    assert ("windows[3]", "no_default_hours") in coded
