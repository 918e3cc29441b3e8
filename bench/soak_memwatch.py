"""``ivr serve`` with a memory watch: what grows inside the service, written every N seconds.

Used by ``bench/soak.py --memory-watch N`` to tell a leak from a cache
filling up or a fragmented heap. A thread in the service process writes one
JSON line per sample to ``IVR_SOAK_MEMWATCH_FILE``:

* ``types``: live objects per type among those the garbage collector tracks
  (containers, class instances, tasks, frames), created after start-up
  (``ivr serve`` freezes the start-up objects, which then no longer count);
* ``malloc``: glibc's heap in use, free inside the heap, and mmapped (where
  large buffers, the speech model and the recognizers live), from
  ``mallinfo2`` -- heap in use flat while RSS grows means fragmentation.

With ``PYTHONTRACEMALLOC`` set, SIGUSR1 takes a tracemalloc snapshot: the
first is the base, each later one writes the source lines whose allocations
grew most since then (``<file>.tracemalloc.txt``).

A full collection and counting every object stall the service for tens of
milliseconds (tracemalloc slows it down throughout), so this is for
diagnosis only, never for the figures.

    python bench/soak_memwatch.py serve --host 127.0.0.1 --port 8080
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import signal
import sys
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def malloc_mb() -> dict[str, float]:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        info = libc.mallinfo2()
    except (OSError, AttributeError):
        return {}
    mb = 1024 * 1024
    return {
        "heap_in_use": info.uordblks / mb,
        "heap_free": info.fordblks / mb,
        "mmapped": info.hblkhd / mb,
    }


def type_counts() -> Counter[str]:
    """Reachable objects per type: garbage waiting for a full collection would blur a leak."""
    gc.collect()
    return Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.get_objects())


def on_signal(path: Path) -> None:
    """SIGUSR1 (with ``PYTHONTRACEMALLOC`` set): the first is the base snapshot, each
    later one writes the allocation lines that grew most since the base to ``path``."""
    base: list[tracemalloc.Snapshot] = []

    def handler(signum: int, frame: object) -> None:
        if not tracemalloc.is_tracing():
            return
        snap = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)]
        )
        if not base:
            base.append(snap)
            return
        stats = snap.compare_to(base[0], "lineno")
        with path.open("w") as out:
            out.write(f"traced now {tracemalloc.get_traced_memory()[0] / 2**20:.1f} MB\n")
            for stat in stats[:25]:
                out.write(f"{stat}\n")

    signal.signal(signal.SIGUSR1, handler)


def watch(path: Path, every_s: float) -> None:
    with path.open("a") as out:
        while True:
            time.sleep(every_s)
            line = {
                "wall": time.time(),
                "malloc": malloc_mb(),
                "types": dict(type_counts().most_common(300)),
            }
            out.write(json.dumps(line) + "\n")
            out.flush()


def main() -> int:
    every = float(os.environ.get("IVR_SOAK_MEMWATCH", "30"))
    path = Path(os.environ.get("IVR_SOAK_MEMWATCH_FILE", "memwatch.jsonl"))
    threading.Thread(target=watch, args=(path, every), daemon=True, name="memwatch").start()
    on_signal(path.with_suffix(".tracemalloc.txt"))
    from ivr.cli import main as ivr_main

    return ivr_main(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
