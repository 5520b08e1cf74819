"""The views of the digest: a day's, an ISO week's or a month's list.

A ``Period`` is one such list, named by its kind and its first day; its
``key`` is how the site names it (``2026-07-31``, ``2026-W31``, ``2026-07``)
in page paths (``/papers/week/2026-W31``) and API queries (``week=2026-W31``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal, get_args

Kind = Literal["day", "week", "month"]
KINDS: tuple[Kind, ...] = get_args(Kind)

# ASCII digits only: the regex engine's \d also matches other scripts' digits.
_KEYS = {
    "day": re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$"),
    "week": re.compile(r"^([0-9]{4})-W([0-9]{2})$"),
    "month": re.compile(r"^([0-9]{4})-([0-9]{2})$"),
}
_FORMS = {"day": "YYYY-MM-DD", "week": "YYYY-Www", "month": "YYYY-MM"}
#: How the site's paths and API queries name each kind.
_PATH_NAMES = {"day": "date", "week": "week", "month": "month"}


@dataclass(frozen=True, order=True)
class Period:
    """One listing: a day, an ISO week (Monday to Sunday) or a month."""

    kind: Kind
    start: dt.date

    @classmethod
    def containing(cls, kind: Kind, day: dt.date) -> Period:
        """The period of ``kind`` that ``day`` falls in.

        >>> Period.containing("week", dt.date(2026, 7, 31)).key
        '2026-W31'
        >>> Period.containing("month", dt.date(2026, 7, 31)).key
        '2026-07'
        """
        if kind == "week":
            return cls(kind, day - dt.timedelta(days=day.weekday()))
        if kind == "month":
            return cls(kind, day.replace(day=1))
        return cls(kind, day)

    @classmethod
    def parse(cls, kind: Kind, key: str) -> Period:
        """The period a key names, or a one-line ``ValueError``.

        >>> Period.parse("week", "2026-W01").start
        datetime.date(2025, 12, 29)
        >>> Period.parse("week", "2025-W53")
        Traceback (most recent call last):
        ValueError: '2025-W53' is not a week (2025 has 52 ISO weeks)
        >>> Period.parse("month", "2026-7")
        Traceback (most recent call last):
        ValueError: '2026-7' is not a month (expected YYYY-MM)
        >>> Period.parse("week", "9999-W52")
        Traceback (most recent call last):
        ValueError: '9999-W52' is not a week: it ends after 9999-12-31, the calendar's last day
        """
        match = _KEYS[kind].match(key.strip()) if isinstance(key, str) else None
        if match is None:
            raise ValueError(f"{key!r} is not a {kind} (expected {_FORMS[kind]})")
        numbers = [int(part) for part in match.groups()]
        try:
            if kind == "week":
                start = dt.date.fromisocalendar(numbers[0], numbers[1], 1)
                if start > dt.date.max - dt.timedelta(days=6):
                    raise OverflowError(f"it ends after {dt.date.max}, the calendar's last day")
                return cls(kind, start)
            if kind == "month":
                return cls(kind, dt.date(numbers[0], numbers[1], 1))
            return cls(kind, dt.date(numbers[0], numbers[1], numbers[2]))
        except OverflowError as exc:
            raise ValueError(f"{key!r} is not a week: {exc}") from None
        except ValueError:
            if kind == "week" and 1 <= numbers[0] <= 9998:
                weeks = dt.date(numbers[0], 12, 28).isocalendar().week
                raise ValueError(
                    f"{key!r} is not a week ({numbers[0]} has {weeks} ISO weeks)"
                ) from None
            raise ValueError(f"{key!r} is not a {kind} (expected {_FORMS[kind]})") from None

    @classmethod
    def touching(cls, kind: Kind, first: dt.date, last: dt.date) -> list[Period]:
        """Every period of ``kind`` that shares a day with ``first``..``last``, oldest first.

        >>> [p.key for p in Period.touching("week", dt.date(2026, 7, 31), dt.date(2026, 8, 3))]
        ['2026-W31', '2026-W32']
        """
        periods = [cls.containing(kind, first)]
        while periods[-1].end < last:
            periods.append(cls.containing(kind, periods[-1].end + dt.timedelta(days=1)))
        return periods

    @property
    def end(self) -> dt.date:
        """The period's last day.

        >>> Period.parse("month", "2024-02").end, Period.parse("month", "9999-12").end
        (datetime.date(2024, 2, 29), datetime.date(9999, 12, 31))
        """
        if self.kind == "week":
            return self.start + dt.timedelta(days=6)
        if self.kind == "month":
            return self.start.replace(day=calendar.monthrange(self.start.year, self.start.month)[1])
        return self.start

    @property
    def key(self) -> str:
        """How the site names the period."""
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year:04d}-W{week:02d}"
        if self.kind == "month":  # not strftime: its %Y gives the year 1 as "1"
            return f"{self.start.year:04d}-{self.start.month:02d}"
        return self.start.isoformat()

    @property
    def path_name(self) -> str:
        """``date``, ``week`` or ``month``: the page path's and API query's word."""
        return _PATH_NAMES[self.kind]

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end

    def __str__(self) -> str:
        return self.key
