"""Transfer latency: from the dialog's request to the agent's screen, and to the agent's phone.

The real service (create_app with the agents package) runs against the
sandbox carrier. For each of N transfers a debtor call is live in the
sandbox; the benchmark asks the TransferPort for an agent and measures

* pop:  request -> the ``offer`` message arrives on the agent desktop's WebSocket;
* redirect: request -> the call is redirected (the port returns: store, notify, REST);
* dial: request -> the sandbox creates the agent's ``<Dial>`` leg. The hold line
  is spoken first, so this includes it at the sandbox's clock speed (50x: a
  five-second sentence is 100 ms here).

Transfers run one after another (each to a different agent, all idle), so
the figures are latencies, not throughput. On PostgreSQL the desktop is
connected to a second replica, so the pop crosses LISTEN/NOTIFY.

    .venv/bin/python bench/transfer.py [--transfers 50] [--backends sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.service_process import database  # noqa: E402
from ivr.sandbox.app import Sandbox  # noqa: E402
from ivr.sandbox.callee import CalleeScript, HangUp, Silence  # noqa: E402
from ivr.sandbox.config import SandboxConfig  # noqa: E402
from tests.support.agents import (  # noqa: E402
    PUBLIC,
    DesktopClient,
    agents_service,
    attach_call,
    live_sandbox_call,
    seed_agent,
    seed_call,
)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(name: str, values_ms: list[float]) -> str:
    return (
        f"  {name:8s} n={len(values_ms)}  p50={pct(values_ms, 0.5):7.1f} ms"
        f"  p95={pct(values_ms, 0.95):7.1f} ms  max={max(values_ms):7.1f} ms"
        f"  mean={statistics.fmean(values_ms):7.1f} ms"
    )


async def run(backend: str, transfers: int, workdir: Path) -> None:
    async with (
        database(backend, workdir) as url,
        Sandbox(SandboxConfig(speed=50.0)) as sb,
        agents_service(url, sb, workdir / "tts", agent_wrapup_seconds=3600) as svc,
        contextlib.AsyncExitStack() as stack,
    ):
        desk_svc = svc
        if backend == "postgres":
            desk_svc = await stack.enter_async_context(
                agents_service(url, sb, workdir / "tts", route_carrier=False)
            )
            sb.config.rewrite_base[PUBLIC] = svc.url
        base = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
        agents = []
        desks = []
        for i in range(transfers):
            # Agent i has been idle longest when transfer i arrives: it goes to them.
            agent = await seed_agent(
                svc.sessions, f"agent{i:03d}", idle_since=base + dt.timedelta(seconds=i)
            )
            sb.add_callee(agent.endpoint, CalleeScript(steps=[Silence(30), HangUp()]))
            agents.append(agent)
            desks.append(
                await stack.enter_async_context(DesktopClient(desk_svc.url, agent.api_key))
            )
        pops: list[float] = []
        redirects: list[float] = []
        dials: list[float] = []
        for i in range(transfers):
            phone = f"+55119{70000000 + i:08d}"
            call = await seed_call(svc.sessions, ref=f"BENCH-{i}", phone=phone)
            sid = await live_sandbox_call(sb, phone)
            await attach_call(svc.sessions, call.attempt_id, sid)
            desk = desks[i]
            seen = len(desk.messages)
            t0 = time.monotonic()
            ok = await svc.transfers.request(
                attempt_id=call.attempt_id, call_sid=sid, reason="asked_for_agent", locale="pt-BR"
            )
            redirects.append((time.monotonic() - t0) * 1000)
            assert ok, f"transfer {i} not handed over"
            await desk.wait_for(lambda m: m["type"] == "offer")
            idx = next(
                k for k in range(seen, len(desk.messages)) if desk.messages[k]["type"] == "offer"
            )
            pops.append((desk.arrival[idx] - t0) * 1000)
            deadline = time.monotonic() + 10
            while not sb.calls_to(agents[i].endpoint):
                assert time.monotonic() < deadline, f"agent {i} never dialed"
                await asyncio.sleep(0.002)
            leg = sb.calls_to(agents[i].endpoint)[0]
            dials.append((leg.events[0].at - t0) * 1000)
        where = "desktop on replica B (LISTEN/NOTIFY)" if backend == "postgres" else "one process"
        print(f"{backend}: {transfers} transfers, {where}")
        print(summary("pop", pops))
        print(summary("redirect", redirects))
        print(summary("dial", dials))
        for live in list(sb.engine.live.values()):
            sb.engine.hangup(live, "bench-done")
        await sb.wait_for_idle(timeout=30)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transfers", type=int, default=50)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            await run(backend.strip(), args.transfers, Path(tmp))


if __name__ == "__main__":
    asyncio.run(main())
