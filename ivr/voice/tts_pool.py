"""Synthesis worker processes seen from the service: a small pool, urgent jobs first.

Each worker is a child process running :mod:`ivr.voice.tts_worker` (the engine
is a per-process singleton that cannot run from two threads, prints to
stdout, and may hang). One worker runs one job at a time; a job that takes
longer than its limit gets its worker killed and restarted and is tried once
more before :class:`TtsError` is raised.

Why several: a call's reply often carries what only this call says (a name,
an amount, the date just promised), so it is synthesized during the turn.
With one worker, forty calls needing a fresh reply at the same moment waited
for each other (a render is about 20 ms, most of it the engine's own waits,
not CPU). With a worker per core they are rendered side by side. Why
priorities: renders made ahead of need (a reply the caller is likely to
want, a debtor's prompts before dialing) must never make a caller wait, so a
free worker always goes to a waiting urgent job first, and a job made ahead
of need is promoted when a caller comes to need it (:meth:`Ticket.promote`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ivr
from ivr.voice.errors import TtsError

WORKER_MODULE = "ivr.voice.tts_worker"
STARTUP_TIMEOUT_S = 30.0
MAX_DEFAULT_WORKERS = 4


def default_workers() -> int:
    """One worker per core, at least two (a render mostly waits), at most four."""
    return max(2, min(MAX_DEFAULT_WORKERS, os.cpu_count() or 2))


def worker_env() -> dict[str, str]:
    """The child must import this package even when it is not installed."""
    env = dict(os.environ)
    root = str(Path(ivr.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class _WorkerGone(Exception):
    """The worker closed its pipe (crashed or was killed)."""


@dataclass(eq=False)
class Ticket:
    """A job's place in the queue for a worker; urgent ones are served first."""

    urgent: bool
    on_promote: Callable[[], None] | None = None  # the pool, while the job waits

    def promote(self) -> None:
        """Someone now waits for this job's result: serve it as urgent."""
        if not self.urgent:
            self.urgent = True
            if self.on_promote is not None:
                self.on_promote()


@dataclass(eq=False)
class _Waiter:
    ticket: Ticket
    granted: asyncio.Future[WorkerProcess] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class WorkerProcess:
    """One synthesis child process, started on first use and after a kill."""

    def __init__(self, python: str = sys.executable) -> None:
        self.python = python
        self.proc: asyncio.subprocess.Process | None = None
        self._next_id = 0
        self.orphans: list[Path] = []  # temporary files of jobs whose caller gave up

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    async def ensure(self) -> asyncio.subprocess.Process:
        if self.proc is not None and self.proc.returncode is None:
            return self.proc
        try:
            self.proc = await asyncio.create_subprocess_exec(
                self.python,
                "-m",
                WORKER_MODULE,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env=worker_env(),
            )
        except OSError as exc:
            raise TtsError(f"speech synthesis worker did not start: {exc}") from exc
        # Start-up (interpreter, engine, warm-up run) is not part of any job's
        # time limit: wait for it here, with a limit of its own.
        proc = self.proc
        try:
            reply = await asyncio.wait_for(
                self.roundtrip(proc, {"op": "info", "voices": []}), STARTUP_TIMEOUT_S
            )
        except (TimeoutError, _WorkerGone):
            await self.kill()
            raise TtsError(
                f"speech synthesis worker did not start within {STARTUP_TIMEOUT_S:g} s"
            ) from None
        if not reply.get("ok"):
            await self.kill()
            raise TtsError(str(reply.get("error")))
        return proc

    async def roundtrip(
        self, proc: asyncio.subprocess.Process, job: dict[str, Any]
    ) -> dict[str, Any]:
        assert proc.stdin is not None and proc.stdout is not None
        self._next_id += 1
        job_id = self._next_id
        try:
            proc.stdin.write((json.dumps({"id": job_id, **job}) + "\n").encode("utf-8"))
            await proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise _WorkerGone from exc
        while True:
            line = await proc.stdout.readline()
            if not line:
                raise _WorkerGone
            reply: dict[str, Any] = json.loads(line)
            if reply.get("id") == job_id:  # skip replies to jobs whose caller gave up
                self.drop_orphans()
                return reply

    async def kill(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        self.drop_orphans()

    async def close(self) -> None:
        """Stop politely (end of input), then by force."""
        proc = self.proc
        if proc is None or proc.returncode is not None:
            self.proc = None
            return
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 2.0)
        except TimeoutError:
            await self.kill()
        self.proc = None
        self.drop_orphans()

    def drop_orphans(self) -> None:
        """Remove temporary files of cancelled jobs (the worker is past them)."""
        while self.orphans:
            with contextlib.suppress(FileNotFoundError):
                self.orphans.pop().unlink()


