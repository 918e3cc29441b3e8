"""Processes for the chaos test: replicas of ``ivr serve``, haproxy, the sandbox (no tests here).

Everything runs as its own OS process in its own process group, started
through public entry points (``python -m ivr.cli serve``, ``ivr add-user``,
``ivr import``, the sandbox app), so the test exercises what an operator
runs. :class:`Processes` kills every group it started, whatever happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import aiohttp

from bench.service_process import wait_ready

ROOT = Path(__file__).resolve().parents[2]
FROM_NUMBER = "+551130000000"
SECRET_KEY = "chaos-shared-secret-key-0123456789abcdef"


def find_haproxy() -> str | None:
    """Debian installs it in /usr/sbin, which a normal user's PATH may lack."""
    return shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path


@dataclass
class Processes:
    """Every process the test started, by name; :meth:`kill_all` ends their groups."""

    logdir: Path
    procs: dict[str, Proc] = field(default_factory=dict)
    _logs: list[IO[bytes]] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> Proc:
        n = sum(1 for p in self.logdir.glob(f"{name}.*.log"))
        log = self.logdir / f"{name}.{n}.log"
        out = log.open("wb")
        self._logs.append(out)
        popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: killed as a whole
        )
        proc = Proc(name, popen, log)
        self.procs[name] = proc
        return proc

    def signal(self, name: str, sig: int) -> None:
        proc = self.procs[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.popen.pid, sig)

    def kill9(self, name: str) -> int:
        """SIGKILL the process group; returns the exit status (-9)."""
        self.signal(name, signal.SIGKILL)
        return self.procs[name].popen.wait(timeout=10)

    def stop_all(self, names: list[str], timeout: float = 15.0) -> list[str]:
        """SIGTERM them all at once, then SIGKILL what has not exited in ``timeout`` s.

        Returns the names that needed SIGKILL.
        """
        forced: list[str] = []
        for name in names:
            self.signal(name, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for name in names:
            try:
                self.procs[name].popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.kill9(name)
                forced.append(name)
        return forced

    def kill_all(self) -> None:
        for proc in self.procs.values():
            if proc.popen.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.popen.pid, signal.SIGKILL)
        for proc in self.procs.values():
            with contextlib.suppress(Exception):
                proc.popen.wait(timeout=10)
        for out in self._logs:
            out.close()


# --- haproxy ---------------------------------------------------------------------


def haproxy_config(port: int, backends: list[int]) -> str:
    """Round robin over the replicas, WebSockets included, dead ones taken out fast.

    ``httpchk`` every 500 ms marks a killed replica down within a second;
    ``redispatch`` retries a refused connection on another replica, as a
    production balancer would.
    """
    servers = "\n".join(
        f"    server r{i} 127.0.0.1:{p} check inter 500ms fall 2 rise 1"
        for i, p in enumerate(backends)
    )
    return f"""global
    maxconn 4096

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
    timeout check 2s
    retries 3
    option redispatch 1

frontend public
    bind 127.0.0.1:{port}
    default_backend replicas

backend replicas
    balance roundrobin
    option httpchk GET /healthz
{servers}
"""


# --- the sandbox carrier -----------------------------------------------------------


def sandbox_main(cfg_json: str) -> None:
    """Run the sandbox carrier with the test's callees (``python -c``, see :func:`start_sandbox`).

    Adds one read-only route, ``GET /chaos/calls``: every outbound call the
    carrier created, with the URL it was asked to fetch, for the counts.
    """
    from aiohttp import web

    from ivr import clock
    from ivr.sandbox.app import create_sandbox_app
    from ivr.sandbox.callee import CalleeScript, HangUp, WaitForPrompt
    from ivr.sandbox.config import SandboxConfig
    from ivr.sandbox.rest import ENGINE_KEY

    cfg = json.loads(cfg_json)
    clock.set_offset(cfg["clock_offset"])
    scripts = {
        "busy": CalleeScript(answer="busy", ring_seconds=1.0),
        "no-answer": CalleeScript(answer="no-answer"),
        # Answers, hears the greeting on the Media Stream, hangs up: short on purpose,
        # since the sandbox sends 50 media frames per second of call time.
        "hangs-up": CalleeScript(ring_seconds=1.0, steps=[WaitForPrompt(), HangUp()]),
    }
    config = SandboxConfig(
        speed=cfg["speed"], callees={n: scripts[kind] for n, kind in cfg["callees"].items()}
    )
    app = create_sandbox_app(config)

    async def calls(request: web.Request) -> web.Response:
        engine = request.app[ENGINE_KEY]
        rows = [
            {
                "sid": c.sid,
                "to": c.to,
                "url": c.url,
                "status": c.status,
                "created": c.date_created.isoformat(),
                "ended": c.end_time.isoformat() if c.end_time else None,
                "events": [f"{e.media_ms} {e.kind} {e.detail}"[:160] for e in c.events[-12:]],
                "errors": c.errors,
            }
            for c in list(engine.calls.values())
            if c.direction == "outbound-api"
        ]
        return web.json_response(rows)

    app.router.add_get("/chaos/calls", calls)
    web.run_app(app, host="127.0.0.1", port=cfg["port"], print=None, handle_signals=True)


