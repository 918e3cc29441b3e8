"""Reading and checking a debtor file chunk by chunk, beside the writes.

The rows are read and checked (``ivr.store.import_rows``) by a producer that
runs ahead of the database writes by at most :data:`AHEAD` chunks, so memory
holds a few chunks whatever the file's length. A large file is read by
another process, started for the import: the checks are pure Python, and in
the importing process they would hold its interpreter while the database
waits for its next statement (and, in the service, while a webhook waits for
its answer); two processes keep both cores busy, one checking, one (with
PostgreSQL) writing. A small file is read by a thread: starting a process
costs more than the file.

The checking process is batch work beside a service that answers calls, so
it steps aside (:func:`_step_aside`) and gives way often
(:data:`GIVE_WAY_ROWS`). Lowering its priority alone was not enough: the
kernel here switches between busy tasks at its tick (every 4 ms at 250 Hz),
not when a request wakes the service, so each of the service's wake-ups
could wait up to a tick behind the checks, whatever their priority
(measured during a million-row insert: the service's webhook p99 was 1.7 to
2.2 times its idle figure, and 1.4 to 1.9 times once the checks give way).

A chunk carries its good rows already in the form the writer wants
(``encode``: COPY text for PostgreSQL, the rows themselves for SQLite) and
the lines refused on their own, each with its line and reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import sys
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from ivr.store.csvfile import read_checked
from ivr.store.import_report import RowError, RowRejected
from ivr.store.import_rows import DebtorRow, validate_row

AHEAD = 2  # chunks checked and waiting for the writer, at most
PROCESS_BYTES = 4 << 20  # a file this large is checked by its own process (~40,000 rows)
# The checks are batch work beside a service answering calls: when both want
# the CPU, the service's turn comes first. An idle CPU is still all theirs.
CHECK_NICENESS = 10  # where the kernel has no idle scheduling class
# The checking process offers its core to any task waiting for one every this
# many rows (about 0.3 ms of checks); with no one waiting it costs a system call.
GIVE_WAY_ROWS = 8
_PREFIX = 8  # bytes of a chunk's length before it, on the checking process's stdout

Encode = Callable[[list[DebtorRow]], Any]


@dataclass
class Chunk:
    """Up to ``size`` good rows, encoded, and the lines refused among them."""

    rows: Any  # encode(the good rows)
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class Source:
    """What a producer needs to read the file again (a process gets a copy)."""

    path: Path
    codec: str
    default_locale: str
    size: int
    encode: Encode


def checked_chunks(
    src: Source, give_way: Callable[[], object] | None = None
) -> Generator[Chunk, None, None]:
    """The file's rows, checked one by one, ``src.size`` good rows a chunk;
    ``give_way`` (if any) is called every :data:`GIVE_WAY_ROWS` lines."""
    rows: list[DebtorRow] = []
    errors: list[RowError] = []
    for count, rec in enumerate(read_checked(src.path, src.codec).records, 1):
        if give_way is not None and count % GIVE_WAY_ROWS == 0:
            give_way()
        values = rec.values
        if rec.error is not None:
            errors.append(rec.row_error((values.get("external_ref") or "").strip()))
            continue
        if not any(v.strip() for v in values.values()):
            continue
        try:
            rows.append(validate_row(rec.line, values, src.default_locale))
        except RowRejected as exc:  # RowInvalid, AmountInvalid, ChannelInvalid, payment details
            errors.append(RowError.of(rec.line, exc, (values.get("external_ref") or "").strip()))
            continue
        if len(rows) >= src.size:
            yield Chunk(src.encode(rows), errors)
            rows, errors = [], []
    if rows or errors:
        yield Chunk(src.encode(rows), errors)


async def chunks(src: Source) -> AsyncGenerator[Chunk, None]:
    """The checked chunks, produced ahead of the caller by a thread or a process."""
    large = src.path.stat().st_size >= PROCESS_BYTES
    produced = _from_process(src) if large else _from_thread(src)
    async with contextlib.aclosing(produced):
        async for chunk in produced:
            yield chunk


async def _from_thread(src: Source) -> AsyncGenerator[Chunk, None]:
    """One chunk checked in a thread while the caller writes the one before."""
    produced = checked_chunks(src)
    pending = asyncio.ensure_future(asyncio.to_thread(next, produced, None))
    try:
        while (chunk := await pending) is not None:
            pending = asyncio.ensure_future(asyncio.to_thread(next, produced, None))
            yield chunk
    finally:
        if not pending.done():
            await asyncio.wait([pending])  # the thread finishes its chunk; drop it
        produced.close()


async def _from_process(src: Source) -> AsyncGenerator[Chunk, None]:
    """Chunks from a process of its own, read ahead into a queue of :data:`AHEAD`.

    A plain ``python -c`` child (not ``multiprocessing``, which would run the
    caller's main script again in it) gets the :class:`Source` on its stdin
    and writes each chunk, pickled and length-prefixed, on its stdout; a pipe
    it cannot write to holds it, so it runs ahead by a few chunks at most.
    """
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from ivr.store.import_stream import serve; serve()",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(pickle.dumps(src))
    proc.stdin.close()
    ahead: asyncio.Queue[Chunk | BaseException | None] = asyncio.Queue(AHEAD)
    reader = asyncio.create_task(_read(proc.stdout, ahead))
    try:
        while (item := await ahead.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
        if await proc.wait() != 0:
            raise RuntimeError(f"the import's checking process failed ({proc.returncode})")
    finally:
        reader.cancel()
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):  # it may have just ended
                proc.kill()  # the caller stopped early: nothing more to check
            await proc.wait()


async def _read(stdout: asyncio.StreamReader, ahead: asyncio.Queue[Any]) -> None:
    """The child's chunks into ``ahead``, then None (at its end or if it died)."""
    try:
        while size := int.from_bytes(await stdout.readexactly(_PREFIX), "big"):
            await ahead.put(pickle.loads(await stdout.readexactly(size)))
    except asyncio.IncompleteReadError:
        await ahead.put(RuntimeError("the import's checking process stopped"))
        return
    await ahead.put(None)


def serve() -> None:
    """The checking process: read a :class:`Source` on stdin, write every chunk
    on stdout, then an empty frame (or an exception, and stop)."""
    src = pickle.load(sys.stdin.buffer)
    _step_aside()
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything else printed goes to stderr, not between the frames
    try:
        for chunk in checked_chunks(src, os.sched_yield):
            _frame(out, chunk)
    except Exception as exc:  # e.g. the file vanished: the importer raises it
        _frame(out, exc)
        out.write(bytes(_PREFIX))
        out.flush()
        sys.exit(1)
    out.write(bytes(_PREFIX))
    out.flush()


def _step_aside() -> None:
    """Run in the idle scheduling class where the kernel has one (a core's
    other tasks always come first), else at a lower priority."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):  # not Linux
        os.nice(CHECK_NICENESS)


def _frame(out: BinaryIO, item: object) -> None:
    data = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(len(data).to_bytes(_PREFIX, "big"))
    out.write(data)
    out.flush()