class WorkerPool:
    """``size`` workers; a job waits for a free one, urgent jobs first.

    Jobs made ahead of need never take the last free worker: a caller's
    render then finds one at once instead of waiting for a render nobody
    waits for (with one worker, they queue behind urgent ones only)."""

    def __init__(self, size: int, timeout: float, python: str = sys.executable) -> None:
        if size < 1:
            raise ValueError("a synthesis pool needs at least one worker")
        self.timeout = timeout
        self.workers = [WorkerProcess(python) for _ in range(size)]
        self.restarts = 0
        self._idle = list(self.workers)
        self._waiting: list[_Waiter] = []
        self._running: dict[WorkerProcess, Ticket] = {}

    @property
    def pids(self) -> list[int]:
        return [w.pid for w in self.workers if w.pid is not None]

    async def start(self) -> None:
        """Start every worker at once, so the first calls do not wait for one."""
        await asyncio.gather(*(w.ensure() for w in self.workers))

    async def close(self) -> None:
        await asyncio.gather(*(w.close() for w in self.workers))

    async def job(
        self,
        job: dict[str, Any],
        ticket: Ticket | None = None,
        limit_s: float | None = None,
        on_cancel: Callable[[WorkerProcess], None] | None = None,
    ) -> dict[str, Any]:
        """Run one job on a free worker: kill and restart it on a timeout, retry once.

        ``on_cancel`` is told which worker was running the job when its caller
        gave up (the worker finishes it before its next reply)."""
        worker = await self._acquire(ticket or Ticket(urgent=True))
        try:
            return await self._run(worker, job, self.timeout if limit_s is None else limit_s)
        except asyncio.CancelledError:
            if on_cancel is not None:
                on_cancel(worker)
            raise
        finally:
            self._release(worker)

    async def _run(
        self, worker: WorkerProcess, job: dict[str, Any], limit: float
    ) -> dict[str, Any]:
        failure = ""
        for _attempt in range(2):
            proc = await worker.ensure()
            try:
                reply = await asyncio.wait_for(worker.roundtrip(proc, job), limit)
            except TimeoutError:
                failure = f"synthesis took longer than {limit:g} s"
            except _WorkerGone:
                failure = f"synthesis worker exited (code {proc.returncode})"
            else:
                if not reply.get("ok") and job.get("op") != "info":
                    raise TtsError(f"synthesis failed: {reply.get('error')}")
                return reply
            await worker.kill()
            self.restarts += 1
        raise TtsError(f"{failure}; gave up after a restart and a retry")

    def _may_start(self, ticket: Ticket) -> bool:
        """An urgent job may take any idle worker, one made ahead all but the last."""
        if ticket.urgent or len(self.workers) == 1:
            return True
        ahead = sum(not t.urgent for t in self._running.values())
        return ahead < len(self.workers) - 1

    async def _acquire(self, ticket: Ticket) -> WorkerProcess:
        waiter = _Waiter(ticket)
        self._waiting.append(waiter)
        ticket.on_promote = self._dispatch
        self._dispatch()
        try:
            return await waiter.granted
        except asyncio.CancelledError:
            if waiter in self._waiting:
                self._waiting.remove(waiter)
            elif waiter.granted.done() and not waiter.granted.cancelled():
                self._release(waiter.granted.result())  # granted as we gave up: pass it on
            raise
        finally:
            ticket.on_promote = None

    def _release(self, worker: WorkerProcess) -> None:
        self._running.pop(worker, None)
        self._idle.append(worker)
        self._dispatch()

    def _dispatch(self) -> None:
        """Hand idle workers to waiters: urgent ones first, then, in order, the
        jobs made ahead that may start (:meth:`_may_start`)."""
        self._waiting = [w for w in self._waiting if not w.granted.done()]
        while self._idle and self._waiting:
            chosen = next((w for w in self._waiting if w.ticket.urgent), None)
            if chosen is None and self._may_start(self._waiting[0].ticket):
                chosen = self._waiting[0]
            if chosen is None:
                return
            self._waiting.remove(chosen)
            worker = self._idle.pop()
            self._running[worker] = chosen.ticket
            chosen.granted.set_result(worker)
