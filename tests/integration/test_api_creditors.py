"""The creditors API: spoken forms per locale, validated, and what calls will say."""

from __future__ import annotations

from typing import Any

from ivr.store.creditors import spoken_form
from tests.support.api import Api, new_campaign, new_debtor

C = "/api/v1/creditors"
HORIZONTE = "/api/v1/creditors/Banco%20Horizonte%20S%2FA"  # "Banco Horizonte S/A"


async def test_put_sets_the_forms_and_calls_use_them(api: Api) -> None:
    body = {"spoken": {"pt-BR": " do  Banco Horizonte ", "en-US": "Horizon Bank"}}
    resp = await api.client.put(HORIZONTE, json=body, headers=api.sup())
    assert resp.status == 200, await resp.text()
    out: dict[str, Any] = await resp.json()
    assert out == {
        "name": "Banco Horizonte S/A",
        "spoken": {"pt-BR": "do Banco Horizonte", "en-US": "Horizon Bank"},
        "said": {"pt-BR": "do Banco Horizonte", "en-US": "Horizon Bank"},
        "debts": 0,
        "pix": None,
    }
    async with api.sessions() as s:
        assert await spoken_form(s, "Banco Horizonte S/A", "pt-BR") == "do Banco Horizonte"

    # PUT replaces: a locale left out falls back to the derived form.
    resp = await api.client.put(
        HORIZONTE, json={"spoken": {"pt-BR": "do Horizonte"}}, headers=api.sup()
    )
    out = await resp.json()
    assert out["spoken"] == {"pt-BR": "do Horizonte"}
    assert out["said"] == {"pt-BR": "do Horizonte", "en-US": "Banco Horizonte"}  # no "S/A"
    resp = await api.client.get(HORIZONTE, headers=api.sup())
    assert resp.status == 200 and (await resp.json())["spoken"] == {"pt-BR": "do Horizonte"}


async def test_a_creditor_of_imported_debts_shows_the_derived_form(api: Api) -> None:
    camp = await new_campaign(api)
    await new_debtor(api, camp["id"], ref="CR-1")  # owed to "Loja Exemplo"
    resp = await api.client.get(f"{C}/Loja%20Exemplo", headers=api.sup())
    assert resp.status == 200, await resp.text()
    assert await resp.json() == {
        "name": "Loja Exemplo",
        "spoken": {},
        "said": {"pt-BR": "de Loja Exemplo", "en-US": "Loja Exemplo"},
        "debts": 1,
        "pix": None,
    }
    await api.client.put(HORIZONTE, json={"spoken": {"pt-BR": "do Banco"}}, headers=api.sup())
    resp = await api.client.get(C, headers=api.sup())
    names = [(c["name"], c["debts"]) for c in (await resp.json())["items"]]
    assert names == [("Banco Horizonte S/A", 0), ("Loja Exemplo", 1)]
    resp = await api.client.get(C, params={"limit": "1"}, headers=api.sup())
    assert [c["name"] for c in (await resp.json())["items"]] == ["Banco Horizonte S/A"]


async def test_unknown_creditor_is_404(api: Api) -> None:
    resp = await api.client.get(f"{C}/Nobody", headers=api.sup())
    assert resp.status == 404 and "Nobody" in (await resp.json())["error"]


async def test_bad_forms_are_422_naming_the_locale(api: Api) -> None:
    cases = [
        ({"spoken": {"pt-BR": "Banco Horizonte"}}, "spoken.pt-BR", "de, da, do, das or dos"),
        ({"spoken": {"en-US": "of Horizon Bank"}}, "spoken.en-US", 'without "of"'),
        ({"spoken": {"en-US": " =cmd"}}, "spoken.en-US", "formula"),
        ({"spoken": {"en-US": " "}}, "spoken.en-US", "empty"),
        ({"spoken": {"fr-FR": "de la Banque"}}, "spoken.fr-FR", "'pt-BR' or 'en-US'"),
        ({"spoken": {"pt-BR": "do Banco"}, "extra": 1}, "extra", ""),
        ({}, "spoken", "required"),
    ]
    for body, field, reason in cases:
        resp = await api.client.put(HORIZONTE, json=body, headers=api.sup())
        assert resp.status == 422, body
        errors = (await resp.json())["errors"]
        assert any(e["field"].startswith(field) and reason in e["reason"] for e in errors), errors


async def test_the_name_is_checked_and_only_supervisors_set_forms(api: Api) -> None:
    resp = await api.client.put(
        f"{C}/%3DHYPERLINK", json={"spoken": {"pt-BR": "do Banco"}}, headers=api.sup()
    )
    assert resp.status == 422 and (await resp.json())["errors"][0]["field"] == "name"
    resp = await api.client.put(
        HORIZONTE, json={"spoken": {"pt-BR": "do Banco"}}, headers=api.agent()
    )
    assert resp.status == 403
    resp = await api.client.get(HORIZONTE)
    assert resp.status == 401


async def test_the_operations_are_in_the_openapi_document(api: Api) -> None:
    doc = await (await api.client.get("/api/openapi.json")).json()
    one = doc["paths"]["/api/v1/creditors/{name}"]
    assert {"get", "put"} <= set(one) and "get" in doc["paths"]["/api/v1/creditors"]
    body_ref = one["put"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = doc["components"]["schemas"][body_ref.rsplit("/", 1)[1]]
    assert "spoken" in body["required"] and body["additionalProperties"] is False
    assert set(one["put"]["responses"]) >= {"200", "401", "403", "422"}
