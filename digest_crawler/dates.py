"""Date forms the site uses, turned into ``date`` and aware UTC ``datetime``.

The site writes moments as ISO 8601 timestamps with a ``Z``
(``2026-09-25T00:00:00.000Z``) and shows dates on cards and headers as
``Aug 15, 2025`` or, for the current year, a year-less ``Feb 19``. Nothing
here looks at the local time zone.
"""

from __future__ import annotations

import datetime as dt
import re

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
# "Aug 15, 2025", "Aug 15 2025", "August 15, 2025" or year-less "Feb 19".
_ISO_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")  # ASCII digits only
# A calendar date first: Python's ISO parser also takes week dates
# ("2026-W31", a week's key on the site) and ordinal or compact forms.
_CALENDAR_START = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:$|[T ])")
_SHOWN_DATE = re.compile(r"^([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2})(?:,?\s+(\d{4}))?$")


def parse_moment(value: str) -> dt.datetime:
    """Parse an ISO 8601 timestamp into an aware UTC datetime.

    A timestamp without an offset is taken as UTC, as the site means it.

    >>> parse_moment("2026-09-28T14:59:32.932Z")
    datetime.datetime(2026, 9, 28, 14, 59, 32, 932000, tzinfo=datetime.timezone.utc)
    >>> parse_moment("2026-09-28T01:30:00+02:00").isoformat()
    '2026-09-27T23:30:00+00:00'
    >>> parse_moment("2026-W31")
    Traceback (most recent call last):
    ValueError: not a calendar date and time: '2026-W31'
    >>> parse_moment("0001-01-01T00:00:00+01:00")
    Traceback (most recent call last):
    ValueError: '0001-01-01T00:00:00+01:00' is beyond the calendar in UTC
    """
    if not _CALENDAR_START.match(value.strip()):
        raise ValueError(f"not a calendar date and time: {value!r}")
    moment = dt.datetime.fromisoformat(value.strip())
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:  # 0001-01-01 in UTC+1 is a year 0 in UTC
        raise ValueError(f"{value!r} is beyond the calendar in UTC") from None


def parse_shown_date(value: str, reference: dt.date | None = None) -> dt.date:
    """Parse a date as the site shows it: ``Aug 15, 2025`` or year-less ``Feb 19``.

    A year-less date belongs to the year of ``reference`` (the listing it
    appeared on), or to the year before when that would put it after the
    reference date.

    >>> parse_shown_date("Aug 15, 2025")
    datetime.date(2025, 8, 15)
    >>> parse_shown_date("Feb 19", reference=dt.date(2026, 3, 9))
    datetime.date(2026, 2, 19)
    >>> parse_shown_date("Dec 30", reference=dt.date(2026, 1, 2))
    datetime.date(2025, 12, 30)
    """
    match = _SHOWN_DATE.match(value.strip())
    if match is None or match[1].lower() not in _MONTHS:
        raise ValueError(f"not a date as the site shows it: {value!r}")
    month, day = _MONTHS[match[1].lower()], int(match[2])
    if match[3] is not None:
        return dt.date(int(match[3]), month, day)
    if reference is None:
        raise ValueError(f"year-less date {value!r} needs the listing date")
    year = reference.year
    # Feb 29 only exists in leap years: step back until the date exists and
    # is not after the listing.
    for candidate_year in (year, year - 1, year - 2, year - 3, year - 4):
        try:
            candidate = dt.date(candidate_year, month, day)
        except ValueError:
            continue
        if candidate <= reference:
            return candidate
    raise ValueError(f"no year puts {value!r} on or before {reference}")


def to_date(value: object, reference: dt.date | None = None) -> dt.date:
    """Any date form of the site (or a date) as a ``date``; moments in UTC.

    >>> to_date("2024-07-31T17:54:27.000Z")
    datetime.date(2024, 7, 31)
    >>> to_date("2026-09-28")
    datetime.date(2026, 9, 28)
    >>> to_date("Feb 19", reference=dt.date(2026, 3, 9))
    datetime.date(2026, 2, 19)
    """
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).date() if value.tzinfo else value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"not a date: {value!r}")
    text = value.strip()
    if text[:1].isdigit():
        if _ISO_DAY.match(text):
            return dt.date.fromisoformat(text)
        return parse_moment(text).date()
    return parse_shown_date(text, reference)


def to_moment(value: object) -> dt.datetime:
    """Any moment form of the site (or a datetime) as an aware UTC datetime.

    >>> to_moment("2024-08-01T01:21:47.935Z").isoformat()
    '2024-08-01T01:21:47.935000+00:00'
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the time zone is unknown")
        return value.astimezone(dt.UTC)
    if not isinstance(value, str):
        raise ValueError(f"not a moment: {value!r}")
    return parse_moment(value)


def parse_iso_day(value: str) -> dt.date:
    """A strict ``YYYY-MM-DD`` date, as users type it; a one-line ``ValueError`` otherwise.

    >>> parse_iso_day("2026-07-31")
    datetime.date(2026, 7, 31)
    >>> parse_iso_day("2026-02-30")
    Traceback (most recent call last):
    ValueError: '2026-02-30' is not a valid date (day is out of range for month)
    """
    text = value.strip()
    if not _ISO_DAY.match(text):
        raise ValueError(f"{value!r} is not a date (expected YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid date ({exc})") from None
