"""Measuring a call rate from creation times (no tests here).

The shared pacer's test (tests/integration/test_pacing_shared.py) and the
replicas' end-to-end pacing test (tests/e2e/test_pacing_replicas.py, which
also checks this function) count bursts the same way.
"""

from __future__ import annotations


def max_per_second(times: list[float]) -> int:
    """The most creations inside any half-open one-second window [t, t + 1)."""
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best
