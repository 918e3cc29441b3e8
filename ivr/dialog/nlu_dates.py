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
* "daqui a N dias/semanas/meses": today plus that span.
"""

from __future__ import annotations

import calendar
import datetime as dt

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
