"""What the soak benchmark watches from outside the service.

* :class:`FrameLag`: on the carrier side, how late each 20 ms frame of the
  service's audio arrives against the real-time schedule it must keep. The
  service sends a prompt as messages of one or more frames; the carrier
  plays them back to back, so once a prompt has started, every following
  frame is due when the audio before it has played. A frame that arrives
  after that instant is late by the difference (the caller would hear a gap).
  The first frame of a prompt has no schedule (when a reply starts is turn
  latency, measured by bench/voice_turns.py); a mark ends the prompt, a
  ``clear`` drops what was queued.
* :class:`CarrierClock`: how far each call's own 20 ms clock in the sandbox
  fell behind the wall clock (if the carrier cannot keep time, its figures
  mean little).
* :class:`ProcessTree`: resident memory and CPU time of the service process
  and its children (the speech synthesizer's worker), read from ``/proc``.
"""

from __future__ import annotations

import os
import subprocess
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ivr.sandbox.line import FRAME_BYTES, FRAME_MS, Line
from ivr.sandbox.stream import StreamSession
from ivr.telephony.media_codec import OutClear, OutMark, OutMedia


def pct(values: Any, p: float) -> float:
    return float(np.percentile(values, p)) if len(values) else float("nan")


@dataclass
class _Playout:
    free_at: float = 0.0  # monotonic instant the carrier runs out of queued audio
    in_prompt: bool = False


@dataclass
class FrameLag:
    """Late arrival of the service's media frames, per frame, in milliseconds."""

    lags_ms: array[float] = field(default_factory=lambda: array("d"))
    first_frames: int = 0
    _calls: dict[str, _Playout] = field(default_factory=dict)

    def seen(self, sid: str, out: object, now: float) -> None:
        st = self._calls.setdefault(sid, _Playout())
        if isinstance(out, OutMedia):
            frames = max(1, -(-len(out.payload) // FRAME_BYTES))
            frame_s = FRAME_MS / 1000
            if st.in_prompt:
                due = st.free_at
                for j in range(frames):
                    self.lags_ms.append(max(0.0, (now - due - j * frame_s) * 1000))
            else:
                self.first_frames += 1  # the first frame opens the schedule
                self.lags_ms.extend([0.0] * (frames - 1))
                st.in_prompt = True
            st.free_at = max(now, st.free_at) + frames * frame_s
        elif isinstance(out, OutMark):
            st.in_prompt = False
        elif isinstance(out, OutClear):
            st.in_prompt = False
            st.free_at = now

    def forget(self, sid: str) -> None:
        self._calls.pop(sid, None)

    def summary(self) -> dict[str, float]:
        values = np.frombuffer(self.lags_ms, dtype=np.float64)
        return {
            "frames": float(len(values)),
            "p50": pct(values, 50),
            "p95": pct(values, 95),
            "p99": pct(values, 99),
            "max": float(values.max()) if len(values) else float("nan"),
            "late_20": float((values > 20).sum()),
            "late_100": float((values > 100).sum()),
        }


@dataclass
class CarrierClock:
    """How far behind the wall clock each call's sandbox line ended (ms)."""

    behind_ms: list[float] = field(default_factory=list)
    _started: dict[int, float] = field(default_factory=dict)

    def started(self, line: Line) -> None:
        self._started[id(line)] = time.monotonic()

    def closed(self, line: Line) -> None:
        t0 = self._started.pop(id(line), None)
        if t0 is not None and line.media_ms > 0:
            self.behind_ms.append(max(0.0, (time.monotonic() - t0) * 1000 - line.media_ms))


def install(lag: FrameLag, clock: CarrierClock) -> None:
    """Watch every stream and line of the sandbox in this process (a benchmark only)."""
    dispatch = StreamSession._dispatch
    start, close = Line.start, Line.close

    async def watched_dispatch(self: StreamSession, out: Any) -> None:
        lag.seen(self.call.sid, out, time.monotonic())
        await dispatch(self, out)

    def watched_start(self: Line) -> None:
        clock.started(self)
        start(self)

    async def watched_close(self: Line) -> None:
        if not self.closed:
            clock.closed(self)
        await close(self)

    StreamSession._dispatch = watched_dispatch  # type: ignore[method-assign]
    Line.start = watched_start  # type: ignore[method-assign]
    Line.close = watched_close  # type: ignore[method-assign]


# ------------------------------------------------------------------ the service process

_TICK = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            kids.append(int(entry.name))
    return kids


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def uptime() -> str:
    """``uptime``'s line: the load averages beside a figure say how busy the machine was."""
    done = subprocess.run(["uptime"], capture_output=True, text=True, check=False)
    return done.stdout.strip()


@dataclass
class Sample:
    at_s: float  # since the soak started
    rss_mb: float  # the service process
    tree_mb: float  # with its children
    load: float


@dataclass
class During:
    """Figures taken over the soak's duration (not the tail of calls after it)."""

    idle: Sample  # the service ready, before the first call
    service_cpu: float  # cores
    bench_cpu: float
    uptime_start: str
    uptime_end: str


@dataclass
class ProcessTree:
    """The service process and its children: memory samples and CPU time."""

    pid: int
    samples: list[Sample] = field(default_factory=list)
    _kids: list[int] = field(default_factory=list)
    _kid_cpu: dict[int, float] = field(default_factory=dict)

    def sample(self, at_s: float) -> Sample:
        self._kids = _children(self.pid)
        main = _rss_kb(self.pid) / 1024
        tree = main + sum(_rss_kb(k) for k in self._kids) / 1024
        s = Sample(at_s, main, tree, load_average())
        self.samples.append(s)
        return s

    def cpu_s(self) -> float:
        """CPU seconds of the service and every child seen so far (exited ones kept)."""
        for k in self._kids:
            used = _cpu_s(k)
            if used:
                self._kid_cpu[k] = used
        return _cpu_s(self.pid) + sum(self._kid_cpu.values())

    def rss_between(self, lo_s: float, hi_s: float) -> float:
        """Median resident memory of the service process over [lo_s, hi_s)."""
        chosen = [s.rss_mb for s in self.samples if lo_s <= s.at_s < hi_s]
        return float(np.median(chosen)) if chosen else float("nan")

    def slope_mb_per_min(self, from_s: float, to_s: float) -> float:
        """Least-squares trend of the service's memory between two instants."""
        pts = [(s.at_s, s.rss_mb) for s in self.samples if from_s <= s.at_s <= to_s]
        if len(pts) < 3:
            return float("nan")
        x, y = np.array(pts).T
        return float(np.polyfit(x / 60, y, 1)[0])
