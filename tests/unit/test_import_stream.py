"""The import's checking process gives its core to the service (ivr.store.import_stream).

The checks are pure Python batch work beside a service that answers calls.
The kernel of this machine switches between busy tasks at its tick, not when a
request wakes the service, so a lower priority alone left each of the
service's wake-ups waiting up to a tick: the checks must give way on their own,
every few rows, and run in the idle scheduling class where there is one.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ivr.store import import_stream
from ivr.store.import_stage import copy_text
from ivr.store.import_stream import GIVE_WAY_ROWS, Source, checked_chunks

HEADER = "external_ref,name,phone,amount,due_date,creditor,locale\n"


def portfolio(path: Path, rows: int, bad_every: int = 0) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for i in range(rows):
            amount = "muito" if bad_every and i % bad_every == 0 else f"{10 + i}.50"
            out.write(f"G{i},Pessoa {i},+55119{i:08d},{amount},2026-12-01,Loja,pt-BR\n")
    return path


def source(path: Path, size: int = 50) -> Source:
    return Source(path, "utf-8", "pt-BR", size, copy_text)


def test_the_checks_give_way_every_few_lines_good_or_bad(tmp_path: Path) -> None:
    """Every GIVE_WAY_ROWS lines, refused ones included (a file of bad rows is
    as long to check), and the chunks are the same as without the calls."""
    path = portfolio(tmp_path / "p.csv", 203, bad_every=5)
    calls: list[int] = []
    given = list(checked_chunks(source(path), lambda: calls.append(1)))
    plain = list(checked_chunks(source(path)))
    assert len(calls) == 203 // GIVE_WAY_ROWS
    assert [(c.rows, [e.line for e in c.errors]) for c in given] == [
        (c.rows, [e.line for e in c.errors]) for c in plain
    ]
    assert sum(len(c.errors) for c in given) == 41  # the bad rows were checked too


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="the idle class is Linux's")
def test_the_checking_process_runs_in_the_idle_class(tmp_path: Path) -> None:
    """The process the importer starts for a large file: left with a full pipe
    (nothing reads its chunks), it waits, and its class can be read."""
    path = portfolio(tmp_path / "big.csv", 3000)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.Popen(
        [sys.executable, "-c", "from ivr.store.import_stream import serve; serve()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    try:
        assert proc.stdin is not None
        proc.stdin.write(pickle.dumps(source(path, size=100)))
        proc.stdin.close()
        deadline = time.monotonic() + 20
        policy = os.sched_getscheduler(proc.pid)
        while policy != os.SCHED_IDLE and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
            policy = os.sched_getscheduler(proc.pid)
        assert policy == os.SCHED_IDLE
    finally:
        proc.kill()
        proc.wait()


def test_without_the_idle_class_it_lowers_its_priority(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the kernel refuses the idle class, the niceness is what is left."""
    niced: list[int] = []

    def refuse(*_: object) -> None:
        raise OSError("no idle class here")

    monkeypatch.setattr(os, "sched_setscheduler", refuse)
    monkeypatch.setattr(os, "nice", niced.append)
    import_stream._step_aside()
    assert niced == [import_stream.CHECK_NICENESS]
