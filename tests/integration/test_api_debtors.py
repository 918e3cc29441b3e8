"""Debtor, explain and attempts endpoints over a real database."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from ivr.store.models import (
    Agent,
    CallAttempt,
    Callback,
    CallEvent,
    Debtor,
    Promise,
    Transfer,
    User,
)
from tests.support.api import WEDNESDAY_10H_SP, Api, add_attempt, new_campaign, new_debtor


def _explain_url(ref: str, at: dt.datetime = WEDNESDAY_10H_SP) -> str:
    return f"/api/v1/debtors/{ref}/explain?at={at.isoformat().replace('+00:00', 'Z')}"


async def test_explain_callable_then_over_the_daily_cap(api: Api) -> None:
    camp = await new_campaign(api, min_gap_minutes=0, daily_cap=2)
    debtor = await new_debtor(api, camp["id"], ref="CAP-1")
    body = await (await api.client.get(_explain_url("CAP-1"), headers=api.sup())).json()
    assert body["callable"] is True, body["reasons"]
    assert body["reasons"] == [] and body["to_number"] == "+5511987654321"

    for hours in (2, 1):  # 08:00 and 09:00 local, both finished
        await add_attempt(api, debtor, WEDNESDAY_10H_SP - dt.timedelta(hours=hours))
    body = await (await api.client.get(_explain_url("CAP-1"), headers=api.sup())).json()
    assert body["callable"] is False
    assert [r["code"] for r in body["reasons"]] == ["daily_cap"]
    reason = body["reasons"][0]
    assert reason["detail"]["count"] == 2 and reason["detail"]["cap"] == 2
    assert reason["message"] and reason["until"] is not None
    # The cap clears at local midnight: the next day at 10:00 is callable again.
    body = await (
        await api.client.get(
            _explain_url("CAP-1", WEDNESDAY_10H_SP + dt.timedelta(days=1)), headers=api.sup()
        )
    ).json()
    assert body["callable"] is True, body["reasons"]


async def test_explain_opted_out_and_outside_window(api: Api) -> None:
    camp = await new_campaign(api)
    await new_debtor(
        api, camp["id"], ref="OPT-1", opted_out_at=WEDNESDAY_10H_SP - dt.timedelta(days=3)
    )
    body = await (await api.client.get(_explain_url("OPT-1"), headers=api.sup())).json()
    assert body["callable"] is False
    assert [r["code"] for r in body["reasons"]] == ["opted_out"]

    await new_debtor(api, camp["id"], ref="SUN-1")
    sunday = WEDNESDAY_10H_SP + dt.timedelta(days=4)
    body = await (await api.client.get(_explain_url("SUN-1", sunday), headers=api.sup())).json()
    assert "outside_window" in [r["code"] for r in body["reasons"]]


async def test_explain_paused_campaign_and_naive_time_in_a_zone(api: Api) -> None:
    camp = await new_campaign(api)
    await new_debtor(api, camp["id"], ref="P-1")
    await api.client.post(f"/api/v1/campaigns/{camp['id']}/pause", headers=api.sup())
    resp = await api.client.get(
        "/api/v1/debtors/P-1/explain?at=2025-06-11T10:00:00&tz=America/Sao_Paulo",
        headers=api.sup(),
    )
    body = await resp.json()
    assert body["at"].startswith("2025-06-11T13:00:00")
    assert [r["code"] for r in body["reasons"]] == ["campaign_paused"]


async def test_explain_accepts_an_offset_whose_plus_was_not_encoded(api: Api) -> None:
    camp = await new_campaign(api)
    await new_debtor(api, camp["id"], ref="OFF-1")
    resp = await api.client.get(
        "/api/v1/debtors/OFF-1/explain?at=2025-06-11T10:00:00+03:00", headers=api.sup()
    )
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["at"].startswith("2025-06-11T07:00:00")


async def test_explain_rejects_bad_zone_and_bad_instant(api: Api) -> None:
    camp = await new_campaign(api)
    await new_debtor(api, camp["id"], ref="Z-1")
    resp = await api.client.get(
        "/api/v1/debtors/Z-1/explain?at=2025-06-11T10:00:00&tz=Mars/Olympus", headers=api.sup()
    )
    assert resp.status == 422
    assert [e["field"] for e in (await resp.json())["errors"]] == ["tz"]
    resp = await api.client.get("/api/v1/debtors/Z-1/explain?at=yesterday", headers=api.sup())
    assert resp.status == 422
    assert [e["field"] for e in (await resp.json())["errors"]] == ["at"]
    resp = await api.client.get("/api/v1/debtors/NOPE/explain", headers=api.sup())
    assert resp.status == 404


async def test_get_debtor_with_context(api: Api) -> None:
    camp = await new_campaign(api)
    debtor = await new_debtor(api, camp["id"], ref="CTX-1", amount_cents=25_000)
    attempt_id = await add_attempt(
        api, debtor, WEDNESDAY_10H_SP, outcome="promise", answered_by="human", duration_s=95
    )
    async with api.sessions() as s, s.begin():
        s.add_all(
            [
                CallEvent(attempt_id=attempt_id, kind="status", data={"status": "ringing"}),
                CallEvent(attempt_id=attempt_id, kind="status", data={"status": "completed"}),
                CallEvent(attempt_id=attempt_id, kind="promise", data={}),
                Promise(
                    debt_id=debtor.debts[0].id,
                    attempt_id=attempt_id,
                    promised_date=dt.date(2025, 6, 20),
                    amount_cents=25_000,
                ),
                Callback(debtor_id=debtor.id, due_at=WEDNESDAY_10H_SP + dt.timedelta(days=2)),
            ]
        )
        # Agents read only the debtors of calls transferred to them: this call was.
        ana = await s.scalar(select(User).where(User.username == "ana"))
        assert ana is not None
        agent = await s.scalar(select(Agent).where(Agent.user_id == ana.id))
        assert agent is not None  # an agent user is an agent
        s.add(Transfer(attempt_id=attempt_id, agent_id=agent.id, reason="dispute"))
    for headers in (api.sup(), api.agent()):
        resp = await api.client.get("/api/v1/debtors/CTX-1", headers=headers)
        assert resp.status == 200, await resp.text()
        body = await resp.json()
        assert body["external_ref"] == "CTX-1" and body["timezone"] == "America/Sao_Paulo"
        assert [p["e164"] for p in body["phones"]] == ["+5511987654321"]
        assert [(d["amount_cents"], d["status"], d["paid_cents"]) for d in body["debts"]] == [
            (25_000, "open", 0)
        ]
        assert [(p["promised_date"], p["status"]) for p in body["promises"]] == [
            ("2025-06-20", "open")
        ]
        assert [c["status"] for c in body["callbacks"]] == ["pending"]
        (attempt,) = body["recent_attempts"]
        assert (attempt["outcome"], attempt["answered_by"], attempt["duration_s"]) == (
            "promise",
            "human",
            95,
        )
        assert attempt["events"]["count"] == 3
        assert attempt["events"]["kinds"] == {"promise": 1, "status": 2}
        assert attempt["events"]["first_at"] is not None
    resp = await api.client.get("/api/v1/debtors/UNKNOWN", headers=api.sup())
    assert resp.status == 404


async def test_attempts_filtered_by_debtor_with_limit(api: Api) -> None:
    camp = await new_campaign(api)
    a = await new_debtor(api, camp["id"], ref="A-1")
    b = await new_debtor(api, camp["id"], ref="B-1", phone="+5511987654322")
    for i in range(3):
        await add_attempt(api, a, WEDNESDAY_10H_SP - dt.timedelta(days=i), outcome="voicemail")
    await add_attempt(api, b, WEDNESDAY_10H_SP)
    resp = await api.client.get("/api/v1/attempts?debtor=A-1&limit=2", headers=api.sup())
    items = (await resp.json())["items"]
    assert [i["debtor_ref"] for i in items] == ["A-1", "A-1"]
    assert items[0]["claimed_at"] > items[1]["claimed_at"]  # newest first
    assert all(i["outcome"] == "voicemail" and i["status"] == "completed" for i in items)
    everything = (await (await api.client.get("/api/v1/attempts", headers=api.sup())).json())[
        "items"
    ]
    assert sorted(i["debtor_ref"] for i in everything) == ["A-1", "A-1", "A-1", "B-1"]
    resp = await api.client.get("/api/v1/attempts?limit=0", headers=api.sup())
    assert resp.status == 422 and (await resp.json())["errors"][0]["field"] == "limit"
    resp = await api.client.get("/api/v1/attempts", headers=api.agent())
    assert resp.status == 403


async def test_attempts_show_whether_the_call_was_recorded(api: Api) -> None:
    camp = await new_campaign(api)
    d = await new_debtor(api, camp["id"], ref="R-1")
    recorded = await add_attempt(api, d, WEDNESDAY_10H_SP)
    await add_attempt(api, d, WEDNESDAY_10H_SP - dt.timedelta(days=1))
    async with api.sessions() as s, s.begin():
        await s.execute(
            update(CallAttempt)
            .where(CallAttempt.id == recorded)
            .values(
                recording_sid="RE" + "c" * 32,
                recording_status="completed",
                recording_duration_s=61,
                recording_url="https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
                recording_started_at=WEDNESDAY_10H_SP,
            )
        )
    resp = await api.client.get("/api/v1/attempts?debtor=R-1", headers=api.sup())
    newest, older = (await resp.json())["items"]
    assert newest["recording"] == {
        "sid": "RE" + "c" * 32,
        "status": "completed",
        "duration_s": 61,
        "started_at": newest["recording"]["started_at"],
        "deleted_at": None,
    }
    assert newest["recording"]["started_at"].startswith(WEDNESDAY_10H_SP.date().isoformat())
    assert "url" not in newest["recording"]  # where it is stays with the service
    assert older["recording"] is None


async def test_explain_has_an_sms_section(api: Api) -> None:
    camp = await new_campaign(api)
    debtor = await new_debtor(api, camp["id"], ref="SMS-1")
    body = await (await api.client.get(_explain_url("SMS-1"), headers=api.sup())).json()
    sms = body["sms"]
    assert sms["allowed"] is True and sms["reasons"] == [], sms
    assert sms["purpose"] == "reminder" and sms["to_number"] == "+5511987654321"
    assert sms["sent_today"] == 0 and sms["daily_cap"] == 1

    async with api.sessions() as s, s.begin():
        await s.execute(
            update(Debtor)
            .where(Debtor.id == debtor.id)
            .values(sms_opted_out_at=WEDNESDAY_10H_SP - dt.timedelta(days=1))
        )
    late = WEDNESDAY_10H_SP + dt.timedelta(hours=11)  # 21:00 local
    body = await (await api.client.get(_explain_url("SMS-1", late), headers=api.sup())).json()
    assert body["callable"] is False
    sms = body["sms"]
    assert sms["allowed"] is False and sms["next_at"] is None
    assert [r["code"] for r in sms["reasons"]] == ["sms_opted_out", "outside_window"]
    assert all(r["message"] for r in sms["reasons"])
