"""What a promise for a weekend or holiday becomes is a campaign setting: in
the API (validated, documented), in the database, and in the call's context,
on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from ivr.calls.context import load_call_setup
from ivr.vocab.debts import ClosedDayPromise
from tests.support.api import WEDNESDAY_10H_SP, Api, add_attempt, new_campaign, new_debtor

C = "/api/v1/campaigns"


async def test_the_default_moves_a_closed_day_and_a_campaign_may_accept_it(api: Api) -> None:
    plain = await new_campaign(api)
    assert plain["promise_on_closed_day"] == "next_business_day"
    accepting = await new_campaign(api, promise_on_closed_day="accept")
    assert accepting["promise_on_closed_day"] == "accept"
    resp = await api.client.patch(
        f"{C}/{accepting['id']}",
        json={"promise_on_closed_day": "next_business_day"},
        headers=api.sup(),
    )
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["promise_on_closed_day"] == "next_business_day"


@pytest.mark.parametrize("value", ["saturday", None, 1])
async def test_an_unknown_choice_is_refused_naming_the_field(api: Api, value: object) -> None:
    camp = await new_campaign(api)
    for method, url, body in (
        ("POST", C, {"name": "closed-days", "promise_on_closed_day": value}),
        ("PATCH", f"{C}/{camp['id']}", {"promise_on_closed_day": value}),
    ):
        resp = await api.client.request(method, url, json=body, headers=api.sup())
        assert resp.status == 422, await resp.text()
        errors = (await resp.json())["errors"]
        assert "promise_on_closed_day" in [e["field"] for e in errors], errors


async def test_the_setting_is_in_the_openapi_document(api: Api) -> None:
    doc = await (await api.client.get("/api/openapi.json", headers=api.sup())).json()
    schemas = doc["components"]["schemas"]
    for name in ("CampaignCreate", "CampaignUpdate", "CampaignOut"):
        assert "promise_on_closed_day" in schemas[name]["properties"], name
    text = str(schemas)
    assert "accept" in text and "next_business_day" in text


@pytest.mark.parametrize("choice", list(ClosedDayPromise))
async def test_the_setting_and_the_debtor_calendar_reach_the_call(
    api: Api, choice: ClosedDayPromise
) -> None:
    camp = await new_campaign(api, promise_on_closed_day=choice.value)
    debtor = await new_debtor(api, camp["id"])
    attempt_id = await add_attempt(api, debtor, WEDNESDAY_10H_SP, outcome=None)
    async with api.sessions() as s:
        setup = await load_call_setup(s, attempt_id)
    assert setup is not None
    ctx = setup.context
    assert ctx.promise_on_closed_day == choice
    assert (ctx.country, ctx.region) == ("BR", "SP")
