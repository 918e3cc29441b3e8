"""docker-compose.yml as the compose tool reads it, and the files it mounts.

``docker-compose config`` (Debian's docker-compose package) resolves the
file the way ``up`` would: anchors, variables, defaults. Without the binary
the test skips on a workstation and fails in CI, where it is installed.
The haproxy configuration is checked by haproxy itself when installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
REPLICAS = ("ivr1", "ivr2")
ONE_SHOT = ("migrate",)
ENV = {
    "IVR_PUBLIC_URL": "https://ivr.example.com",
    "IVR_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "IVR_TWILIO_AUTH_TOKEN": "token",
    "IVR_TWILIO_FROM_NUMBER": "+551130000000",
    "IVR_SECRET_KEY": "a-shared-secret-for-both-replicas",
    "IVR_METRICS_TOKEN": "scrape-token",
}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is a test dependency and must be installed in CI")
        pytest.skip(f"{name} is not installed")
    return path


def _compose_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_tool("docker-compose"), "-f", str(ROOT / "docker-compose.yml"), "config"],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def resolved() -> dict[str, Any]:
    done = _compose_config(ENV)
    assert done.returncode == 0, done.stderr
    doc: dict[str, Any] = yaml.safe_load(done.stdout)
    return doc


def test_compose_config_accepts_the_file(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    assert set(services) == {"db", "migrate", *REPLICAS, "haproxy", "prometheus"}


@pytest.mark.parametrize("missing", ["IVR_SECRET_KEY", "IVR_METRICS_TOKEN", "IVR_PUBLIC_URL"])
def test_a_missing_required_setting_is_named(missing: str) -> None:
    done = _compose_config({k: v for k, v in ENV.items() if k != missing})
    assert done.returncode != 0
    assert missing in done.stderr


def test_replicas_share_one_secret_and_run_after_the_migration(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    envs = [services[r]["environment"] for r in REPLICAS]
    assert envs[0] == envs[1]
    assert envs[0]["IVR_SECRET_KEY"] == ENV["IVR_SECRET_KEY"]
    assert envs[0]["IVR_METRICS_TOKEN"] == ENV["IVR_METRICS_TOKEN"]
    db_url = envs[0]["IVR_DATABASE_URL"]
    assert db_url.startswith("postgresql+asyncpg://") and "@db:5432/" in db_url
    assert services["migrate"]["environment"]["IVR_DATABASE_URL"] == db_url
    assert services["migrate"]["command"] == ["ivr", "migrate"]
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    for replica in REPLICAS:
        assert services[replica]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
        # Longer than the drain timeout, so SIGTERM never cuts a live call.
        grace = services[replica]["stop_grace_period"]
        assert _seconds(grace) > float(envs[0]["IVR_DRAIN_TIMEOUT_SECONDS"])
        assert "ports" not in services[replica], "only the load balancer is published"


def test_postgres_keeps_its_data_in_a_volume(resolved: dict[str, Any]) -> None:
    db = resolved["services"]["db"]
    assert db["image"].startswith("postgres:")
    mounts = [v.split(":") for v in db["volumes"]]
    assert any(m[0] == "pgdata" and m[1] == "/var/lib/postgresql/data" for m in mounts)
    assert "pgdata" in resolved["volumes"]


def test_every_running_service_has_a_healthcheck(resolved: dict[str, Any]) -> None:
    for name, service in resolved["services"].items():
        if name in ONE_SHOT:
            assert service["restart"] == "no"
            continue
        check = service.get("healthcheck")
        assert check and check["test"] and not check.get("disable"), name
    replica_check = " ".join(resolved["services"]["ivr1"]["healthcheck"]["test"])
    assert "/healthz" in replica_check


def test_the_load_balancer_sends_traffic_only_to_ready_replicas(resolved: dict[str, Any]) -> None:
    lb = resolved["services"]["haproxy"]
    mounted = {v.split(":")[1]: v.split(":")[0] for v in lb["volumes"]}
    cfg_path = Path(mounted["/usr/local/etc/haproxy/haproxy.cfg"])
    assert cfg_path == ROOT / "ops" / "haproxy.cfg"
    cfg = cfg_path.read_text()
    assert re.search(r"^\s*option httpchk GET /readyz\s*$", cfg, re.M)
    assert re.search(r"^\s*http-check expect status 200\s*$", cfg, re.M)
    servers = re.findall(r"^\s*server (\S+) (\S+) check\b", cfg, re.M)
    assert sorted(servers) == [(r, f"{r}:8080") for r in REPLICAS]
    # WebSockets (Media Streams) stay up for a whole call once upgraded.
    tunnel = re.search(r"^\s*timeout tunnel (\d+)([smh])\s*$", cfg, re.M)
    assert tunnel and _seconds(tunnel.group(1) + tunnel.group(2)) >= 3600
    assert [p["published"] for p in lb["ports"]] == [8080]


def test_haproxy_accepts_its_configuration() -> None:
    done = subprocess.run(
        [_tool("haproxy"), "-c", "-f", str(ROOT / "ops" / "haproxy.cfg")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Configuration file is valid" in done.stdout + done.stderr


def test_prometheus_scrapes_both_replicas_with_the_token(resolved: dict[str, Any]) -> None:
    prom = resolved["services"]["prometheus"]
    mounted = {v.split(":")[1]: v.split(":")[0] for v in prom["volumes"]}
    cfg_path = Path(mounted["/etc/prometheus/prometheus.yml"])
    assert cfg_path == ROOT / "ops" / "prometheus.yml"
    cfg = yaml.safe_load(cfg_path.read_text())
    (job,) = cfg["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    targets = [t for sc in job["static_configs"] for t in sc["targets"]]
    assert sorted(targets) == [f"{r}:8080" for r in REPLICAS]
    auth = job["authorization"]
    assert auth["type"] == "Bearer"
    # The entrypoint writes the same token the replicas check into that file.
    assert prom["environment"]["IVR_METRICS_TOKEN"] == ENV["IVR_METRICS_TOKEN"]
    entry = " ".join(prom["entrypoint"])
    # ("$$" is compose's escape for a "$" the container's shell expands.)
    written = re.escape(f'"$IVR_METRICS_TOKEN" > {auth["credentials_file"]}').replace(
        r"\$", r"\$\$?"
    )
    assert re.search(written, entry), entry
    assert "--config.file=/etc/prometheus/prometheus.yml" in entry


def _seconds(value: str | int | float) -> float:
    """Compose and haproxy durations ("75s", "1m15s", "2h") in seconds."""
    if isinstance(value, int | float):
        return float(value)
    units = {"s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)([smh])", value)
    assert parts and "".join(n + u for n, u in parts) == value, value
    return sum(float(n) * units[u] for n, u in parts)
