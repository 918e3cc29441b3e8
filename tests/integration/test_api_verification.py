"""The API side of verification: a campaign's policy, a warning for a company
name that reveals a debt, and the supervisors' review list of reported deaths."""

from __future__ import annotations

import datetime as dt

from ivr.store.models import CallAttempt
from ivr.store.queries import record_number_opt_out
from ivr.store.reviews import record_deceased
from tests.support.api import WEDNESDAY_10H_SP, Api, add_attempt, new_campaign, new_debtor


async def test_a_campaign_chooses_its_verification_policy(api: Api) -> None:
    plain = await new_campaign(api)
    assert plain["verification_policy"] == "name" and plain["warnings"] == []
    strict = await new_campaign(api, verification_policy="name_and_factor")
    assert strict["verification_policy"] == "name_and_factor"
    url = f"/api/v1/campaigns/{plain['id']}"
    resp = await api.client.patch(
        url, json={"verification_policy": "name_and_factor"}, headers=api.sup()
    )
    assert resp.status == 200 and (await resp.json())["verification_policy"] == "name_and_factor"
    resp = await api.client.patch(url, json={"verification_policy": "birthday"}, headers=api.sup())
    assert resp.status == 422
    errors = (await resp.json())["errors"]
    assert [e["field"] for e in errors] == ["verification_policy"]


async def test_a_company_name_that_reveals_a_debt_is_accepted_with_a_warning(api: Api) -> None:
    camp = await new_campaign(api, company_name="Cobrança Rápida Ltda")
    assert camp["company_name"] == "Cobrança Rápida Ltda"
    [warning] = camp["warnings"]
    assert warning["field"] == "company_name" and "'cobrança'" in warning["message"]
    url = f"/api/v1/campaigns/{camp['id']}"
    # The warning stays on every read while the name does.
    assert (await (await api.client.get(url, headers=api.sup())).json())["warnings"] == [warning]
    for name, words in [
        ("ABC Collections", ["collections"]),
        ("Recuperadora de Crédito Sul", ["recuperadora"]),
        ("Debt Recovery Partners", ["recovery", "debt"]),
    ]:
        resp = await api.client.patch(url, json={"company_name": name}, headers=api.sup())
        assert resp.status == 200
        [warning] = (await resp.json())["warnings"]
        for word in words:
            assert repr(word) in warning["message"], (name, warning)
    resp = await api.client.patch(url, json={"company_name": "Central Aurora"}, headers=api.sup())
    assert (await resp.json())["warnings"] == []


async def test_supervisors_see_reported_deaths_and_the_debtor_shows_the_status(api: Api) -> None:
    camp = await new_campaign(api)
    debtor = await new_debtor(api, camp["id"], ref="DEAD-1")
    await new_debtor(api, camp["id"], ref="ALIVE-1", phone="+5511976543210")
    attempt_id = await add_attempt(api, debtor, WEDNESDAY_10H_SP - dt.timedelta(hours=1))
    async with api.sessions() as s, s.begin():
        attempt = await s.get(CallAttempt, attempt_id)
        assert attempt is not None
        await record_deceased(s, attempt)
        await record_number_opt_out(s, attempt)

    resp = await api.client.get("/api/v1/reviews", headers=api.sup())
    assert resp.status == 200
    [item] = (await resp.json())["items"]
    assert item["kind"] == "deceased" and item["debtor_ref"] == "DEAD-1"
    assert item["debtor_status"] == "deceased_review"
    assert item["attempt_id"] == attempt_id and item["reported_on"] == "+5511987654321"
    assert item["reported_at"]
    assert (await api.client.get("/api/v1/reviews", headers=api.agent())).status == 403

    body = await (await api.client.get("/api/v1/debtors/DEAD-1", headers=api.sup())).json()
    assert body["status"] == "deceased_review"
    assert body["phones"][0]["opted_out_at"] is not None
    other = await (await api.client.get("/api/v1/debtors/ALIVE-1", headers=api.sup())).json()
    assert other["status"] == "active" and other["phones"][0]["opted_out_at"] is None
    url = f"/api/v1/debtors/DEAD-1/explain?at={WEDNESDAY_10H_SP.isoformat()[:19]}Z"
    explained = await (await api.client.get(url, headers=api.sup())).json()
    assert explained["callable"] is False
    codes = {r["code"]: r for r in explained["reasons"]}
    assert "deceased_review" in codes and codes["deceased_review"]["overridable"] is False
