"""What the reader commands (search, report) share: date options parsed into
the archive's ``PaperFilter``, a week or a month as a span of days, and
option errors as one line naming the option."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError, field_validator

from digest_crawler.dates import parse_iso_day
from digest_crawler.storage.queries import PaperFilter

Options = TypeVar("Options", bound=BaseModel)

_WEEK = re.compile(r"^([0-9]{4})-W([0-9]{2})$")
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")


class OptionError(Exception):
    """A one-line reason the command's options cannot be used."""


class ReaderFilter(PaperFilter):
    """``PaperFilter`` from command-line text (``YYYY-MM-DD`` dates)."""

    @field_validator("since", "until", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> Any:
        return parse_iso_day(value) if isinstance(value, str) else value


def week_span(text: str) -> tuple[dt.date, dt.date]:
    """An ISO week ``YYYY-Www`` as its Monday and Sunday.

    >>> week_span("2026-W01")
    (datetime.date(2025, 12, 29), datetime.date(2026, 1, 4))
    >>> week_span("2026-W54")
    Traceback (most recent call last):
    ValueError: '2026-W54' is not an ISO week (expected YYYY-Www, e.g. 2026-W31)
    """
    match = _WEEK.match(text.strip())
    try:
        if match is None:
            raise ValueError
        monday = dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO week (expected YYYY-Www, e.g. 2026-W31)"
        ) from None
    return monday, monday + dt.timedelta(days=6)


def month_span(text: str) -> tuple[dt.date, dt.date]:
    """A month ``YYYY-MM`` as its first and last day.

    >>> month_span("2024-02")
    (datetime.date(2024, 2, 1), datetime.date(2024, 2, 29))
    """
    match = _MONTH.match(text.strip())
    if match is None or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1:
        raise ValueError(f"{text!r} is not a month (expected YYYY-MM, e.g. 2026-07)")
    first = dt.date(int(match[1]), int(match[2]), 1)
    following = (first + dt.timedelta(days=31)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def validate(model: type[Options], given: dict[str, Any]) -> Options:
    """``given`` as ``model``; an ``OptionError`` naming the option otherwise."""
    try:
        return model.model_validate(given)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        message = error["msg"].removeprefix("Value error, ")
        if not error["loc"]:  # a rule across options names its options itself
            raise OptionError(f"option {message}") from None
        name = "--" + str(error["loc"][0]).replace("_", "-")
        raise OptionError(f"option {name}: {message}") from None
