"""Call windows in local time: weekdays, hours, holidays, blocked dates, DST, ambiguous zones."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from scheduler.windows import (
    Window,
    closed_reasons,
    default_windows,
    is_callable_at,
    is_holiday,
    next_open,
    parse_blocked,
)
from scheduler.zones import candidate_zones, zones_for_number

SP = "America/Sao_Paulo"
NY = "America/New_York"
CHI = "America/Chicago"


def local(y: int, m: int, d: int, hh: int, mm: int, zone: str) -> dt.datetime:
    """A local wall-clock time, as the UTC instant the scheduler receives."""
    return dt.datetime(y, m, d, hh, mm, tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)


BR = default_windows("BR")
US = default_windows("US")


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ((2026, 11, 24, 7, 59), False),  # Tuesday before 08:00
        ((2026, 11, 24, 8, 0), True),  # opens at 08:00 sharp
        ((2026, 11, 24, 19, 59), True),
        ((2026, 11, 24, 20, 0), False),  # end is exclusive
        ((2026, 11, 28, 13, 59), True),  # Saturday until 14:00
        ((2026, 11, 28, 14, 0), False),
        ((2026, 11, 29, 10, 0), False),  # never on Sunday
    ],
)
def test_brazil_default_windows(when: tuple[int, int, int, int, int], expected: bool) -> None:
    y, m, d, hh, mm = when
    assert is_callable_at(local(y, m, d, hh, mm, SP), [SP], BR, "BR", "SP") is expected


def test_brazil_national_holiday_is_closed_all_day() -> None:
    # 2026-11-20 (Friday) is Black Awareness Day, national since 2024.
    assert is_holiday(dt.date(2026, 11, 20), "BR")
    assert not is_callable_at(local(2026, 11, 20, 10, 0, SP), [SP], BR, "BR", "SP")
    assert is_callable_at(local(2026, 11, 19, 10, 0, SP), [SP], BR, "BR", "SP")


def test_sao_paulo_state_holiday_only_in_sao_paulo() -> None:
    # 2026-07-09 (Thursday): Constitutionalist Revolution, a São Paulo state holiday.
    when = local(2026, 7, 9, 10, 0, SP)
    assert not is_callable_at(when, [SP], BR, "BR", "SP")
    assert is_callable_at(when, [SP], BR, "BR", "RJ")
    assert closed_reasons(when, [SP], BR, "BR", "SP") == {SP: ["holiday"]}


def test_unknown_region_falls_back_to_national_holidays() -> None:
    assert not is_callable_at(local(2026, 11, 20, 10, 0, SP), [SP], BR, "BR", "ZZ")


def test_us_federal_holiday_thanksgiving() -> None:
    when = local(2026, 11, 26, 12, 0, NY)
    assert not is_callable_at(when, [NY], US, "US", None)
    assert is_callable_at(local(2026, 11, 25, 12, 0, NY), [NY], US, "US", None)


def test_us_state_holiday_applies_to_that_state() -> None:
    # Cesar Chavez Day (2026-03-31) is a California holiday, not a federal one.
    when = local(2026, 3, 31, 12, 0, "America/Los_Angeles")
    zones = ["America/Los_Angeles"]
    assert not is_callable_at(when, zones, US, "US", "CA")
    assert is_callable_at(when, zones, US, "US", "OR")


def test_blocked_dates() -> None:
    blocked = parse_blocked(["2026-11-24", "not a date"])
    assert blocked == frozenset({dt.date(2026, 11, 24)})
    when = local(2026, 11, 24, 10, 0, SP)
    assert not is_callable_at(when, [SP], BR, "BR", "SP", blocked)
    assert closed_reasons(when, [SP], BR, "BR", "SP", blocked) == {SP: ["blocked_date"]}
    assert is_callable_at(local(2026, 11, 25, 10, 0, SP), [SP], BR, "BR", "SP", blocked)


def test_several_ranges_per_day() -> None:
    wins = [Window(1, dt.time(9), dt.time(12)), Window(1, dt.time(14), dt.time(18))]
    assert is_callable_at(local(2026, 11, 24, 11, 0, SP), [SP], wins, "BR")
    assert not is_callable_at(local(2026, 11, 24, 13, 0, SP), [SP], wins, "BR")
    assert is_callable_at(local(2026, 11, 24, 14, 0, SP), [SP], wins, "BR")
    opening = next_open(local(2026, 11, 24, 12, 30, SP), [SP], wins, "BR")
    assert opening == local(2026, 11, 24, 14, 0, SP)


def test_local_time_follows_us_dst() -> None:
    # 08:00 in New York is 13:00 UTC in winter and 12:00 UTC in summer.
    assert is_callable_at(dt.datetime(2026, 3, 9, 12, 0, tzinfo=dt.UTC), [NY], US, "US")
    assert not is_callable_at(dt.datetime(2026, 3, 6, 12, 0, tzinfo=dt.UTC), [NY], US, "US")
    assert is_callable_at(dt.datetime(2026, 11, 2, 13, 0, tzinfo=dt.UTC), [NY], US, "US")
    assert not is_callable_at(dt.datetime(2026, 11, 2, 12, 30, tzinfo=dt.UTC), [NY], US, "US")


def test_next_open_across_spring_forward_gap() -> None:
    # A window starting at 02:30, a wall time that does not exist on 2026-03-08 in New York:
    # it opens at the transition (03:00 EDT = 07:00 UTC).
    wins = [Window(6, dt.time(2, 30), dt.time(4))]
    now = dt.datetime(2026, 3, 8, 5, 0, tzinfo=dt.UTC)
    assert next_open(now, [NY], wins, "US") == dt.datetime(2026, 3, 8, 7, 0, tzinfo=dt.UTC)


def test_next_open_on_fall_back_day() -> None:
    # 01:30 happens twice on 2026-11-01 in New York: the first one opens the window.
    wins = [Window(6, dt.time(1, 30), dt.time(4))]
    now = dt.datetime(2026, 11, 1, 4, 0, tzinfo=dt.UTC)
    assert next_open(now, [NY], wins, "US") == dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC)


def test_next_open_skips_sunday_and_holiday() -> None:
    # Saturday 2026-11-14 after 14:00 -> Sunday closed -> Monday 16th 08:00
    # (Nov 15, Republic Day, falls on the Sunday anyway).
    now = local(2026, 11, 14, 15, 0, SP)
    assert next_open(now, [SP], BR, "BR", "SP") == local(2026, 11, 16, 8, 0, SP)
    # Thursday 2026-11-19 after 20:00 -> Friday 20th is a holiday -> Saturday 08:00.
    now = local(2026, 11, 19, 21, 0, SP)
    assert next_open(now, [SP], BR, "BR", "SP") == local(2026, 11, 21, 8, 0, SP)


def test_next_open_none_without_windows() -> None:
    assert next_open(dt.datetime(2026, 1, 5, tzinfo=dt.UTC), [SP], [], "BR") is None


def test_multi_zone_number_needs_every_zone_inside_window() -> None:
    # +1 208 (Idaho) spans Mountain (Boise) and Pacific time.
    zones = zones_for_number("+12085550123")
    assert set(zones) == {"America/Boise", "America/Los_Angeles"}
    # 08:30 in Boise is 07:30 in Los Angeles: too early for the Pacific half.
    when = local(2026, 11, 24, 8, 30, "America/Boise")
    assert is_callable_at(when, ["America/Boise"], US, "US")
    assert not is_callable_at(when, zones, US, "US")
    reasons = closed_reasons(when, zones, US, "US")
    assert reasons == {"America/Los_Angeles": ["outside_window"]}
    # 20:30 in Los Angeles is 21:30 in Boise: too late for the Mountain half.
    late = local(2026, 11, 24, 20, 30, "America/Los_Angeles")
    assert not is_callable_at(late, zones, US, "US")
    # It opens when 08:00 arrives in the later zone.
    assert next_open(when, zones, US, "US") == local(2026, 11, 24, 8, 0, "America/Los_Angeles")


def test_candidate_zones_prefer_the_record() -> None:
    assert candidate_zones(CHI, ["+12085550123"], "US") == (CHI,)
    assert candidate_zones(None, ["+13125550123"], "US") == (CHI,)
    assert candidate_zones("Not/AZone", ["+5511999990000"], "BR") == (SP,)
    # Two numbers in different zones: both count.
    both = candidate_zones(None, ["+5511999990000", "+5592999990000"], "BR")
    assert both == ("America/Manaus", SP)
    # Nothing known: every zone of the country.
    assert "America/Rio_Branco" in candidate_zones(None, ["garbage"], "BR")


def test_midnight_end_means_end_of_day() -> None:
    wins = [Window(d, dt.time(0), dt.time(0)) for d in range(7)]
    assert is_callable_at(local(2026, 11, 24, 23, 59, SP), [SP], wins, "BR")
    assert is_callable_at(local(2026, 11, 24, 0, 0, SP), [SP], wins, "BR")
