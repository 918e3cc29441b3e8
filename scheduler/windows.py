"""Call windows in the debtor's local time: weekdays, hours, holidays, blocked dates.

Everything here is a pure function of an instant, so the planner, the claim
and the tests all ask the same question the same way. Instants are UTC;
windows are wall-clock ranges in a debtor's IANA zone (``zoneinfo``, so US DST
is handled by the zone database, not by arithmetic). When a debtor's zone is
ambiguous (an area code that spans zones, several numbers in different zones)
a call is allowed only at instants that are inside the window in *every*
candidate zone: the rule is "never outside the window", not "usually inside".
Which zones those are is ``scheduler.zones``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import holidays
import holidays.countries  # every calendar at import (see below)

from ivr.calling_hours import default_hours

MIDNIGHT = dt.time(0, 0)


@dataclass(frozen=True)
class Window:
    """One allowed range on one weekday (0 = Monday), local wall-clock time.

    ``end`` is exclusive; ``end == 00:00`` means "until midnight".
    """

    weekday: int
    start: dt.time
    end: dt.time

    def contains(self, local: dt.datetime) -> bool:
        if local.weekday() != self.weekday:
            return False
        t = local.time().replace(tzinfo=None)
        if t < self.start:
            return False
        return self.end == MIDNIGHT or t < self.end


def default_windows(country: str) -> list[Window]:
    """The windows to ship when a campaign sets none (``ivr.calling_hours`` holds the hours).

    Brazil: Mon-Fri 08:00-20:00, Sat 08:00-14:00, never Sunday. USA: every day
    08:00-21:00 (Reg F). Holidays are excluded separately for both.
    """
    return [Window(*h) for h in default_hours(country)]


@functools.lru_cache(maxsize=512)
def _holiday_table(country: str, region: str | None, year: int) -> holidays.HolidayBase | None:
    try:
        return holidays.country_holidays(country, subdiv=region, years=year)
    except (NotImplementedError, KeyError):
        return None


# The calendars are imported with this module (``holidays`` loads its ~280
# country modules lazily, on the first lookup): at start-up, where the service
# freezes what it loaded, rather than inside the first claim that meets a
# holiday or a region, which then took 0.05 to 0.8 s longer.
@functools.lru_cache(maxsize=64)
def _known_subdivisions(country: str) -> frozenset[str]:
    try:
        return frozenset(holidays.list_supported_countries().get(country, ()))
    except Exception:  # pragma: no cover - library without the listing
        return frozenset()


@functools.lru_cache(maxsize=65536)
def is_holiday(day: dt.date, country: str, region: str | None = None) -> bool:
    """A national holiday of ``country``, or a state one of ``region``.

    An unknown region falls back to the national calendar (never an error
    that would stop calls or, worse, skip the national holidays).
    """
    country = country.upper()
    sub = region.upper() if region else None
    if sub is not None and sub not in _known_subdivisions(country):
        sub = None
    table = _holiday_table(country, sub, day.year)
    return table is not None and day in table


def is_business_day(day: dt.date, country: str, region: str | None = None) -> bool:
    """Monday to Friday and not a holiday: the days banks clear payments."""
    return day.weekday() < 5 and not is_holiday(day, country, region)


def business_day_on_or_after(day: dt.date, country: str, region: str | None = None) -> dt.date:
    """``day`` itself if banks open on it, else the next day they do: a payment
    promised for a Saturday or a holiday clears on the following business day."""
    while not is_business_day(day, country, region):
        day += dt.timedelta(days=1)
    return day


def nth_business_day(
    year: int, month: int, n: int, country: str, region: str | None = None
) -> dt.date | None:
    """The ``n``-th business day of a month (``n=-1``: the last), holidays
    counted; None when the month has fewer. Brazilian salaries are due by the
    fifth ("quinto dia útil"), so debtors name their payday this way."""
    day = dt.date(year, month, 1)
    days: list[dt.date] = []
    while day.month == month:
        if is_business_day(day, country, region):
            days.append(day)
        day += dt.timedelta(days=1)
    if n == -1:
        return days[-1] if days else None
    return days[n - 1] if 1 <= n <= len(days) else None


@functools.lru_cache(maxsize=4096)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _frozen(blocked: Iterable[dt.date]) -> frozenset[dt.date]:
    return blocked if isinstance(blocked, frozenset) else frozenset(blocked)


def _closing(
    local: dt.datetime,
    windows: Sequence[Window],
    country: str,
    region: str | None,
    blocked: frozenset[dt.date],
) -> Iterator[str]:
    """The one statement of what closes a local instant, lazily: a caller that
    needs only "open or not" stops at the first reason (:func:`is_callable_at`
    runs for every candidate instant of :func:`next_open`)."""
    day = local.date()
    if is_holiday(day, country, region):
        yield "holiday"
    if day in blocked:
        yield "blocked_date"
    if not any(w.contains(local) for w in windows):
        yield "outside_window"


def closed_reasons_local(
    local: dt.datetime,
    windows: Sequence[Window],
    country: str,
    region: str | None,
    blocked: Iterable[dt.date] = (),
) -> list[str]:
    """Why this local instant is closed: any of outside_window, holiday, blocked_date."""
    return list(_closing(local, windows, country, region, _frozen(blocked)))


def closed_reasons(
    now_utc: dt.datetime,
    zones: Sequence[str],
    windows: Sequence[Window],
    country: str,
    region: str | None = None,
    blocked: Iterable[dt.date] = (),
) -> dict[str, list[str]]:
    """Per zone, why ``now_utc`` is closed there; empty dict means open everywhere."""
    if not zones:
        return {"": ["no_timezone"]}
    blocked_set = _frozen(blocked)
    out: dict[str, list[str]] = {}
    for name in zones:
        why = list(_closing(now_utc.astimezone(_zone(name)), windows, country, region, blocked_set))
        if why:
            out[name] = why
    return out


def is_callable_at(
    now_utc: dt.datetime,
    zones: Sequence[str],
    windows: Sequence[Window],
    country: str,
    region: str | None = None,
    blocked: Iterable[dt.date] = (),
) -> bool:
    """True only inside a window, off holidays and blocked dates, in every zone."""
    if not zones or not windows:
        return False
    blocked_set = _frozen(blocked)
    for name in zones:
        local = now_utc.astimezone(_zone(name))
        if next(_closing(local, windows, country, region, blocked_set), None) is not None:
            return False
    return True


def local_day(now_utc: dt.datetime, zone: str) -> dt.date:
    return now_utc.astimezone(_zone(zone)).date()


@functools.lru_cache(maxsize=8192)
def local_midnight_utc(day: dt.date, zone: str) -> dt.datetime:
    """The UTC instant at which ``day`` starts in ``zone``."""
    return _wall_to_utc(day, MIDNIGHT, _zone(zone))


def add_business_days(
    now: dt.datetime, days: int, zone: str, country: str, region: str | None
) -> dt.datetime:
    """The local midnight after ``days`` business days (no weekends or holidays) from ``now``.

    Used for the pause after "I already paid": bank clearing counts business days.
    """
    day = local_day(now, zone)
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        if is_business_day(day, country, region):
            counted += 1
    return local_midnight_utc(day + dt.timedelta(days=1), zone)


@functools.lru_cache(maxsize=4096)
def day_bounds_utc(now_utc: dt.datetime, zone: str) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in UTC of the local day that contains ``now_utc`` in ``zone``
    (cached: the caps ask it for every person of a batch at the same instant)."""
    day = local_day(now_utc, zone)
    return local_midnight_utc(day, zone), local_midnight_utc(day + dt.timedelta(days=1), zone)


