"""Spider arguments, parsed into one validated object before any request."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from digest_crawler.dates import parse_iso_day
from digest_crawler.periods import Kind, Period

# Arguments that schedulers add on their own (Scrapyd passes ``_job``).
_SCHEDULER_ARGUMENTS = frozenset({"_job", "_version"})
_WHOLE_NUMBER = re.compile(r"^[0-9]+$")  # ASCII digits only
#: No digest is older than this: a range reaching before it is refused (the
#: Daily Papers began in May 2023).
FIRST_DIGEST_DAY = dt.date(2023, 5, 1)


class ArgumentError(ValueError):
    """A bad spider argument; the message is one line naming it."""


def today_utc() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _today(info: ValidationInfo) -> dt.date:
    """The day the arguments are read on: ``today`` of the validation
    context (a fixed day in tests), the UTC date otherwise."""
    today = (info.context or {}).get("today")
    return today if isinstance(today, dt.date) else today_utc()


class DailyArguments(BaseModel):
    """Arguments of ``scrapy crawl daily`` (``-a name=value``).

    With none of ``date``, ``start``/``end`` or ``days``, the run is the
    scheduled daily one: the days of the refresh schedule (``refresh``, by
    default the ``DIGEST_REFRESH`` setting: days before today), or every day
    back to ``refresh_days``.
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
    refresh: tuple[int, ...] | None = Field(
        default=None,
        description="Daily run: the days before today to read, e.g. 0,1,2,3,7,14"
        " (default: the DIGEST_REFRESH setting).",
    )
    refresh_days: int | None = Field(
        default=None, description="Daily run: today and every day back to this many days before."
    )
    week: str | None = Field(default=None, description="One ISO week's list, YYYY-Www.")
    month: str | None = Field(default=None, description="One month's list, YYYY-MM.")
    period: Kind | None = Field(
        default=None,
        description="With start/end or days: read the list of every week (or month) that"
        " touches the range (default: day, each day's list).",
    )
    source: Literal["html", "api"] = Field(
        default="html",
        description="Where to read the listings: html (the listing pages) or api"
        " (/api/daily_papers: a budget of its own, five times the pages').",
    )

    _today: dt.date = PrivateAttr(default_factory=today_utc)
    _schedule: tuple[int, ...] = PrivateAttr(default=(0,))

    @field_validator("refresh", mode="before")
    @classmethod
    def _schedule_of_days(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",")]
            if not parts or not all(_WHOLE_NUMBER.match(part) and len(part) < 6 for part in parts):
                raise ValueError(
                    f"{value!r} is not a list of days before today (e.g. 0,1,2,3,7,14)"
                )
            return tuple(sorted({int(part) for part in parts}))
        return value

    @field_validator("refresh")
    @classmethod
    def _schedule_within_the_digest(
        cls, value: tuple[int, ...] | None, info: ValidationInfo
    ) -> tuple[int, ...] | None:
        if value:
            most = (_today(info) - FIRST_DIGEST_DAY).days
            if value[-1] > most:
                raise ValueError(
                    f"{value[-1]} days reach before the first digest ({FIRST_DIGEST_DAY}):"
                    f" give at most {most}"
                )
        return value

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

    @field_validator("week", "month")
    @classmethod
    def _period_within_the_digest(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        kind: Kind = "week" if info.field_name == "week" else "month"
        period = Period.parse(kind, value)
        today = _today(info)
        if period.start > today:
            raise ValueError(f"{period} is in the future (today is {today} UTC)")
        if period.end < FIRST_DIGEST_DAY:
            raise ValueError(f"{period} is before the first digest ({FIRST_DIGEST_DAY})")
        return period.key

    @field_validator("date", "start", "end")
    @classmethod
    def _within_the_digest(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        today = _today(info)
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
        most = (_today(info) - FIRST_DIGEST_DAY).days
        if reach > most:
            raise ValueError(
                f"{value} days reach before the first digest ({FIRST_DIGEST_DAY}):"
                f" give at most {most + (info.field_name == 'days')}"
            )
        return value

    @model_validator(mode="after")
    def _one_way_to_say_which_days(self) -> DailyArguments:
        one_list = [name for name in ("week", "month") if getattr(self, name) is not None]
        if one_list and (
            len(one_list) > 1 or self.date or self.start or self.days is not None or self.period
        ):
            raise ValueError(
                f"{one_list[0]}: give either week, or month, or date, or start/end, or days,"
                " not several (period goes with start/end or days)"
            )
        if self.period not in (None, "day") and not self.is_backfill:
            raise ValueError("period: give start/end or days too: the range whose lists to read")
        if self.date is not None and (self.start or self.end or self.days is not None):
            raise ValueError("date: give either date, or start/end, or days, not several")
        if self.days is not None and (self.start or self.end):
            raise ValueError("days: give either days or start/end, not both")
        if self.end is not None and self.start is None:
            raise ValueError("end: give start too")
        for name in ("refresh", "refresh_days"):
            if name in self.model_fields_set and (
                self.date or self.is_backfill or self.week or self.month
            ):
                raise ValueError(f"{name}: only for the daily run (without date, start or days)")
        if self.refresh is not None and self.refresh_days is not None:
            raise ValueError("refresh: give either refresh or refresh_days, not both")
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"start: {self.start} is after end {self.end}")
        return self

    @classmethod
    def parse(
        cls,
        raw: Mapping[str, Any],
        *,
        today: dt.date | None = None,
        schedule: Sequence[int] = (0,),
    ) -> DailyArguments:
        """Validate ``raw`` (the ``-a`` arguments) as read on ``today``
        (default: the UTC date), with ``schedule`` as the daily run's
        default refresh schedule, or raise ``ArgumentError``."""
        given = {k: v for k, v in raw.items() if k not in _SCHEDULER_ARGUMENTS}
        today = today or today_utc()
        try:
            arguments = cls.model_validate(given, context={"today": today})
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
        arguments._today = today
        arguments._schedule = tuple(sorted(set(schedule)))
        most = (today - FIRST_DIGEST_DAY).days
        if arguments.reads_the_schedule_setting and arguments.schedule[-1] > most:
            # As -a refresh is (3,000,000 days back is no date at all).
            raise ArgumentError(
                f"setting DIGEST_REFRESH: {arguments.schedule[-1]} days reach before the"
                f" first digest ({FIRST_DIGEST_DAY}): give at most {most}"
            )
        return arguments

    @property
    def reads_the_schedule_setting(self) -> bool:
        """The scheduled daily run of the ``DIGEST_REFRESH`` schedule: no
        other days named, nor another schedule."""
        named = self.date or self.is_backfill or self.week or self.month
        return not named and self.refresh is None and self.refresh_days is None

    @property
    def is_backfill(self) -> bool:
        return self.start is not None or self.days is not None

    @property
    def today(self) -> dt.date:
        """The day the arguments were read on."""
        return self._today

    @property
    def schedule(self) -> tuple[int, ...]:
        """The daily run's days before today, nearest first."""
        if self.refresh_days is not None:
            return tuple(range(self.refresh_days + 1))
        return self.refresh if self.refresh is not None else self._schedule

    @property
    def kind(self) -> Kind:
        """What this run's listings are: days, weeks or months."""
        if self.week is not None:
            return "week"
        if self.month is not None:
            return "month"
        return self.period or "day"

    def days_to_crawl(self) -> list[dt.date]:
        """The listing days of this run, oldest first (of a run of days)."""
        today = self._today
        if self.date is not None:
            return [self.date]
        if self.start is not None:
            first, last = self.start, self.end or today
        elif self.days is not None:
            first, last = today - dt.timedelta(days=self.days - 1), today
        else:
            return [today - dt.timedelta(days=n) for n in sorted(self.schedule, reverse=True)]
        return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]

    def listings_to_crawl(self) -> list[Period]:
        """The listings of this run, oldest first: its days, or the one
        week or month named, or every week or month touching the range."""
        if self.week is not None:
            return [Period.parse("week", self.week)]
        if self.month is not None:
            return [Period.parse("month", self.month)]
        days = self.days_to_crawl()
        if self.kind == "day":
            return [Period("day", day) for day in days]
        return Period.touching(self.kind, days[0], days[-1])
