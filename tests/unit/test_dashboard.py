"""The Grafana dashboard only queries metrics the service exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import REGISTRY

import ivr.metrics  # noqa: F401 (registers the instruments)

DASHBOARD = Path(__file__).resolve().parents[2] / "ops" / "grafana-dashboard.json"


def test_dashboard_queries_exported_metrics() -> None:
    dash = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}
    exported = set()
    for fam in REGISTRY.collect():  # families without samples yet count too
        exported.update(fam.name + s for s in suffixes.get(fam.type, ("",)))
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    used = {m for e in exprs for m in re.findall(r"\bivr_[a-z_]+", e)}
    assert len(dash["panels"]) >= 12
    assert used, "the dashboard queries the service's metrics"
    assert used <= exported, sorted(used - exported)
    families = {re.sub(r"_(total|bucket|count|sum)$", "", m) for m in used}
    for wanted in (
        "ivr_calls",
        "ivr_claims",
        "ivr_tick_seconds",
        "ivr_webhook_seconds",
        "ivr_turn_latency_seconds",
        "ivr_recognizer_lag_seconds",
        "ivr_prompt_cache",
        "ivr_queue_length",
        "ivr_queue_wait_seconds",
        "ivr_agents",
        "ivr_import_rows",
    ):
        assert wanted in families, wanted