def start_sandbox(procs: Processes, port: int, cfg: dict[str, Any]) -> Proc:
    code = "import sys; from tests.e2e.chaos_support import sandbox_main; sandbox_main(sys.argv[1])"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return procs.start(
        "sandbox", [sys.executable, "-c", code, json.dumps({**cfg, "port": port})], env
    )


# --- the service -------------------------------------------------------------------


def service_env(
    *, db_url: str, public_url: str, sandbox_url: str, cache_dir: Path, clock_offset: float
) -> dict[str, str]:
    """What every replica shares: database, public URL, carrier, secret, prompt cache."""
    from ivr.sandbox.config import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

    env = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
    env.update(
        PYTHONPATH=str(ROOT),
        IVR_DATABASE_URL=db_url,
        IVR_PUBLIC_URL=public_url,
        IVR_TWILIO_ACCOUNT_SID=DEFAULT_ACCOUNT_SID,
        IVR_TWILIO_AUTH_TOKEN=DEFAULT_AUTH_TOKEN,
        IVR_TWILIO_FROM_NUMBER=FROM_NUMBER,
        IVR_TWILIO_API_URL=sandbox_url,
        IVR_SECRET_KEY=SECRET_KEY,
        IVR_CACHE_DIR=str(cache_dir),
        IVR_SCHEDULER_TICK_SECONDS="1",
        IVR_ACCOUNT_CPS="5",
        IVR_CLOCK_OFFSET_SECONDS=str(clock_offset),
        # Four replicas (and the test) share one server of 100 connections.
        IVR_DB_POOL_SIZE="4",
        IVR_DB_MAX_OVERFLOW="8",
    )
    return env


def ivr(*args: str, env: dict[str, str]) -> str:
    """Run one ``ivr`` command to completion; its stdout, or an assertion with its output."""
    done = subprocess.run(
        [sys.executable, "-m", "ivr.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"ivr {args[0]} exited {done.returncode}: {done.stderr[-2000:]}"
    return done.stdout


def start_replica(procs: Processes, name: str, port: int, env: dict[str, str]) -> Proc:
    argv = [sys.executable, "-m", "ivr.cli", "serve", "--keypad-only"]
    return procs.start(name, [*argv, "--host", "127.0.0.1", "--port", str(port)], env)


async def wait_replicas(procs: Processes, ports: dict[str, int]) -> None:
    await asyncio.gather(*(wait_ready(port, procs.procs[n].popen) for n, port in ports.items()))


async def carrier_calls(sandbox_url: str) -> list[dict[str, Any]]:
    """Every outbound call the sandbox process created (``GET /chaos/calls``)."""
    async with aiohttp.ClientSession() as http, http.get(f"{sandbox_url}/chaos/calls") as r:
        assert r.status == 200
        return list(await r.json())


async def wait_http(url: str, proc: Proc, timeout: float = 30.0) -> None:  # noqa: ASYNC109
    """Poll ``url`` until it answers 200; fail at once if ``proc`` exits."""
    async with aiohttp.ClientSession() as http:
        for _ in range(int(timeout * 10)):
            if proc.popen.poll() is not None:
                raise RuntimeError(f"{proc.name} exited: {proc.log.read_text()[-2000:]}")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url) as r:
                    if r.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")
