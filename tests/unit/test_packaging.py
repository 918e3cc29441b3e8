"""Deployment files and the README stay consistent with what the service reads and runs.

The README's claims are checked against the code they describe (the settings
model, the command-line parser, the ``run`` script), not against literals in
the README: a renamed setting or command fails here until both agree.
"""

import argparse
import contextlib
import io
import re
import shlex
import subprocess
from pathlib import Path

import yaml

from ivr.cli import build_parser
from ivr.config import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
RUN = ROOT / "run"

# Settings the README's table leaves out on purpose: operational knobs with
# safe defaults that are not part of the documented contract (ivr/config.py),
# and the recognizer's test locale, described with the test setup.
UNLISTED_SETTINGS = {"asr_locale", "cache_dir", "scheduler_enabled"}


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


def _settings_table() -> list[tuple[list[str], str]]:
    """The README's settings table: the variables of each row and its default column."""
    start = README.index("| variable | meaning | default |")
    rows = []
    for line in README[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        variables, _meaning, default = (cell.strip() for cell in line.strip("|").split(" | "))
        rows.append((re.findall(r"`IVR_([A-Z0-9_]+)`", variables), default))
    return rows


def _same(documented: str, default: object) -> bool:
    if isinstance(default, bool):
        return documented == str(default).lower()
    if isinstance(default, int | float):
        return float(documented) == default
    return documented == str(default)


def test_readme_settings_table_matches_the_settings_model() -> None:
    fields = Settings.model_fields
    listed: set[str] = set()
    for variables, default in _settings_table():
        names = [v.lower() for v in variables]
        assert names, f"a settings row names no variable: {default}"
        unknown = [f"IVR_{v}" for v in variables if v.lower() not in fields]
        assert unknown == [], f"README documents settings the service does not read: {unknown}"
        listed.update(names)
        literals = re.match(r"(`[^`]*`(?:, `[^`]*`)*)", default)
        if literals is None:  # "unset", "required by ...", "random per process ..."
            assert [n for n in names if fields[n].default is not None] == [], default
            continue
        values = re.findall(r"`([^`]*)`", literals.group(1))
        assert len(values) == len(names), f"one default per variable: {variables} {default}"
        for name, value in zip(names, values, strict=True):
            assert _same(value, fields[name].default), (name, value, fields[name].default)
    assert set(fields) - listed == UNLISTED_SETTINGS, "settings missing from the README's table"


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_readme_lists_every_command_with_options_it_takes() -> None:
    start = README.index("Commands: ")
    paragraph = README[start : README.index("\n\n", start)]
    documented = {}
    for usage in re.findall(r"`([^`]+)`", paragraph):
        name, *rest = usage.split()
        documented[name] = set(re.findall(r"--[a-z][a-z-]*", " ".join(rest)))
    commands = _subcommands()
    assert set(documented) == set(commands)
    for name, options in documented.items():
        takes = {o for action in commands[name]._actions for o in action.option_strings}
        assert options - takes == set(), f"README gives `{name}` options it does not take"


def test_readme_command_lines_run() -> None:
    """Every command line the README shows is one ``ivr`` or ``./run`` accepts."""
    commands = _subcommands()
    lines = re.findall(r"\.venv/bin/ivr ([^`\n#]*)", README)
    assert lines, "the README shows no ivr command line"
    for line in lines:
        err = io.StringIO()
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                build_parser().parse_args(shlex.split(line))
        except SystemExit as exc:  # --help exits 0; a bad command line exits 2
            assert exc.code == 0, f"ivr {line}: {err.getvalue()}"
    mentioned = set(re.findall(r"`ivr ([a-z][a-z-]*)", README))
    assert mentioned - set(commands) == set()

    script = RUN.read_text()
    assert RUN.stat().st_mode & 0o111
    assert subprocess.run(["bash", "-n", str(RUN)], check=False).returncode == 0
    # run's own commands, and anything else it hands to ivr (its "*)" case).
    handled = set(re.findall(r"^\s+([a-z]+)\)", script, re.M)) | set(commands)
    documented = set(re.findall(r"\./run ([a-z]+)", README))
    assert documented, "the README shows no ./run command"
    assert documented - handled == set()
