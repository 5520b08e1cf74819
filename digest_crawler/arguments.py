"""Spider arguments, parsed into one validated object before any request."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

# Arguments that schedulers add on their own (Scrapyd passes ``_job``).
_SCHEDULER_ARGUMENTS = frozenset({"_job", "_version"})
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ArgumentError(ValueError):
    """A bad spider argument; the message is one line naming it."""


def today_utc() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class DailyArguments(BaseModel):
    """Arguments of ``scrapy crawl daily`` (``-a name=value``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: dt.date | None = Field(
        default=None,
        description="The listing day to crawl, YYYY-MM-DD (UTC); default: today.",
    )

    @field_validator("date", mode="before")
    @classmethod
    def _strict_iso_date(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if not _ISO_DATE.match(text):
                raise ValueError(f"{value!r} is not a date (expected YYYY-MM-DD)")
            try:
                return dt.date.fromisoformat(text)
            except ValueError as exc:
                raise ValueError(f"{value!r} is not a valid date ({exc})") from None
        return value

    @field_validator("date")
    @classmethod
    def _not_in_future(cls, value: dt.date | None) -> dt.date | None:
        today = today_utc()
        if value is not None and value > today:
            raise ValueError(f"{value} is in the future (today is {today} UTC)")
        return value

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> DailyArguments:
        """Validate ``raw`` (the ``-a`` arguments) or raise ``ArgumentError``."""
        given = {k: v for k, v in raw.items() if k not in _SCHEDULER_ARGUMENTS}
        try:
            return cls.model_validate(given)
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            name = ".".join(map(str, error["loc"])) or "arguments"
            if error["type"] == "extra_forbidden":
                known = ", ".join(cls.model_fields)
                raise ArgumentError(f"unknown argument {name!r} (known: {known})") from None
            message = error["msg"].removeprefix("Value error, ")
            raise ArgumentError(f"argument {name}: {message}") from None

    def days(self) -> list[dt.date]:
        return [self.date or today_utc()]
