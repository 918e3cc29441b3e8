"""Deployment files stay consistent with the settings the service reads."""

import re
from pathlib import Path

import yaml

from ivr.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_compose_runs_service_with_postgres() -> None:
    doc = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = doc["services"]
    assert {"db", "ivr1", "ivr2", "migrate"} <= set(services)
    assert services["db"]["image"].startswith("postgres")
    fields = {f"IVR_{name.upper()}" for name in Settings.model_fields}
    for replica in ("ivr1", "ivr2"):
        env = services[replica]["environment"]
        assert env["IVR_DATABASE_URL"].startswith("postgresql+asyncpg://")
        unknown = [k for k in env if k not in fields]
        assert unknown == [], f"compose sets variables the service does not read: {unknown}"
    assert services["migrate"]["command"] == ["ivr", "migrate"]


def test_dockerfile_installs_speech_engine_and_copies_data() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "espeak-ng" in text and "libespeak-ng1" in text
    for folder in ("ivr", "scheduler", "prompts", "grammars"):
        assert re.search(rf"^COPY {folder} ", text, re.M), folder


def test_readme_commands_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "./run demo" in readme and "./run test" in readme
    assert (ROOT / "run").stat().st_mode & 0o111
