"""The requested date: a business day, far enough ahead for the carriers, or null for the earliest.

Business days skip weekends and US federal holidays (as observed: when July 4 is a Sunday the
Monday is off), from the `holidays` package, which ships its calendars.
"""

import datetime
import functools

import holidays

# Dates further ahead than this are surely a typo (and the holiday calendar stops somewhere).
MAX_YEARS_AHEAD = 2


def check_requested_date(form, *, today, lead_business_days):
    """Record the problem of `requested_date`, if any; null means the earliest date: fine."""
    path = "requested_date"
    value = form.get(path)
    if value is None:
        return
    text = form.text(path, required=False, limit=32)
    if text is None:
        return
    try:
        wanted = datetime.date.fromisoformat(text)
    except ValueError:
        form.add(path, "date_invalid", "Enter the date as YYYY-MM-DD, like 2027-01-12.")
        return
    earliest = earliest_date(today, lead_business_days)
    if wanted < today:
        form.add(path, "date_past", f"{_day(wanted)} has passed: pick {_day(earliest)} or later.")
    elif wanted.year > today.year + MAX_YEARS_AHEAD:
        form.add(path, "date_too_far", f"Pick a date within {MAX_YEARS_AHEAD} years.")
    elif wanted.weekday() >= 5:
        form.add(
            path,
            "date_weekend",
            f"{_day(wanted)} is a {wanted:%A}: carriers port on business days, pick a weekday.",
        )
    elif name := holiday(wanted):
        form.add(
            path,
            "date_holiday",
            f"{_day(wanted)} is a US federal holiday ({name}): pick another business day.",
        )
    elif wanted < earliest:
        form.add(
            path,
            "date_too_soon",
            f"Carriers need {lead_business_days} business days: pick {_day(earliest)} or later, "
            "or leave the date empty for the earliest available.",
        )


def earliest_date(today, lead_business_days):
    """Return the first date `lead_business_days` business days after today."""
    day = today
    counted = 0
    while counted < lead_business_days:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5 and not holiday(day):
            counted += 1
    return day


def holiday(day):
    """Return the name of the US federal holiday on that day, or None."""
    return _calendar(day.year).get(day)


@functools.cache
def _calendar(year):
    return holidays.country_holidays("US", years=year)


def _day(day):
    return f"{day:%a %b} {day.day}, {day.year}"