def _wall_to_utc(day: dt.date, t: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The first UTC instant whose local wall clock in ``zone`` reads ``day t`` or later.

    In a spring-forward gap the wall time does not exist; the first instant at
    or after it is the transition itself, which :func:`_transitions` supplies.
    Here the earlier of the two fold readings is returned, and the caller
    always re-checks candidates, so a reading inside a gap is harmless.
    """
    a = dt.datetime.combine(day, t, tzinfo=zone).astimezone(dt.UTC)
    b = dt.datetime.combine(day, t, tzinfo=zone).replace(fold=1).astimezone(dt.UTC)
    return min(a, b)


def _transitions(zone: ZoneInfo, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """UTC instants in [start, end) at which the zone's offset changes (DST)."""
    out: list[dt.datetime] = []
    step = dt.timedelta(hours=6)
    t = start
    off = t.astimezone(zone).utcoffset()
    while t < end:
        nxt = min(t + step, end)
        noff = nxt.astimezone(zone).utcoffset()
        if noff != off:
            lo, hi = t, nxt  # offset(lo) == off, offset(hi) != off
            while hi - lo > dt.timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                if mid.astimezone(zone).utcoffset() == off:
                    lo = mid
                else:
                    hi = mid
            out.append(hi.replace(microsecond=0))
            off = noff
        t = nxt
    return out


def next_open(
    now_utc: dt.datetime,
    zones: Sequence[str],
    windows: Sequence[Window],
    country: str,
    region: str | None = None,
    blocked: Iterable[dt.date] = (),
    *,
    horizon_days: int = 21,
) -> dt.datetime | None:
    """The earliest instant >= ``now_utc`` at which :func:`is_callable_at` is true.

    Openness only changes at a window start or end, a local midnight or a DST
    transition in one of the zones, so the earliest such boundary (or
    ``now_utc`` itself) that is open is the answer. ``None`` when nothing
    opens within ``horizon_days`` (e.g. no windows at all).
    """
    if not zones or not windows:
        return None
    blocked_set = frozenset(blocked)
    now_utc = now_utc.astimezone(dt.UTC)
    if is_callable_at(now_utc, zones, windows, country, region, blocked_set):
        return now_utc
    limit = now_utc + dt.timedelta(days=horizon_days)
    candidates: set[dt.datetime] = set()
    for name in zones:
        zone = _zone(name)
        first = now_utc.astimezone(zone).date() - dt.timedelta(days=1)
        for i in range(horizon_days + 2):
            day = first + dt.timedelta(days=i)
            candidates.add(_wall_to_utc(day, MIDNIGHT, zone))
            for w in windows:
                if w.weekday == day.weekday():
                    candidates.add(_wall_to_utc(day, w.start, zone))
        candidates.update(_transitions(zone, now_utc, limit))
    for c in sorted(c for c in candidates if now_utc < c <= limit):
        if is_callable_at(c, zones, windows, country, region, blocked_set):
            return c
    return None


def parse_blocked(values: Iterable[str | dt.date]) -> frozenset[dt.date]:
    """Supervisor-blocked dates as stored on the campaign (ISO strings); bad ones are skipped."""
    out: set[dt.date] = set()
    for v in values or ():
        if isinstance(v, dt.date):
            out.add(v)
            continue
        try:
            out.add(dt.date.fromisoformat(str(v).strip()))
        except ValueError:
            continue
    return frozenset(out)


def holidays_between(
    country: str,
    regions: Sequence[str],
    first: dt.date,
    last: dt.date,
    language: str | None = None,
) -> list[tuple[dt.date, str, tuple[str, ...]]]:
    """The holidays ``is_holiday`` knows from ``first`` to ``last``, named in ``language``
    (e.g. ``pt_BR``, else the country's own): (day, name, regions), national ones with
    no regions, a state's own with the regions among ``regions`` that keep it.
    Unknown regions are left out, as ``is_holiday`` falls back to the national calendar."""
    country = country.upper()
    years = list(range(first.year, last.year + 1))
    try:
        supported = holidays.country_holidays(country).supported_languages
    except (NotImplementedError, KeyError):
        return []
    lang = language if language in supported else None
    national = holidays.country_holidays(country, years=years, language=lang)
    out: dict[dt.date, tuple[str, set[str]]] = {
        d: (str(name), set()) for d, name in national.items() if first <= d <= last
    }
    known = _known_subdivisions(country)
    for region in sorted({r.upper() for r in regions} & known):
        table = holidays.country_holidays(country, subdiv=region, years=years, language=lang)
        for d, name in table.items():
            if first <= d <= last and d not in national:
                out.setdefault(d, (str(name), set()))[1].add(region)
    return [(d, name, tuple(sorted(regs))) for d, (name, regs) in sorted(out.items())]
