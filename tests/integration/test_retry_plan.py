"""A campaign's retry plan for busy, no-answer and failed calls, on SQLite and PostgreSQL.

The plan is a campaign setting (minutes after the 1st, 2nd, ... unsuccessful
attempt in a row; the last repeats). It is a rule of the rule book: the
claim never takes the debtor before the retry time, ``explain`` says
``retry_wait`` with that time, the planner's hint (``next_attempt_at``) is
set to it, and windows and caps still apply on top.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from ivr.store.models import AttemptStatus, Debtor
from scheduler.claim import claim_batch
from tests.support.api import WEDNESDAY_10H_SP, Api, add_attempt, new_campaign, new_debtor

C = "/api/v1/campaigns"
T0 = WEDNESDAY_10H_SP  # 10:00 in São Paulo, inside the default window (08:00-20:00)


def _explain_url(ref: str, at: dt.datetime) -> str:
    return f"/api/v1/debtors/{ref}/explain?at={at.isoformat().replace('+00:00', 'Z')}"


async def _explain(api: Api, ref: str, at: dt.datetime) -> dict[str, Any]:
    resp = await api.client.get(_explain_url(ref, at), headers=api.sup())
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())


def _at(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))


async def test_the_plan_is_a_campaign_setting_in_the_api(api: Api) -> None:
    camp = await new_campaign(api, retry_delays_minutes=[30, 120])
    assert camp["retry_delays_minutes"] == [30, 120]
    plain = await new_campaign(api)
    assert plain["retry_delays_minutes"] == []
    resp = await api.client.patch(
        f"{C}/{plain['id']}", json={"retry_delays_minutes": [15]}, headers=api.sup()
    )
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["retry_delays_minutes"] == [15]
    doc = await (await api.client.get("/api/openapi.json", headers=api.sup())).json()
    schemas = doc["components"]["schemas"]
    for name in ("CampaignCreate", "CampaignUpdate", "CampaignOut"):
        assert "retry_delays_minutes" in schemas[name]["properties"], name


@pytest.mark.parametrize(
    ("value", "field", "reason_part"),
    [
        ([0], "retry_delays_minutes[0]", "greater than or equal to 1"),
        ([30, 20000], "retry_delays_minutes[1]", "less than or equal to 10080"),
        (list(range(1, 12)), "retry_delays_minutes", "at most 10"),
        (["soon"], "retry_delays_minutes[0]", "integer"),
        ("30", "retry_delays_minutes", "list"),
    ],
)
async def test_a_bad_plan_is_refused_naming_the_field(
    api: Api, value: object, field: str, reason_part: str
) -> None:
    camp = await new_campaign(api)
    for method, url, body in (
        ("POST", C, {"name": "bad-plan", "retry_delays_minutes": value}),
        ("PATCH", f"{C}/{camp['id']}", {"retry_delays_minutes": value}),
    ):
        resp = await api.client.request(method, url, json=body, headers=api.sup())
        assert resp.status == 422, await resp.text()
        errors = (await resp.json())["errors"]
        assert field in [e["field"] for e in errors], errors
        reason = next(e["reason"] for e in errors if e["field"] == field)
        assert reason_part.lower() in reason.lower(), reason


async def test_busy_then_no_answer_wait_30_min_then_2_h(api: Api) -> None:
    camp = await new_campaign(api, retry_delays_minutes=[30, 120], min_gap_minutes=0, daily_cap=5)
    debtor = await new_debtor(api, camp["id"], ref="RETRY-1")
    await add_attempt(api, debtor, T0, status=AttemptStatus.BUSY, outcome=None)
    ended = T0 + dt.timedelta(minutes=1)  # add_attempt ends a call one minute after its claim

    body = await _explain(api, "RETRY-1", T0 + dt.timedelta(minutes=10))
    assert body["callable"] is False
    assert [r["code"] for r in body["reasons"]] == ["retry_wait"]
    reason = body["reasons"][0]
    assert _at(reason["until"]) == ended + dt.timedelta(minutes=30)
    assert reason["detail"]["attempts_in_a_row"] == 1
    assert reason["detail"]["last_status"] == "busy"
    assert reason["overridable"] is True
    assert _at(body["next_check_at"]) == ended + dt.timedelta(minutes=30)
    assert (await _explain(api, "RETRY-1", ended + dt.timedelta(minutes=30)))["callable"] is True

    # The second unsuccessful attempt in a row waits the plan's second delay.
    second = T0 + dt.timedelta(minutes=40)
    await add_attempt(api, debtor, second, status=AttemptStatus.NO_ANSWER, outcome=None)
    body = await _explain(api, "RETRY-1", second + dt.timedelta(minutes=31))
    assert [r["code"] for r in body["reasons"]] == ["retry_wait"]
    assert _at(body["reasons"][0]["until"]) == second + dt.timedelta(minutes=121)
    # The last delay repeats.
    third = second + dt.timedelta(minutes=130)
    await add_attempt(api, debtor, third, status=AttemptStatus.FAILED, outcome=None)
    body = await _explain(api, "RETRY-1", third + dt.timedelta(minutes=60))
    assert _at(body["reasons"][0]["until"]) == third + dt.timedelta(minutes=121)
    assert body["reasons"][0]["detail"]["attempts_in_a_row"] == 3


async def test_an_answered_call_ends_the_streak_and_cancelled_claims_do_not_count(
    api: Api,
) -> None:
    camp = await new_campaign(api, retry_delays_minutes=[30, 120], min_gap_minutes=0, daily_cap=5)
    debtor = await new_debtor(api, camp["id"], ref="RETRY-2")
    await add_attempt(api, debtor, T0 - dt.timedelta(hours=2), status=AttemptStatus.BUSY)
    await add_attempt(api, debtor, T0 - dt.timedelta(hours=1), status=AttemptStatus.COMPLETED)
    await add_attempt(api, debtor, T0, status=AttemptStatus.NO_ANSWER, outcome=None)
    await add_attempt(
        api, debtor, T0 + dt.timedelta(minutes=5), status=AttemptStatus.CANCELED, placed=False
    )
    body = await _explain(api, "RETRY-2", T0 + dt.timedelta(minutes=10))
    reason = next(r for r in body["reasons"] if r["code"] == "retry_wait")
    assert reason["detail"]["attempts_in_a_row"] == 1  # the first delay again
    assert _at(reason["until"]) == T0 + dt.timedelta(minutes=31)
    # Without a plan, a busy call leaves only the caps and the minimum gap.
    plain = await new_campaign(api, min_gap_minutes=0)
    other = await new_debtor(api, plain["id"], ref="RETRY-3")
    await add_attempt(api, other, T0, status=AttemptStatus.BUSY, outcome=None)
    assert (await _explain(api, "RETRY-3", T0 + dt.timedelta(minutes=2)))["callable"] is True


async def test_the_retry_time_stays_inside_windows_and_caps(api: Api) -> None:
    # A busy call at 19:30 local: 30 minutes later is 20:00, the window's end;
    # the next allowed instant is 08:00 the next morning.
    camp = await new_campaign(api, retry_delays_minutes=[30], min_gap_minutes=0, daily_cap=5)
    debtor = await new_debtor(api, camp["id"], ref="RETRY-4")
    evening = T0 + dt.timedelta(hours=9, minutes=30)  # 19:30 in São Paulo
    await add_attempt(api, debtor, evening, status=AttemptStatus.BUSY, outcome=None)
    body = await _explain(api, "RETRY-4", evening + dt.timedelta(minutes=5))
    assert "retry_wait" in [r["code"] for r in body["reasons"]]
    assert _at(body["next_check_at"]) == T0 + dt.timedelta(hours=22)  # 08:00 next day, local
    later = await _explain(api, "RETRY-4", evening + dt.timedelta(minutes=31))
    assert [r["code"] for r in later["reasons"]] == ["outside_window"]

    # A longer gap or the daily cap wins over a shorter retry delay.
    strict = await new_campaign(api, retry_delays_minutes=[30], min_gap_minutes=240, daily_cap=5)
    d2 = await new_debtor(api, strict["id"], ref="RETRY-5")
    await add_attempt(api, d2, T0, status=AttemptStatus.BUSY, outcome=None)
    body = await _explain(api, "RETRY-5", T0 + dt.timedelta(minutes=45))
    assert [r["code"] for r in body["reasons"]] == ["min_gap"]
    assert _at(body["next_check_at"]) == T0 + dt.timedelta(hours=4)


async def test_the_claim_waits_for_the_retry_time_and_sets_the_hint(api: Api) -> None:
    camp = await new_campaign(api, retry_delays_minutes=[30, 120], min_gap_minutes=0, daily_cap=5)
    debtor = await new_debtor(api, camp["id"], ref="RETRY-6")
    await add_attempt(api, debtor, T0, status=AttemptStatus.NO_ANSWER, outcome=None)
    retry_at = T0 + dt.timedelta(minutes=31)

    early = await claim_batch(api.sessions, T0 + dt.timedelta(minutes=5), 10, "w")
    assert early == []
    async with api.sessions() as s:
        hint = await s.scalar(select(Debtor.next_attempt_at).where(Debtor.id == debtor.id))
    assert hint == retry_at
    assert await claim_batch(api.sessions, retry_at - dt.timedelta(seconds=1), 10, "w") == []
    claims = await claim_batch(api.sessions, retry_at, 10, "w")
    assert [c.debtor_id for c in claims] == [debtor.id]
