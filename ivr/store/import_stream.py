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

A chunk carries its good rows already in the form the writer wants
(``encode``: COPY text for PostgreSQL, the rows themselves for SQLite) and
the lines refused on their own, each with its line and reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import queue
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

from ivr.store.csvfile import read_checked
from ivr.store.import_report import RowError, RowRejected
from ivr.store.import_rows import DebtorRow, validate_row

AHEAD = 2  # chunks checked and waiting for the writer, at most
PROCESS_BYTES = 4 << 20  # a file this large is checked by its own process (~40,000 rows)
POLL_S = 0.5  # how often a writer waiting for a chunk checks the producer is alive

Encode = Callable[[list[DebtorRow]], Any]


@dataclass
class Chunk:
    """Up to ``size`` good rows, encoded, and the lines refused among them."""

    good: int
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


def checked_chunks(src: Source) -> Generator[Chunk, None, None]:
    """The file's rows, checked one by one, ``src.size`` good rows a chunk."""
    rows: list[DebtorRow] = []
    errors: list[RowError] = []
    for rec in read_checked(src.path, src.codec).records:
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
            yield Chunk(len(rows), src.encode(rows), errors)
            rows, errors = [], []
    if rows or errors:
        yield Chunk(len(rows), src.encode(rows), errors)


async def chunks(src: Source) -> AsyncIterator[Chunk]:
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
    """Chunks from a process of their own, through a queue of :data:`AHEAD`."""
    ctx = multiprocessing.get_context("spawn")  # no copy of this process's threads and loop
    out: Queue[Chunk | BaseException | None] = ctx.Queue(AHEAD)
    proc = ctx.Process(target=_produce, args=(src, out), name="ivr-import-check", daemon=True)
    proc.start()
    try:
        while (item := await asyncio.to_thread(_next, out, proc)) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        if proc.is_alive():
            proc.terminate()  # the caller stopped early: nothing more to check
        await asyncio.to_thread(proc.join)
        out.close()


def _produce(src: Source, out: Queue[Chunk | BaseException | None]) -> None:
    """The checking process: every chunk, then None (or what went wrong)."""
    try:
        for chunk in checked_chunks(src):
            out.put(chunk)
    except Exception as exc:  # e.g. the file vanished: the importer reports it
        out.put(exc)
        return
    out.put(None)


def _next(
    out: Queue[Chunk | BaseException | None], proc: BaseProcess
) -> Chunk | BaseException | None:
    while True:
        try:
            return out.get(timeout=POLL_S)
        except queue.Empty:
            if not proc.is_alive():
                return RuntimeError(f"the import's checking process stopped ({proc.exitcode})")
