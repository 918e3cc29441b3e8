"""Operations endpoints and what a call leaves in the logs, through the sandbox carrier."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from ivr.demo import keypad_promise
from ivr.keys import OPS
from ivr.sandbox.app import Sandbox
from ivr.sandbox.config import SandboxConfig
from tests.e2e.harness import import_rows, place_call, running_service

NUMBER = "+5511987654321"
TOKEN = "s3cret-metrics-token"


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def _scrape(http: aiohttp.ClientSession, base: str) -> dict:
    async with http.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain")
        return _samples(await r.text())


def _get(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_health_readiness_and_metrics_after_a_call(
    db_url: str, tmp_path: Path, tts_cache: Path, captured: io.StringIO
) -> None:
    async with (
        Sandbox(SandboxConfig(speed=8.0)) as sb,
        running_service(db_url, sb, tts_cache, metrics_token=TOKEN) as svc,
        aiohttp.ClientSession() as http,
    ):
        base = f"http://127.0.0.1:{svc.port}"
        async with http.get(f"{base}/healthz") as r:
            assert r.status == 200
        async with http.get(f"{base}/readyz") as r:
            body = await r.json()
            assert r.status == 200, body
            assert body["ready"] is True and body["failed"] == []
            assert body["checks"]["store"] == "ok"
            assert body["checks"]["model"].startswith("ok")

        # The token: none given or wrong -> 403.
        async with http.get(f"{base}/metrics") as r:
            assert r.status == 403
        async with http.get(f"{base}/metrics", headers={"Authorization": "Bearer nope"}) as r:
            assert r.status == 403
        before = await _scrape(http, base)

        await import_rows(
            svc, tmp_path, [f"OPS-1,Maria Souza,{NUMBER},1234.56,2026-11-01,Loja,pt-BR,SP,,"]
        )
        promise_day = dt.date.today() + dt.timedelta(days=5)
        sb.add_callee(NUMBER, keypad_promise(promise_day))
        sid = await place_call(svc, "OPS-1")
        call = await sb.wait_for_call_end(sid, timeout=120)
        assert call.status == "completed"

        after = await _scrape(http, base)
        moved = {
            "calls completed": _get(after, "ivr_calls_total", status="completed")
            - _get(before, "ivr_calls_total", status="completed"),
            "promise outcomes": _get(after, "ivr_call_outcomes_total", outcome="promise")
            - _get(before, "ivr_call_outcomes_total", outcome="promise"),
            "status webhooks": _get(after, "ivr_webhook_seconds_count", route="/twilio/status")
            - _get(before, "ivr_webhook_seconds_count", route="/twilio/status"),
            "prompt cache": sum(
                _get(after, "ivr_prompt_cache_total", result=r, kind=k)
                - _get(before, "ivr_prompt_cache_total", result=r, kind=k)
                for r in ("hit", "miss")
                for k in ("common", "personal")
            ),
            "turns": _get(after, "ivr_turn_latency_seconds_count")
            - _get(before, "ivr_turn_latency_seconds_count"),
            "import rows": _get(after, "ivr_import_rows_total", result="inserted")
            - _get(before, "ivr_import_rows_total", result="inserted"),
        }
        assert moved["calls completed"] == 1, moved
        assert moved["promise outcomes"] == 1, moved
        assert moved["status webhooks"] >= 3, moved
        assert moved["prompt cache"] >= 4, moved
        assert moved["turns"] >= 2, moved
        assert moved["import rows"] == 1, moved
        assert _get(after, "ivr_agents", presence="available") == 0
        assert ("ivr_queue_length", ()) in after

        # Draining: readiness fails and says why; liveness does not.
        svc.app[OPS].draining = True
        async with http.get(f"{base}/readyz") as r:
            assert r.status == 503
            assert (await r.json())["failed"] == ["draining"]
        async with http.get(f"{base}/healthz") as r:
            assert r.status == 200

    # What the call left in the logs at INFO: ids, never the person.
    lines = [json.loads(x) for x in captured.getvalue().splitlines() if x.strip()]
    text = captured.getvalue()
    assert lines, "the service logs something"
    # Digits are looked for outside each line's own timestamp, whose
    # microseconds once read "081236" (and the promise day was 08/12).
    said = "\n".join(
        json.dumps({k: v for k, v in x.items() if k != "timestamp"}, ensure_ascii=False)
        for x in lines
    )
    for personal in ("Maria", "Souza", "1234.56", "1.234,56", "123456", NUMBER, NUMBER[1:]):
        assert personal not in said, personal
    assert f"{promise_day.day:02d}{promise_day.month:02d}" not in said
    assert "BEGIN Twilio API Request" not in text and "Authorization" not in text
    placed = [x for x in lines if x.get("event") == "call.placed"]
    assert placed and placed[0]["call_sid"] == sid and placed[0].get("attempt_id")
    # Webhook lines carry the request's and the call's ids.
    assert all("request_id" in x for x in lines if str(x.get("logger", "")).startswith("ivr.web"))


async def test_metrics_need_a_configured_token(db_url: str, tts_cache: Path) -> None:
    async with (
        Sandbox(SandboxConfig(speed=8.0)) as sb,
        running_service(db_url, sb, tts_cache) as svc,
        aiohttp.ClientSession() as http,
        http.get(
            f"http://127.0.0.1:{svc.port}/metrics", headers={"Authorization": "Bearer x"}
        ) as r,
    ):
        assert r.status == 404


async def test_readiness_fails_when_the_store_is_unreachable(tts_cache: Path) -> None:
    dead = "postgresql+asyncpg://postgres@127.0.0.1:1/nothing"
    async with (
        Sandbox(SandboxConfig(speed=8.0)) as sb,
        running_service(dead, sb, tts_cache) as svc,
        aiohttp.ClientSession() as http,
    ):
        async with http.get(f"http://127.0.0.1:{svc.port}/readyz") as r:
            body = await r.json()
            assert r.status == 503
            assert body["failed"] == ["store"]
            assert body["checks"]["store"].startswith("unreachable")
        async with http.get(f"http://127.0.0.1:{svc.port}/healthz") as r:
            assert r.status == 200
