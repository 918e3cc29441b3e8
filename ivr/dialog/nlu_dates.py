"""Calendar rules for spoken relative dates.

Generic date parsers resolve "sexta" to today when today is Friday and "dia 20"
to a day already gone. A promise to pay is always about the future, so these
rules are explicit and shared by every locale:

* weekday ("sexta", "friday", "próxima sexta", "next friday"): the first such
  weekday strictly after today (never today);
* weekday of next week ("sexta da semana que vem", "friday next week"): that
  weekday in the Monday-to-Sunday week after this one;
* day of month ("dia vinte", "the 20th"): the first such day on or after
  tomorrow; months without that day are skipped ("dia 30" in late January is
  30 March);
* day and month ("cinco de dezembro"): this year, or next year if already past;
* "fim do mês": the last day of this month, or of next month when today is
  already the last day;
* "semana que vem" / "next week": Monday of next week;
* "mês que vem" / "next month": the 5th of next month, the day by which most
  salaries have been paid; "começo do mês que vem": the 1st;
* a month alone ("em janeiro"): the 5th of its next occurrence; the current
  month alone means the end of this month;
* "daqui a N dias/semanas/meses": today plus that span;
* "na outra sexta" / "the friday after next": a week after "sexta";
  "the week after next": Monday of the week after next week;
* "quinto dia útil" (the way Brazilian salaries fall due): the fifth business
  day of this month, holidays counted, or of next month once it has passed
  (today itself counts: it is the day the money arrives);
* "depois do natal" / "after christmas": the day after the next Christmas
  (likewise New Year, Carnival and Thanksgiving).
"""

from __future__ import annotations

import calendar
import datetime as dt

from dateutil.easter import easter

from scheduler.windows import nth_business_day

SALARY_DAY = 5


def last_day_of_month(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day ``months`` later, clamped to the month's last day."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_weekday(today: dt.date, weekday: int) -> dt.date:
    """The first ``weekday`` (Monday = 0) strictly after today."""
    delta = (weekday - today.weekday()) % 7
    return today + dt.timedelta(days=delta or 7)


def next_week_monday(today: dt.date) -> dt.date:
    return today + dt.timedelta(days=7 - today.weekday())


def weekday_of_next_week(today: dt.date, weekday: int) -> dt.date:
    return next_week_monday(today) + dt.timedelta(days=weekday)


def next_day_of_month(today: dt.date, day: int) -> dt.date | None:
    """The first date with this day-of-month on or after tomorrow."""
    if not 1 <= day <= 31:
        return None
    start = today + dt.timedelta(days=1)
    for offset in range(0, 14):
        first = add_months(start.replace(day=1), offset)
        if day <= calendar.monthrange(first.year, first.month)[1]:
            candidate = first.replace(day=day)
            if candidate >= start:
                return candidate
    return None  # pragma: no cover - every day 1..31 occurs within 14 months


def day_of_month_offset(today: dt.date, day: int, months_ahead: int) -> dt.date | None:
    """Day ``day`` of the month ``months_ahead`` after this one, if it exists."""
    first = add_months(today.replace(day=1), months_ahead)
    if not 1 <= day <= calendar.monthrange(first.year, first.month)[1]:
        return None
    return first.replace(day=day)


def day_and_month(today: dt.date, day: int, month: int, year: int | None = None) -> dt.date | None:
    """An explicit day and month: this year, or next year once it has passed."""
    if not 1 <= month <= 12:
        return None
    years = [year] if year is not None else [today.year, today.year + 1]
    for candidate_year in years:
        try:
            candidate = dt.date(candidate_year, month, day)
        except ValueError:
            continue
        if year is not None or candidate >= today:
            return candidate
    return None


def end_of_month(today: dt.date, months_ahead: int = 0) -> dt.date:
    """Last day of this month (or of next month if today is the last day)."""
    last = last_day_of_month(today.year, today.month)
    if months_ahead == 0 and today == last:
        months_ahead = 1
    first = add_months(today.replace(day=1), months_ahead)
    return last_day_of_month(first.year, first.month)


def start_of_next_month(today: dt.date) -> dt.date:
    return add_months(today.replace(day=1), 1)


def next_month(today: dt.date) -> dt.date:
    """ "Mês que vem": the salary day of next month."""
    return add_months(today.replace(day=1), 1).replace(day=SALARY_DAY)


def month_alone(today: dt.date, month: int) -> dt.date:
    """A month said alone: its salary day at its next occurrence."""
    if month == today.month:
        return end_of_month(today)
    year = today.year if month > today.month else today.year + 1
    return dt.date(year, month, SALARY_DAY)


def weekend(today: dt.date) -> dt.date:
    """ "Fim de semana": the next Saturday after today."""
    return next_weekday(today, 5)


def weekday_after_next(today: dt.date, weekday: int) -> dt.date:
    """ "Na outra sexta": the one after the next such weekday."""
    return next_weekday(today, weekday) + dt.timedelta(days=7)


def week_after_next(today: dt.date) -> dt.date:
    """ "The week after next": its Monday."""
    return next_week_monday(today) + dt.timedelta(days=7)


def business_day(today: dt.date, n: int, country: str, months_ahead: int = 0) -> dt.date | None:
    """The ``n``-th business day (-1: the last) of this month, or of the next
    month once this month's has passed; ``months_ahead`` names a later month."""
    for offset in (months_ahead,) if months_ahead else (0, 1):
        first = add_months(today.replace(day=1), offset)
        day = nth_business_day(first.year, first.month, n, country)
        if day is not None and day >= today:
            return day
    return None


def day_after_date(today: dt.date, month: int, day: int) -> dt.date:
    """The day after the next ``day``/``month`` on or after today ("depois do natal")."""
    year = today.year if dt.date(today.year, month, day) >= today else today.year + 1
    return dt.date(year, month, day) + dt.timedelta(days=1)


def _carnival_tuesday(year: int) -> dt.date:
    return easter(year) - dt.timedelta(days=47)


def after_carnival(today: dt.date) -> dt.date:
    """The Thursday after the next Carnival (Ash Wednesday is a half day);
    Carnival Tuesday is 47 days before Easter."""
    tuesday = _carnival_tuesday(today.year)
    if tuesday < today:
        tuesday = _carnival_tuesday(today.year + 1)
    return tuesday + dt.timedelta(days=2)


def _thanksgiving(year: int) -> dt.date:
    first = dt.date(year, 11, 1)
    return first + dt.timedelta(days=(3 - first.weekday()) % 7 + 21)


def after_thanksgiving(today: dt.date) -> dt.date:
    """The Friday after the next Thanksgiving (the fourth Thursday of November)."""
    thursday = _thanksgiving(today.year)
    if thursday < today:
        thursday = _thanksgiving(today.year + 1)
    return thursday + dt.timedelta(days=1)
