"""The audit log: campaign changes with before -> after, written in the change's transaction,
filtered and paged for supervisors only."""

from __future__ import annotations

from typing import Any

from ivr.store.audit import diff, record_audit
from ivr.vocab.audit import AuditAction, AuditEntity
from tests.support.api import Api, new_campaign


async def _audit(api: Api, **query: str) -> dict[str, Any]:
    resp = await api.client.get("/api/v1/audit", params=query, headers=api.sup())
    assert resp.status == 200, await resp.text()
    body: dict[str, Any] = await resp.json()
    return body


async def test_a_campaign_edit_is_logged_with_before_and_after(api: Api) -> None:
    camp = await new_campaign(api, daily_cap=2, weekly_cap=7)
    cid = str(camp["id"])
    resp = await api.client.patch(
        f"/api/v1/campaigns/{cid}",
        json={"daily_cap": 3, "min_gap_minutes": 300, "name": camp["name"]},
        headers=api.sup(),
    )
    assert resp.status == 200, await resp.text()
    await api.client.post(f"/api/v1/campaigns/{cid}/pause", headers=api.sup())
    windows = [{"weekday": 0, "start": "09:00", "end": "12:00"}]
    resp = await api.client.put(
        f"/api/v1/campaigns/{cid}/windows", json={"windows": windows}, headers=api.sup()
    )
    assert resp.status == 200, await resp.text()
    page = await _audit(api, entity="campaign", entity_id=cid)
    assert [e["action"] for e in page["items"]] == ["pause", "update", "create"]
    pause, update, create = page["items"]
    assert update["username"] == "sofia"
    # Only what changed; the name sent unchanged is not there.
    assert update["changes"] == {"daily_cap": [2, 3], "min_gap_minutes": [240, 300]}
    assert pause["changes"] == {"active": [True, False]}
    assert create["changes"]["daily_cap"] == [None, 2]
    win = (await _audit(api, entity="campaign_window", entity_id=cid))["items"]
    assert [e["action"] for e in win] == ["replace"]
    before, after = win[0]["changes"]["windows"]
    assert len(before) > 1 and after == windows
    # A change that changed nothing writes nothing.
    resp = await api.client.patch(
        f"/api/v1/campaigns/{cid}", json={"daily_cap": 3}, headers=api.sup()
    )
    assert resp.status == 200
    assert (await _audit(api, entity="campaign", entity_id=cid))["total"] == 3


async def test_a_refused_change_leaves_no_entry(api: Api) -> None:
    camp = await new_campaign(api)
    cid = str(camp["id"])
    resp = await api.client.patch(
        f"/api/v1/campaigns/{cid}", json={"daily_cap": 9, "weekly_cap": 3}, headers=api.sup()
    )
    assert resp.status == 422
    assert [
        e["action"] for e in (await _audit(api, entity="campaign", entity_id=cid))["items"]
    ] == ["create"]


async def test_filters_paging_and_who_may_read(api: Api) -> None:
    async with api.sessions() as s, s.begin():
        for i in range(5):
            await record_audit(
                s, None, AuditEntity.DNC, f"+551199999000{i}", AuditAction.ADD, None, {"n": i}
            )
    page = await _audit(api, entity="dnc", limit="2", offset="1")
    assert page["total"] == 5 and page["limit"] == 2
    assert [e["changes"]["n"][1] for e in page["items"]] == [3, 2]  # newest first
    assert (await _audit(api, user="nobody"))["total"] == 0
    assert (await _audit(api, **{"from": "2099-01-01T00:00:00Z"}))["total"] == 0
    assert (await _audit(api, to="2000-01-02T00:00:00Z"))["total"] == 0
    assert (await _audit(api, entity="dnc", **{"from": "2000-01-01"}))["total"] == 5
    resp = await api.client.get("/api/v1/audit?entity=spaceship", headers=api.sup())
    assert resp.status == 422
    assert (await resp.json())["errors"][0]["field"] == "entity"
    resp = await api.client.get("/api/v1/audit?limit=100000", headers=api.sup())
    assert resp.status == 422 and (await resp.json())["errors"][0]["field"] == "limit"
    assert (await api.client.get("/api/v1/audit", headers=api.agent())).status == 403


async def test_an_entry_rolls_back_with_its_change(api: Api) -> None:
    try:
        async with api.sessions() as s, s.begin():
            await record_audit(s, None, AuditEntity.CAMPAIGN, 1, AuditAction.PAUSE)
            raise RuntimeError("the change failed")
    except RuntimeError:
        pass
    assert (await _audit(api, entity="campaign"))["total"] == 0


def test_diff_keeps_changes_only_and_never_a_secret() -> None:
    import datetime as dt
    from decimal import Decimal

    got = diff(
        {"a": 1, "b": dt.date(2026, 9, 30), "password_hash": "scrypt$x", "api_key": "k"},
        {"a": 1, "b": dt.date(2026, 10, 1), "c": Decimal("1.50"), "session_token": "t"},
    )
    assert got == {"b": ["2026-09-30", "2026-10-01"], "c": [None, "1.50"]}
