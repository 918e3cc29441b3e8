"""The debtor page's API: search, the timeline, supervisor actions and LGPD requests."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ivr.store.models import (
    CallAttempt,
    CallEvent,
    Debtor,
    DebtorAction,
    Payment,
    Phone,
    Promise,
    SmsMessage,
    Transfer,
)
from ivr.vocab.messages import SmsDirection, SmsPurpose
from tests.support.api import WEDNESDAY_10H_SP, Api, add_attempt, new_campaign, new_debtor

T = WEDNESDAY_10H_SP


async def _history(api: Api, ref: str) -> Debtor:
    """A person with a call (three turns and words said as they hung up), a
    wrap-up, a promise, a payment and an SMS."""
    camp = await new_campaign(api)
    debtor = await new_debtor(api, camp["id"], ref=ref)
    attempt_id = await add_attempt(api, debtor, T - dt.timedelta(days=3), outcome="promise")
    async with api.sessions() as s, s.begin():
        s.add_all(
            [
                CallEvent(
                    attempt_id=attempt_id,
                    kind="prompt",
                    at=T - dt.timedelta(days=3),
                    data={"prompt_id": "greet", "text": "Bom dia, falo com Maria?"},
                ),
                CallEvent(
                    attempt_id=attempt_id,
                    kind="speech",
                    at=T - dt.timedelta(days=3),
                    data={"text": "sim sou eu", "intent": "yes", "confidence": 0.9},
                ),
                CallEvent(
                    attempt_id=attempt_id,
                    kind="dtmf",
                    at=T - dt.timedelta(days=3),
                    data={"digits": "123", "intent": "document"},
                ),
                CallEvent(
                    attempt_id=attempt_id,
                    kind="speech",
                    at=T - dt.timedelta(days=3),
                    data={"text": "não posso pagar", "confidence": 0.7, "after_hangup": True},
                ),
                Transfer(
                    attempt_id=attempt_id,
                    reason="dispute",
                    status="completed",
                    requested_at=T - dt.timedelta(days=3),
                    outcome="promise",
                    notes="vai pagar na sexta",
                    ended_at=T - dt.timedelta(days=3, minutes=-5),
                ),
                Promise(
                    debt_id=debtor.debts[0].id,
                    attempt_id=attempt_id,
                    promised_date=dt.date(2025, 6, 13),
                    amount_cents=15_000,
                    created_at=T - dt.timedelta(days=2),
                ),
                Payment(
                    debt_id=debtor.debts[0].id,
                    amount_cents=15_000,
                    paid_on=dt.date(2025, 6, 10),
                    external_ref=f"PAY-{ref}",
                ),
                SmsMessage(
                    debtor_id=debtor.id,
                    direction=SmsDirection.OUTBOUND,
                    purpose=SmsPurpose.REMINDER,
                    to_number="+5511987654321",
                    from_number="+5511300000000",
                    body="Lembrete: Maria, seu acordo",
                    created_at=T - dt.timedelta(days=1),
                ),
            ]
        )
    return debtor


async def test_search_by_name_reference_and_phone(api: Api) -> None:
    camp = await new_campaign(api)
    await new_debtor(api, camp["id"], ref="S-1")  # "Maria Silva", +5511987654321
    async with api.sessions() as s, s.begin():
        d = await s.scalar(select(Debtor).where(Debtor.external_ref == "S-1"))
        assert d is not None
        d.name = "José da Conceição"
    await new_debtor(api, camp["id"], ref="S-2", phone="+5511912345678")

    async def find(q: str) -> list[tuple[str, str]]:
        resp = await api.client.get("/api/v1/debtor-search", params={"q": q}, headers=api.sup())
        assert resp.status == 200, await resp.text()
        return [(i["external_ref"], i["matched"]) for i in (await resp.json())["items"]]

    assert await find("jose") == [("S-1", "name")]
    assert await find("CONCEIÇ") == [("S-1", "name")]
    assert await find("silv") == [("S-2", "name")]
    assert await find("S-2") == [("S-2", "reference")]
    assert await find("(11) 91234-5678") == [("S-2", "phone")]
    assert await find("nobody") == []
    resp = await api.client.get("/api/v1/debtor-search", params={"q": ""}, headers=api.sup())
    assert resp.status == 422 and (await resp.json())["errors"][0]["field"] == "q"


async def test_timeline_has_every_kind_newest_first_with_the_turns(api: Api) -> None:
    await _history(api, "TL-1")
    resp = await api.client.get("/api/v1/debtors/TL-1/timeline", headers=api.sup())
    assert resp.status == 200, await resp.text()
    items = (await resp.json())["items"]
    assert [i["kind"] for i in items] == ["sms", "payment", "promise", "note", "call", "transfer"]
    ats = [i["at"] for i in items]
    assert ats == sorted(ats, reverse=True)
    call = next(i for i in items if i["kind"] == "call")
    assert [(t["kind"], t.get("text") or t.get("digits")) for t in call["detail"]["turns"]] == [
        ("prompt", "Bom dia, falo com Maria?"),
        ("speech", "sim sou eu"),
        ("dtmf", "123"),
        ("speech", "não posso pagar"),
    ]
    assert [t.get("after_hangup") for t in call["detail"]["turns"]] == [None, None, None, True]
    assert call["detail"]["direction"] == "outbound" and call["detail"]["outcome"] == "promise"
    note = next(i for i in items if i["kind"] == "note")
    assert note["detail"]["notes"] == "vai pagar na sexta"


async def test_actions_are_applied_validated_and_logged(api: Api) -> None:
    camp = await new_campaign(api, min_gap_minutes=0)
    await new_debtor(api, camp["id"], ref="A-1")
    base = "/api/v1/debtors/A-1"
    resp = await api.client.post(f"{base}/opt-out", json={"channel": "call"}, headers=api.sup())
    assert resp.status == 200, await resp.text()
    at = T.isoformat().replace("+00:00", "Z")
    why = await (await api.client.get(f"{base}/explain?at={at}", headers=api.sup())).json()
    assert [r["code"] for r in why["reasons"]] == ["opted_out"]
    resp = await api.client.post(f"{base}/opt-in", json={"channel": "call"}, headers=api.sup())
    assert resp.status == 200
    resp = await api.client.post(f"{base}/opt-in", json={"channel": "call"}, headers=api.sup())
    assert resp.status == 422 and (await resp.json())["errors"][0]["field"] == "channel"
    resp = await api.client.post(f"{base}/opt-out", json={"channel": "fax"}, headers=api.sup())
    assert resp.status == 422 and (await resp.json())["errors"][0]["field"] == "channel"
    resp = await api.client.post(f"{base}/opt-out", json={"channel": "sms"}, headers=api.agent())
    assert resp.status == 403

    resp = await api.client.post(
        f"{base}/wrong-number", json={"number": "+5511000000000"}, headers=api.sup()
    )
    assert resp.status == 422 and (await resp.json())["errors"][0]["field"] == "number"
    resp = await api.client.post(
        f"{base}/wrong-number", json={"number": "+5511987654321"}, headers=api.sup()
    )
    assert resp.status == 200
    async with api.sessions() as s:
        phone = await s.scalar(select(Phone).where(Phone.e164 == "+5511987654321"))
        assert phone is not None and phone.wrong_number_at is not None
        kinds = (await s.scalars(select(DebtorAction.kind).order_by(DebtorAction.id))).all()
        assert list(kinds) == ["opt_out", "opt_in", "wrong_number"]
        who = (await s.scalars(select(DebtorAction.by_user))).all()
        assert set(who) == {"sofia"}


async def test_callback_only_inside_the_windows(api: Api) -> None:
    camp = await new_campaign(api)
    await new_debtor(api, camp["id"], ref="CB-1")
    url = "/api/v1/debtors/CB-1/callbacks"
    today = dt.datetime.now(dt.UTC).date()
    monday = today + dt.timedelta(days=7 - today.weekday())
    night = dt.datetime.combine(monday, dt.time(3), tzinfo=dt.UTC)  # 00:00 in São Paulo
    resp = await api.client.post(url, json={"due_at": night.isoformat()}, headers=api.sup())
    assert resp.status == 422, await resp.text()
    err = (await resp.json())["errors"][0]
    assert err["field"] == "due_at" and "windows next open" in err["reason"]
    ten = dt.datetime.combine(monday + dt.timedelta(days=1), dt.time(13), tzinfo=dt.UTC)
    resp = await api.client.post(url, json={"due_at": ten.isoformat()}, headers=api.sup())
    assert resp.status == 201, await resp.text()
    body = await (await api.client.get("/api/v1/debtors/CB-1", headers=api.sup())).json()
    assert [c["due_at"][:16] for c in body["callbacks"]] == [ten.isoformat()[:16]]


async def test_anonymise_also_clears_the_supervisors_actions_about_the_person(api: Api) -> None:
    """A note typed about the person and a number marked wrong stay on their
    timeline, but not after an anonymisation: the log of what was done stays,
    what identifies the person goes."""
    await _history(api, "LG-9")
    base = "/api/v1/debtors/LG-9"
    note = "Maria ligou chorando, pediu para parar"
    resp = await api.client.post(
        f"{base}/opt-out", json={"channel": "call", "note": note}, headers=api.sup()
    )
    assert resp.status == 200, await resp.text()
    resp = await api.client.post(
        f"{base}/wrong-number", json={"number": "+5511987654321"}, headers=api.sup()
    )
    assert resp.status == 200, await resp.text()
    before = str(await (await api.client.get(f"{base}/lgpd-export", headers=api.sup())).json())
    assert note in before  # the export holds what was typed, until the anonymisation
    resp = await api.client.post(f"{base}/anonymise", json={"confirm": "LG-9"}, headers=api.sup())
    assert resp.status == 200, await resp.text()
    after = await (await api.client.get(f"{base}/lgpd-export", headers=api.sup())).json()
    text = str(after)
    for gone in ("chorando", "+5511987654321", "Maria"):
        assert gone not in text, gone
    kinds = [r["kind"] for r in after["requests"]]
    assert kinds[:2] == ["opt_out", "wrong_number"] and "lgpd_anonymise" in kinds


async def test_lgpd_export_holds_the_data_and_anonymise_removes_it(api: Api) -> None:
    debtor = await _history(api, "LG-1")
    resp = await api.client.get("/api/v1/debtors/LG-1/lgpd-export", headers=api.sup())
    assert resp.status == 200
    data = await resp.json()
    assert data["debtor"]["name"] == "Maria Silva"
    assert [p["e164"] for p in data["phones"]] == ["+5511987654321"]
    assert {e["kind"] for e in data["call_events"]} >= {"prompt", "speech", "dtmf"}
    assert data["sms_messages"][0]["body"].startswith("Lembrete")
    assert data["payments"][0]["amount_cents"] == 15_000
    assert [r["kind"] for r in data["requests"]] == ["lgpd_export"]

    resp = await api.client.post(
        "/api/v1/debtors/LG-1/anonymise", json={"confirm": "LG-2"}, headers=api.sup()
    )
    assert resp.status == 422 and (await resp.json())["errors"][0]["field"] == "confirm"
    resp = await api.client.post(
        "/api/v1/debtors/LG-1/anonymise", json={"confirm": "LG-1"}, headers=api.sup()
    )
    assert resp.status == 200, await resp.text()
    after = await (
        await api.client.get("/api/v1/debtors/LG-1/lgpd-export", headers=api.sup())
    ).json()
    text = str(after)
    for gone in ("Maria", "+5511987654321", "sim sou eu", "não posso", "vai pagar", "Lembrete"):
        assert gone not in text, gone
    assert after["debtor"]["document_digits"] is None and after["phones"] == []
    assert [d["amount_cents"] for d in after["debts"]] == [15_000]
    assert [p["amount_cents"] for p in after["payments"]] == [15_000]
    assert [r["kind"] for r in after["requests"]] == [
        "lgpd_export",
        "lgpd_anonymise",
        "lgpd_export",
    ]
    async with api.sessions() as s:
        d = await s.get(Debtor, debtor.id)
        assert d is not None and d.opted_out_at is not None and d.sms_opted_out_at is not None
        assert (await s.scalars(select(CallAttempt.to_number))).all() == [""]
    at = T.isoformat().replace("+00:00", "Z")
    why = await (
        await api.client.get(f"/api/v1/debtors/LG-1/explain?at={at}", headers=api.sup())
    ).json()
    assert why["callable"] is False and why["sms"]["allowed"] is False


async def test_every_action_about_a_person_is_in_the_audit_log(api: Api) -> None:
    camp = await new_campaign(api)
    await new_debtor(api, camp["id"], ref="AU-1")  # +5511987654321
    base = "/api/v1/debtors/AU-1"
    today = dt.datetime.now(dt.UTC).date()
    tuesday = today + dt.timedelta(days=8 - today.weekday())
    ten = dt.datetime.combine(tuesday, dt.time(13), tzinfo=dt.UTC)  # 10:00 in São Paulo
    steps = [
        ("opt-out", {"channel": "sms", "note": "carta de 02/12"}),
        ("opt-in", {"channel": "sms"}),
        ("wrong-number", {"number": "+5511987654321"}),
        ("callbacks", {"due_at": ten.isoformat()}),
    ]
    for path, body in steps:
        resp = await api.client.post(f"{base}/{path}", json=body, headers=api.sup())
        assert resp.status in (200, 201), await resp.text()
    assert (await api.client.get(f"{base}/lgpd-export", headers=api.sup())).status == 200
    resp = await api.client.post(f"{base}/anonymise", json={"confirm": "AU-1"}, headers=api.sup())
    assert resp.status == 200, await resp.text()

    resp = await api.client.get(
        "/api/v1/audit", params={"entity": "debtor", "entity_id": "AU-1"}, headers=api.sup()
    )
    entries = (await resp.json())["items"][::-1]  # oldest first
    assert [(e["action"], e["username"]) for e in entries] == [
        ("opt_out", "sofia"),
        ("opt_in", "sofia"),
        ("update", "sofia"),
        ("schedule", "sofia"),
        ("export", "sofia"),
        ("anonymise", "sofia"),
    ]
    opt_out, opt_in, wrong, callback, export, anonymised = (e["changes"] for e in entries)
    assert opt_out == opt_in == {"channel": [None, "sms"]}
    assert wrong == {"wrong_number": [None, "+55*******4321"]}  # masked, as log lines are
    assert callback["due_at"][1][:16] == ten.isoformat()[:16]
    assert export == {}
    assert anonymised["phones"] == [None, 1]
    # Nothing the anonymisation removed survives in the audit log.
    assert "98765" not in repr(entries) and "carta" not in repr(entries)
