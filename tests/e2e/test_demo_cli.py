"""``ivr demo`` and ``ivr sandbox`` as a person runs them: real processes, real output."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What must never reach the demo's output: library request dumps and per-job lines.
NOISE = (
    "HTTP Request",
    "BEGIN Twilio API Request",
    "apscheduler",
    "Running job",
    "executed successfully",
    "aiohttp.access",
    '"GET /',
    '"POST /',
)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return {**env, **extra}


def test_small_demo_off_a_terminal_prints_outcomes_and_kpis_and_no_library_noise(
    tmp_path: Path,
) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ivr.cli", "demo", "--debtors", "3", "--speed", "20"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "imported 3 debtors" in out
    # Off a terminal the progress bar is plain lines, not redrawn escape sequences.
    assert "calls ended: 3/3" in out and "\x1b[" not in out
    assert "Outcomes" in out and "what happened" in out
    assert re.search(r"total\s+│\s+3\b", out), out
    for kpi in ("attempts", "contact rate", "RPC rate", "promise rate", "abandonment"):
        assert re.search(rf"^  {kpi}\s+(\d+(\.\d)?%?|-)\s", out, re.MULTILINE), (kpi, out)
    assert re.search(r"^  amount promised\s+\S", out, re.MULTILINE), out
    both = out + proc.stderr
    for noise in NOISE:
        assert noise not in both, (noise, both)
    assert proc.stderr.strip() == "", proc.stderr
    assert not (tmp_path / "ivr-demo.db").exists()  # the demo cleans up after itself


def test_example_demo_tells_the_debtors_round_trip(tmp_path: Path) -> None:
    """The example campaign: the promise call takes the payment details by SMS,
    a debtor calls the service back and asks for them, another answers SAIR."""
    proc = subprocess.run(
        [sys.executable, "-m", "ivr.cli", "demo", "--speed", "20"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "+5531991234567 calls the service back" in out, out
    assert "Ana Lima, verified" in out, out
    assert "answered SAIR: no more SMS to them" in out, out
    texts = out.split("Text messages", 1)[1].split("Outcomes", 1)[0]
    assert texts.count("Pix copia e cola:") == 2, texts  # the promise, and the caller's
    assert "pagamento combinado: R$ 1.234,50" in texts and "valor em aberto: R$ 250,00" in texts
    assert "from +5511987654321" in texts and "responda VOLTAR" in texts, texts
    assert re.search(r"^  calls from debtors\s+1\s+1 verified", out, re.MULTILINE), out
    assert proc.stderr.strip() == "", proc.stderr


def _get(url: str, user: str, password: str) -> int:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    req = urllib.request.Request(url, headers={"Authorization": f"Basic {token}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_sandbox_takes_the_services_twilio_credentials() -> None:
    sid, token = "AC" + "1f" * 16, "the-service-token"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ivr.cli", "sandbox", "--port", "0"],
        env=_env(IVR_TWILIO_ACCOUNT_SID=sid, IVR_TWILIO_AUTH_TOKEN=token),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        m = re.search(r"listening on (http://\S+)", lines[0])
        assert m, lines
        assert sid in lines[1] and token in lines[2], lines
        calls = f"{m.group(1)}/2010-04-01/Accounts/{sid}/Calls.json"
        assert _get(calls, sid, token) == 200
        assert _get(calls, sid, "sandbox-auth-token") == 401  # the default no longer works
    finally:
        proc.terminate()
        proc.wait(timeout=10)
