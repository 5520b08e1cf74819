"""What the reader commands (search, report) share: date options parsed into
the archive's ``PaperFilter``, a week or a month as a span of days, and
option errors as one line naming the option."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError, field_validator

from digest_crawler.dates import parse_iso_day
from digest_crawler.periods import Period
from digest_crawler.storage.queries import PaperFilter

Options = TypeVar("Options", bound=BaseModel)


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
    """
    week = Period.parse("week", text)
    return week.start, week.end


def month_span(text: str) -> tuple[dt.date, dt.date]:
    """A month ``YYYY-MM`` as its first and last day.

    >>> month_span("2024-02")
    (datetime.date(2024, 2, 1), datetime.date(2024, 2, 29))
    """
    month = Period.parse("month", text)
    return month.start, month.end


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
