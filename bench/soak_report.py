"""The soak's reckoning: what the store holds against what the carrier saw, and the verdicts.

Turns are the rows of ``call_events``: a ``prompt`` row for every prompt the
service played (the carrier sees each one end with its mark, named
``p<n>-<prompt id>``), a ``speech`` (or ``dtmf``) row for every answer the
caller gave. A spoken answer the recognizer heard as nothing is a
``silence`` row: logged, but counted apart so a deaf recognizer shows.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.store.models import LIVE_ATTEMPT_STATUSES, CallAttempt, CallEvent, Transfer
from ivr.vocab.transfers import OPEN_TRANSFER_STATUSES

if TYPE_CHECKING:
    from bench.soak import Soak
    from bench.soak_agents import BenchAgent
    from bench.soak_probe import CarrierClock, During
    from ivr.sandbox.records import SandboxCall

REAL_TIME_TARGET_MS = 100.0
MEMORY_GROWTH_TARGET_PCT = 5.0
CALLER_TURNS = ("speech", "dtmf")
MEMWATCH_FILE = "memwatch.jsonl"


@dataclass
class Observed:
    """One call as the carrier saw it."""

    k: int
    kind: str  # promise | wrong | agent
    sid: str
    status: str
    stuck: bool
    speaks: int
    prompts: list[str]
    child_legs: int


def observe(k: int, kind: str, rec: SandboxCall, stuck: bool) -> Observed:
    """What the carrier saw of one call: the answers spoken, the prompts received."""
    return Observed(
        k=k,
        kind=kind,
        sid=rec.sid,
        status=rec.status,
        stuck=stuck,
        speaks=len(rec.events_of("speak")),
        prompts=[name.split("-", 1)[1] for name in rec.marks_received if "-" in name],
        child_legs=len(rec.child_call_sids),
    )


@dataclass
class StoreFigures:
    attempts: Counter[str]
    outcomes: Counter[str]
    missing_attempts: list[str]  # carrier call sids with no attempt row
    live: int
    caller_turns: int  # speech + dtmf rows of the observed calls
    silences: int
    unlogged_answers: list[str]  # "sid: spoke n, logged m"
    prompts_logged: int
    unlogged_prompts: list[str]  # sent on the stream, no row
    unsent_prompts: int  # a row, never reached the carrier (the call was ending)
    transfers: Counter[str]
    transfer_outcomes: int  # with the agent's wrap-up outcome
    agent_calls_without_transfer: list[str]
    transfer_ids: dict[int, str]  # transfer id -> status


async def store_figures(
    sessions: async_sessionmaker[AsyncSession], observed: list[Observed]
) -> StoreFigures:
    async with sessions() as s:
        attempts = (await s.execute(select(CallAttempt))).scalars().all()
        events = (
            await s.execute(
                select(CallEvent.attempt_id, CallEvent.kind, CallEvent.data)
                .where(CallEvent.kind.in_(["prompt", "silence", *CALLER_TURNS]))
                .order_by(CallEvent.id)
            )
        ).all()
        transfers = (await s.execute(select(Transfer))).scalars().all()
    by_sid = {a.call_sid: a for a in attempts if a.call_sid}
    rows: dict[int, list[tuple[str, Any]]] = {}
    for attempt_id, kind, data in events:
        rows.setdefault(attempt_id, []).append((kind, data))
    transfer_of = {t.attempt_id: t for t in transfers}
    f = StoreFigures(
        attempts=Counter(str(a.status) for a in attempts),
        outcomes=Counter(str(a.outcome) for a in attempts),
        missing_attempts=[],
        live=sum(a.status in LIVE_ATTEMPT_STATUSES for a in attempts),
        caller_turns=0,
        silences=0,
        unlogged_answers=[],
        prompts_logged=0,
        unlogged_prompts=[],
        unsent_prompts=0,
        transfers=Counter(str(t.status) for t in transfers),
        transfer_outcomes=sum(t.outcome is not None for t in transfers),
        agent_calls_without_transfer=[],
        transfer_ids={t.id: str(t.status) for t in transfers},
    )
    for ob in observed:
        attempt = by_sid.get(ob.sid)
        if attempt is None:
            f.missing_attempts.append(ob.sid)
            continue
        mine = rows.get(attempt.id, [])
        answers = sum(kind in CALLER_TURNS for kind, _ in mine)
        silences = sum(kind == "silence" for kind, _ in mine)
        f.caller_turns += answers
        f.silences += silences
        if answers + silences < ob.speaks:
            f.unlogged_answers.append(f"{ob.sid}: spoke {ob.speaks}, logged {answers}+{silences}")
        logged = Counter(data.get("prompt_id") for kind, data in mine if kind == "prompt")
        f.prompts_logged += sum(logged.values())
        sent = Counter(ob.prompts)
        lost = sent - logged
        if lost:
            f.unlogged_prompts.append(f"{ob.sid}: {dict(lost)}")
        f.unsent_prompts += sum((logged - sent).values())
        if ob.kind == "agent" and attempt.id not in transfer_of:
            f.agent_calls_without_transfer.append(ob.sid)
    return f


async def scrape_metrics(port: int, token: str) -> dict[str, float]:
    """The service's own figures: recognizer lag and turn latency histograms."""
    url = f"http://127.0.0.1:{port}/metrics"
    async with (
        aiohttp.ClientSession() as http,
        http.get(url, headers={"Authorization": f"Bearer {token}"}) as r,
    ):
        text = await r.text()
    samples = {
        (s.name, s.labels.get("le", "")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    n = samples.get(("ivr_recognizer_lag_seconds_count", ""), 0.0)
    buckets = sorted(
        (float(le), v)
        for (name, le), v in samples.items()
        if name == "ivr_recognizer_lag_seconds_bucket" and le != "+Inf"
    )
    p95 = next((le for le, v in buckets if n and v >= 0.95 * n), float("inf"))
    turns = samples.get(("ivr_turn_latency_seconds_count", ""), 0.0)
    fast = samples.get(("ivr_recognizer_lag_seconds_bucket", "0.1"), 0.0)
    return {
        "asr_chunks": n,
        "asr_over_100ms_pct": 100 * (n - fast) / n if n else float("nan"),
        "asr_p95_le_ms": 1000 * p95,
        "turn_mean_ms": 1000 * samples.get(("ivr_turn_latency_seconds_sum", ""), 0.0) / turns
        if turns
        else float("nan"),
    }


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(
    *,
    args: argparse.Namespace,
    soak: Soak,
    during: During,
    clock: CarrierClock,
    store: StoreFigures,
    service_metrics: dict[str, float],
    agents: list[BenchAgent],
    workdir: Path,
) -> None:
    obs = soak.observed
    duration = args.minutes * 60
    lag = soak.lag.summary()
    behind = sorted(clock.behind_ms)
    m = service_metrics
    print(
        f"\ncalls: {len(obs)} ended ({Counter(o.kind for o in obs)}), "
        f"carrier statuses {dict(Counter(o.status for o in obs))}, "
        f"{sum(o.stuck for o in obs)} stuck, not placed: {dict(Counter(soak.not_placed))}"
    )
    print(
        f"turns: callers' answers spoken {sum(o.speaks for o in obs)}, "
        f"prompts received {sum(len(o.prompts) for o in obs)}; "
        f"outcomes {dict(store.outcomes)}"
    )
    print(f"uptime at the start: {during.uptime_start}\nuptime at the end:   {during.uptime_end}")
    print(
        f"CPU cores used: service {during.service_cpu:.2f} (with its children), "
        f"carrier and people (bench) {during.bench_cpu:.2f}"
    )

    # --- real time
    print(
        f"\nframe lag (carrier side, {lag['frames']:.0f} frames after a prompt's first, "
        f"{soak.lag.first_frames} prompts): p50 {lag['p50']:.1f} ms  p95 {lag['p95']:.1f} ms  "
        f"p99 {lag['p99']:.1f} ms  max {lag['max']:.1f} ms; {lag['late_20']:.0f} frames "
        f"> 20 ms late, {lag['late_100']:.0f} > 100 ms"
    )
    if behind:
        print(
            f"  carrier clock behind wall at call end: p50 {behind[len(behind) // 2]:.0f} ms, "
            f"max {behind[-1]:.0f} ms over {len(behind)} call legs"
        )
    print(
        f"  service: recognizer behind > 100 ms {m['asr_over_100ms_pct']:.1f} % of "
        f"{m['asr_chunks']:.0f} chunks (p95 <= {m['asr_p95_le_ms']:.0f} ms), "
        f"final result to reply {m['turn_mean_ms']:.0f} ms mean"
    )
    on_time = lag["p95"] <= REAL_TIME_TARGET_MS and m["asr_p95_le_ms"] <= REAL_TIME_TARGET_MS
    print(
        f"real time: frame lag p95 {lag['p95']:.1f} ms, recognizer lag p95 <= "
        f"{m['asr_p95_le_ms']:.0f} ms (both <= {REAL_TIME_TARGET_MS:.0f} ms): {verdict(on_time)}"
    )

    # --- memory
    warm = soak.warm_s
    tree = soak.tree
    at_warm = tree.rss_between(warm, warm + 30)
    at_end = tree.rss_between(duration - 30, duration + 1)
    growth = 100 * (at_end - at_warm) / at_warm
    peak = max(s.rss_mb for s in tree.samples)
    kids = [s.tree_mb - s.rss_mb for s in tree.samples]
    print(
        f"\nservice RSS: idle {during.idle.rss_mb:.0f} MB, after warm-up ({warm / 60:.1f} min) "
        f"{at_warm:.0f} MB, end {at_end:.0f} MB, peak {peak:.0f} MB, trend after warm-up "
        f"{tree.slope_mb_per_min(warm, duration):+.2f} MB/min; children (synthesizer) "
        f"{kids[0]:.0f} -> {kids[-1]:.0f} MB; {len(tree.samples)} samples"
    )
    watch = workdir / MEMWATCH_FILE
    if watch.exists():
        print(memwatch_summary(watch, soak.wall0 + warm, soak.wall0 + duration))
    traced = watch.with_suffix(".tracemalloc.txt")
    if traced.exists():
        print(
            "  tracemalloc, end against warm-up:\n    "
            + "\n    ".join(traced.read_text().splitlines()[:16])
        )
    print(
        f"memory: growth {growth:+.1f} % < {MEMORY_GROWTH_TARGET_PCT:.0f} %: "
        f"{verdict(growth < MEMORY_GROWTH_TARGET_PCT)}"
    )

    # --- nothing lost
    asked = [o for o in obs if o.kind == "agent"]
    open_transfers = sum(store.transfers[s.value] for s in OPEN_TRANSFER_STATUSES)
    offered = set().union(*(a.offers for a in agents)) if agents else set()
    wrapped = set().union(*(a.wrapped for a in agents)) if agents else set()
    connected = {t for t, st in store.transfer_ids.items() if st in ("connected", "completed")}
    errors = [e for a in agents for e in a.wrapup_errors]
    print(
        f"\nstore: attempts {dict(store.attempts)}; {store.live} live, "
        f"{len(store.missing_attempts)} carrier calls without an attempt"
    )
    print(
        f"  answers: {store.caller_turns} speech/dtmf rows + {store.silences} silence rows "
        f"for {sum(o.speaks for o in obs)} spoken; {len(store.unlogged_answers)} calls short "
        f"{store.unlogged_answers[:3]}"
    )
    print(
        f"  prompts: {store.prompts_logged} rows for {sum(len(o.prompts) for o in obs)} "
        f"received; {len(store.unlogged_prompts)} calls with a prompt not logged "
        f"{store.unlogged_prompts[:3]}; {store.unsent_prompts} logged but not played"
    )
    print(
        f"  transfers: {len(asked)} asked, rows {dict(store.transfers)}, {open_transfers} open, "
        f"{len(store.agent_calls_without_transfer)} asked without a row; desktops: "
        f"{len(offered)} offers, {len(wrapped)} wrap-ups for {len(connected)} answered "
        f"({store.transfer_outcomes} outcomes in the store); wrap-up errors {errors[:3]}"
    )
    lost = (
        store.live
        + len(store.missing_attempts)
        + len(store.unlogged_answers)
        + len(store.unlogged_prompts)
        + open_transfers
        + len(store.agent_calls_without_transfer)
        + len(connected - wrapped)
        + sum(o.stuck for o in obs)
    )
    print(f"nothing lost: {lost} lost or left open: {verdict(lost == 0)}")
    print(f"service log: {log_summary(workdir / 'service.log')} (in {workdir})")


def log_summary(path: Path) -> str:
    """Lines by level, and which events were warnings or errors."""
    levels: Counter[str] = Counter()
    bad: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            levels["unparsed"] += 1
            continue
        level = str(entry.get("level", "?"))
        levels[level] += 1
        if level in ("warning", "error", "critical"):
            bad[f"{level} {entry.get('event')}"] += 1
    return f"{dict(levels)}; {dict(bad)}"


def memwatch_summary(path: Path, warm_wall: float, end_wall: float, top: int = 12) -> str:
    """What grew inside the service between the warm-up and the end (bench/soak_memwatch.py)."""
    lines = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    if not lines:
        return "  memory watch: no samples"
    first = min(lines, key=lambda x: abs(x["wall"] - warm_wall))
    last = min(lines, key=lambda x: abs(x["wall"] - end_wall))
    a, b = Counter(first["types"]), Counter(last["types"])
    grown = sorted(((b[k] - a[k], k) for k in set(a) | set(b)), reverse=True)[:top]
    heap = ", ".join(
        f"{k} {first['malloc'].get(k, 0):.0f} -> {last['malloc'].get(k, 0):.0f} MB"
        for k in ("heap_in_use", "heap_free", "mmapped")
    )
    rows = "\n".join(f"    {d:+8d}  {k}  ({a[k]} -> {b[k]})" for d, k in grown)
    return (
        f"  memory watch, {(last['wall'] - first['wall']) / 60:.1f} min apart: glibc {heap}; "
        f"gc-tracked objects {sum(a.values())} -> {sum(b.values())}; grew most:\n{rows}"
    )
