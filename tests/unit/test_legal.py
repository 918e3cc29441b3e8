"""The legal hours as data: a campaign's windows bind its own country only, never past the law."""

from __future__ import annotations

import datetime as dt

from scheduler.legal import debtor_countries, effective_windows, intersect, legal_windows
from scheduler.windows import Window

H = dt.time
ROUND_THE_CLOCK = tuple(Window(d, H(0), H(0)) for d in range(7))


def _by_day(windows: tuple[Window, ...]) -> dict[int, tuple[dt.time, dt.time]]:
    return {w.weekday: (w.start, w.end) for w in windows}


def test_brazil_legal_hours_clip_a_round_the_clock_campaign() -> None:
    got = _by_day(effective_windows(ROUND_THE_CLOCK, "BR", ("BR",)))
    assert got == {**{d: (H(8), H(20)) for d in range(5)}, 5: (H(8), H(14))}  # no Sunday


def test_us_hours_in_a_us_campaign() -> None:
    wide = tuple(Window(d, H(6), H(23)) for d in range(7))
    assert _by_day(effective_windows(wide, "US", ("US",))) == {d: (H(8), H(21)) for d in range(7)}


def test_a_campaign_of_another_country_gives_the_debtor_their_country_defaults() -> None:
    narrow = (Window(0, H(9), H(10)),)
    assert effective_windows(ROUND_THE_CLOCK, "BR", ("US",)) == legal_windows("US")
    assert effective_windows(narrow, "BR", ("US",)) == legal_windows("US")
    # Its own country's debtors get the campaign's (stricter) windows.
    assert effective_windows(narrow, "BR", ("BR",)) == narrow


def test_a_debtor_bound_by_two_countries_gets_what_both_allow() -> None:
    assert debtor_countries("BR", ["+5511987654321", "+12125550123"]) == ("BR", "US")
    both = _by_day(effective_windows((), None, ("BR", "US")))
    assert both == {**{d: (H(8), H(20)) for d in range(5)}, 5: (H(8), H(14))}


def test_intersect_keeps_only_overlaps() -> None:
    a = (Window(0, H(8), H(12)), Window(0, H(14), H(0)))
    b = (Window(0, H(10), H(15)), Window(1, H(8), H(9)))
    assert intersect(a, b) == (Window(0, H(10), H(12)), Window(0, H(14), H(15)))
