"""Campaign endpoints over a real database: CRUD, windows, pause/resume and every 422."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from ivr.store.models import AttemptStatus, CallAttempt, CallWindow
from tests.support.api import WEDNESDAY_10H_SP, Api, add_attempt, new_campaign, new_debtor

C = "/api/v1/campaigns"


async def _errors(resp: Any) -> list[dict[str, str]]:
    assert resp.status == 422, await resp.text()
    body = await resp.json()
    assert set(body) == {"errors"}
    return list(body["errors"])


async def test_create_gets_country_default_windows(api: Api) -> None:
    br = await new_campaign(api, country="BR")
    us = await new_campaign(api, country="US", locale="en-US")
    assert br["active"] is True and br["daily_cap"] == 2 and br["weekly_cap"] == 7
    br_days = {(w["weekday"], w["start"], w["end"]) for w in br["windows"]}
    assert br_days == {(d, "08:00", "20:00") for d in range(5)} | {(5, "08:00", "14:00")}
    us_days = {(w["weekday"], w["start"], w["end"]) for w in us["windows"]}
    assert us_days == {(d, "08:00", "21:00") for d in range(7)}
    async with api.sessions() as s:
        stored = (
            await s.scalars(select(CallWindow).where(CallWindow.campaign_id == br["id"]))
        ).all()
    assert len(stored) == 6


async def test_crud_round_trip(api: Api) -> None:
    created = await new_campaign(
        api,
        name="Carteira Junho",
        windows=[{"weekday": 0, "start": "09:00", "end": "12:00"}],
        daily_cap=1,
        weekly_cap=3,
        blocked_dates=["2025-12-24", "2025-12-24", "2025-12-31"],
        callback_number="+55 11 3003-1234",
    )
    cid = created["id"]
    assert created["callback_number"] == "+551130031234"
    assert created["blocked_dates"] == ["2025-12-24", "2025-12-31"]

    listed = await (await api.client.get(C, headers=api.sup())).json()
    assert [c["id"] for c in listed["items"]] == [cid]

    resp = await api.client.patch(
        f"{C}/{cid}",
        json={"daily_cap": 2, "min_gap_minutes": 120, "company_name": "Acme", "locale": "en-US"},
        headers=api.sup(),
    )
    assert resp.status == 200, await resp.text()
    got = await (await api.client.get(f"{C}/{cid}", headers=api.sup())).json()
    assert (got["daily_cap"], got["weekly_cap"], got["min_gap_minutes"]) == (2, 3, 120)
    assert (got["company_name"], got["locale"], got["name"]) == ("Acme", "en-US", "Carteira Junho")

    resp = await api.client.put(
        f"{C}/{cid}/windows",
        json={
            "windows": [
                {"weekday": 1, "start": "08:00", "end": "12:00"},
                {"weekday": 1, "start": "14:00", "end": "18:00"},
            ]
        },
        headers=api.sup(),
    )
    assert resp.status == 200, await resp.text()
    wins = (await resp.json())["windows"]
    assert [(w["weekday"], w["start"], w["end"]) for w in wins] == [
        (1, "08:00", "12:00"),
        (1, "14:00", "18:00"),
    ]
    async with api.sessions() as s:
        rows = (await s.scalars(select(CallWindow).where(CallWindow.campaign_id == cid))).all()
    assert sorted((w.weekday, w.start.hour) for w in rows) == [(1, 8), (1, 14)]

    resp = await api.client.put(
        f"{C}/{cid}/blocked-dates", json={"dates": ["2026-01-02"]}, headers=api.sup()
    )
    assert (await resp.json())["blocked_dates"] == ["2026-01-02"]


async def test_pause_resume_and_pause_cancels_unplaced_claims(api: Api) -> None:
    camp = await new_campaign(api)
    debtor = await new_debtor(api, camp["id"])
    claimed = await add_attempt(
        api, debtor, WEDNESDAY_10H_SP, status=AttemptStatus.CLAIMED, outcome=None, placed=False
    )
    resp = await api.client.post(f"{C}/{camp['id']}/pause", headers=api.sup())
    assert resp.status == 200 and (await resp.json())["active"] is False
    async with api.sessions() as s:
        attempt = await s.get(CallAttempt, claimed)
        assert attempt is not None and attempt.status is AttemptStatus.CANCELED
    resp = await api.client.post(f"{C}/{camp['id']}/resume", headers=api.sup())
    assert resp.status == 200 and (await resp.json())["active"] is True


async def test_missing_campaign_is_404_and_duplicate_name_is_409(api: Api) -> None:
    resp = await api.client.get(f"{C}/999", headers=api.sup())
    assert resp.status == 404 and "error" in await resp.json()
    await new_campaign(api, name="same")
    resp = await api.client.post(C, json={"name": "same"}, headers=api.sup())
    assert resp.status == 409


async def test_body_that_is_not_json_is_400(api: Api) -> None:
    resp = await api.client.post(C, data=b"{not json", headers=api.sup())
    assert resp.status == 400


def _win(weekday: Any = 0, start: str = "09:00", end: str = "12:00") -> dict[str, Any]:
    return {"weekday": weekday, "start": start, "end": end}


@pytest.mark.parametrize(
    ("body", "field", "reason_part"),
    [
        ({"windows": [_win(start="12:00", end="09:00")]}, "windows[0].end", "after start"),
        ({"windows": [_win(start="10:00", end="10:00")]}, "windows[0].end", "after start"),
        ({"windows": [_win(weekday=7)]}, "windows[0].weekday", "less than or equal to 6"),
        ({"windows": [_win(weekday=-1)]}, "windows[0].weekday", "greater than or equal to 0"),
        (
            {"windows": [_win(1, "09:00", "12:00"), _win(1, "11:00", "13:00")]},
            "windows[1]",
            "overlaps windows[0]",
        ),
        ({"windows": [_win(0, "07:00", "10:00")]}, "windows[0]", "default calling hours"),
        ({"windows": [_win(6, "09:00", "12:00")]}, "windows[0]", "no default calling hours"),
        ({"windows": [_win(0, "19:00", "24:00")]}, "windows[0]", "default calling hours"),
        ({"daily_cap": 0}, "daily_cap", "greater than or equal to 1"),
        ({"weekly_cap": 0}, "weekly_cap", "greater than or equal to 1"),
        ({"max_concurrent_calls": 0}, "max_concurrent_calls", "greater than or equal to 1"),
        ({"daily_cap": 3, "weekly_cap": 2}, "weekly_cap", "at least daily_cap"),
        ({"locale": "fr-FR"}, "locale", "unknown locale"),
        ({"country": "AR"}, "country", "unknown country"),
        ({"callback_number": "12"}, "callback_number", "E.164"),
        ({"blocked_dates": ["2025-02-30"]}, "blocked_dates[0]", "date"),
        ({"dailycap": 1}, "dailycap", "not permitted"),
    ],
)
async def test_create_rejects_with_field_and_reason(
    api: Api, body: dict[str, Any], field: str, reason_part: str
) -> None:
    resp = await api.client.post(C, json={"name": "x", **body}, headers=api.sup())
    errors = await _errors(resp)
    assert field in [e["field"] for e in errors], errors
    reason = next(e["reason"] for e in errors if e["field"] == field)
    assert reason_part.lower() in reason.lower(), reason


async def test_outside_defaults_allowed_on_purpose_and_midnight_end(api: Api) -> None:
    camp = await new_campaign(
        api,
        windows=[_win(6, "10:00", "12:00"), _win(2, "20:00", "00:00")],
        allow_outside_defaults=True,
    )
    assert [(w["weekday"], w["start"], w["end"]) for w in camp["windows"]] == [
        (2, "20:00", "24:00"),
        (6, "10:00", "12:00"),
    ]


async def test_put_windows_validates(api: Api) -> None:
    camp = await new_campaign(api)
    url = f"{C}/{camp['id']}/windows"
    resp = await api.client.put(url, json={"windows": []}, headers=api.sup())
    assert "windows" in [e["field"] for e in await _errors(resp)]
    resp = await api.client.put(
        url,
        json={"windows": [_win(3, "09:00", "12:00"), _win(3, "08:00", "09:30")]},
        headers=api.sup(),
    )
    assert [e["field"] for e in await _errors(resp)] == ["windows[1]"]
    # Nothing changed on a refused request.
    got = await (await api.client.get(f"{C}/{camp['id']}", headers=api.sup())).json()
    assert len(got["windows"]) == 6


async def test_patch_validates(api: Api) -> None:
    camp = await new_campaign(api, daily_cap=2, weekly_cap=5)
    url = f"{C}/{camp['id']}"
    cases = [
        ({"daily_cap": 0}, "daily_cap"),
        ({"daily_cap": None}, "daily_cap"),
        ({"daily_cap": 6}, "weekly_cap"),  # 6 a day against a weekly cap of 5
        ({"locale": "xx"}, "locale"),
        ({"active": False}, "active"),  # pause and resume have their own endpoints
    ]
    for body, field in cases:
        resp = await api.client.patch(url, json=body, headers=api.sup())
        assert field in [e["field"] for e in await _errors(resp)], body
    got = await (await api.client.get(url, headers=api.sup())).json()
    assert (got["daily_cap"], got["weekly_cap"], got["locale"]) == (2, 5, "pt-BR")


async def test_record_calls_is_on_by_default_and_can_be_turned_off(api: Api) -> None:
    default = await new_campaign(api)
    assert default["record_calls"] is True
    silent = await new_campaign(api, record_calls=False)
    assert silent["record_calls"] is False
    url = f"{C}/{default['id']}"
    resp = await api.client.patch(url, json={"record_calls": False}, headers=api.sup())
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["record_calls"] is False
    resp = await api.client.patch(url, json={"record_calls": None}, headers=api.sup())
    assert "record_calls" in [e["field"] for e in await _errors(resp)]
    resp = await api.client.post(C, json={"name": "x", "record_calls": "maybe"}, headers=api.sup())
    assert "record_calls" in [e["field"] for e in await _errors(resp)]
    got = await (await api.client.get(url, headers=api.sup())).json()
    assert got["record_calls"] is False
