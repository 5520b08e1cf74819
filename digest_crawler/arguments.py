"""Spider arguments, parsed into one validated object before any request."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from digest_crawler.dates import parse_iso_day

# Arguments that schedulers add on their own (Scrapyd passes ``_job``).
_SCHEDULER_ARGUMENTS = frozenset({"_job", "_version"})
_WHOLE_NUMBER = re.compile(r"^[0-9]+$")  # ASCII digits only
DEFAULT_REFRESH_DAYS = 7
#: No digest is older than this: a range reaching before it is refused (the
#: Daily Papers began in May 2023).
FIRST_DIGEST_DAY = dt.date(2023, 5, 1)


class ArgumentError(ValueError):
    """A bad spider argument; the message is one line naming it."""


def today_utc() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class DailyArguments(BaseModel):
    """Arguments of ``scrapy crawl daily`` (``-a name=value``).

    With none of ``date``, ``start``/``end`` or ``days``, the run is the
    scheduled daily one: today and the ``refresh_days`` days before it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: dt.date | None = Field(default=None, description="One listing day, YYYY-MM-DD (UTC).")
    start: dt.date | None = Field(
        default=None, description="First day of a backfill, YYYY-MM-DD (inclusive)."
    )
    end: dt.date | None = Field(
        default=None, description="Last day of a backfill, YYYY-MM-DD (inclusive); default: today."
    )
    days: int | None = Field(default=None, description="Backfill the last N days ending today.")
    refresh_days: int = Field(
        default=DEFAULT_REFRESH_DAYS,
        description="Daily run: also re-crawl this many days before today.",
    )

    @field_validator("date", "start", "end", mode="before")
    @classmethod
    def _strict_iso_date(cls, value: Any) -> Any:
        return parse_iso_day(value) if isinstance(value, str) else value

    @field_validator("days", "refresh_days", mode="before")
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if not _WHOLE_NUMBER.match(text):
                raise ValueError(f"{value!r} is not a whole number of days")
            if len(text) > 9:  # int() refuses past 4,300 digits; no digest is that old
                raise ValueError(f"{text[:12]}... days reach before the first digest")
            return int(text)
        return value

    @field_validator("date", "start", "end")
    @classmethod
    def _within_the_digest(cls, value: dt.date | None) -> dt.date | None:
        today = today_utc()
        if value is not None and value > today:
            raise ValueError(f"{value} is in the future (today is {today} UTC)")
        if value is not None and value < FIRST_DIGEST_DAY:
            raise ValueError(f"{value} is before the first digest ({FIRST_DIGEST_DAY})")
        return value

    @field_validator("days", "refresh_days")
    @classmethod
    def _within_the_digest_days(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None:
            return value
        if info.field_name == "days" and value < 1:
            raise ValueError(f"{value} is not a number of days: give at least 1")
        # refresh_days counts the days before today, days counts today too.
        reach = value if info.field_name == "refresh_days" else value - 1
        most = (today_utc() - FIRST_DIGEST_DAY).days
        if reach > most:
            raise ValueError(
                f"{value} days reach before the first digest ({FIRST_DIGEST_DAY}):"
                f" give at most {most + (info.field_name == 'days')}"
            )
        return value

    @model_validator(mode="after")
    def _one_way_to_say_which_days(self) -> DailyArguments:
        if self.date is not None and (self.start or self.end or self.days is not None):
            raise ValueError("date: give either date, or start/end, or days, not several")
        if self.days is not None and (self.start or self.end):
            raise ValueError("days: give either days or start/end, not both")
        if self.end is not None and self.start is None:
            raise ValueError("end: give start too")
        if "refresh_days" in self.model_fields_set and (self.date or self.is_backfill):
            raise ValueError("refresh_days: only for the daily run (without date, start or days)")
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"start: {self.start} is after end {self.end}")
        return self

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> DailyArguments:
        """Validate ``raw`` (the ``-a`` arguments) or raise ``ArgumentError``."""
        given = {k: v for k, v in raw.items() if k not in _SCHEDULER_ARGUMENTS}
        try:
            return cls.model_validate(given)
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            name = ".".join(map(str, error["loc"]))
            if error["type"] == "extra_forbidden":
                known = ", ".join(cls.model_fields)
                raise ArgumentError(f"unknown argument {name!r} (known: {known})") from None
            message = error["msg"].removeprefix("Value error, ")
            if not name:  # a rule across arguments names its argument first
                raise ArgumentError(f"argument {message}") from None
            raise ArgumentError(f"argument {name}: {message}") from None

    @property
    def is_backfill(self) -> bool:
        return self.start is not None or self.days is not None

    def days_to_crawl(self) -> list[dt.date]:
        """The listing days of this run, oldest first."""
        today = today_utc()
        if self.date is not None:
            return [self.date]
        if self.start is not None:
            first, last = self.start, self.end or today
        elif self.days is not None:
            first, last = today - dt.timedelta(days=self.days - 1), today
        else:
            first, last = today - dt.timedelta(days=self.refresh_days), today
        return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
