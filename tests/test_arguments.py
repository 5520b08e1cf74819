"""Spider arguments: parsed into one validated object before any request."""

from __future__ import annotations

import datetime as dt

import pytest

from digest_crawler.arguments import ArgumentError, DailyArguments

D = dt.date


def test_default_day_is_today_in_utc() -> None:
    today = dt.datetime.now(dt.UTC).date()
    assert DailyArguments.parse({"date": str(today)}).days_to_crawl() == [today]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"date": "2026-02-30"},
            "argument date: '2026-02-30' is not a valid date (day is out of range for month)",
        ),
        ({"date": "yesterday"}, "argument date: 'yesterday' is not a date (expected YYYY-MM-DD)"),
        ({"date": "2999-01-01"}, "argument date: 2999-01-01 is in the future"),
        (
            {"datum": "2026-01-01"},
            "unknown argument 'datum' (known: date, start, end, days, refresh, refresh_days, week, month, period, source)",
        ),
    ],
)
def test_bad_arguments_raise_one_line_errors(arguments: dict[str, str], message: str) -> None:
    with pytest.raises(ArgumentError) as caught:
        DailyArguments.parse(arguments)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_scrapyd_job_argument_is_accepted() -> None:
    parsed = DailyArguments.parse({"_job": "abc", "date": "2026-03-09"})
    assert parsed.date == D(2026, 3, 9)


@pytest.mark.parametrize(
    ("arguments", "weeks"),
    [
        ({"week": "2026-W31"}, ["2026-W31"]),
        ({"period": "week", "start": "2026-07-26", "end": "2026-07-31"}, ["2026-W30", "2026-W31"]),
        ({"period": "month", "days": "3"}, ["2026-07"]),
    ],
)
def test_week_and_month_arguments_name_their_lists(
    arguments: dict[str, str], weeks: list[str]
) -> None:
    parsed = DailyArguments.parse(arguments, today=D(2026, 7, 31))
    assert [p.key for p in parsed.listings_to_crawl()] == weeks


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"week": "2026-W54"}, "argument week: '2026-W54' is not a week (2026 has 53 ISO weeks)"),
        ({"month": "2026-13"}, "argument month: '2026-13' is not a month (expected YYYY-MM)"),
        (
            {"week": "2026-W32"},
            "argument week: 2026-W32 is in the future (today is 2026-07-31 UTC)",
        ),
        ({"month": "2023-04"}, "argument month: 2023-04 is before the first digest (2023-05-01)"),
        ({"week": "2026-W31", "month": "2026-07"}, "argument week: give either week, or month"),
        ({"week": "2026-W31", "date": "2026-07-31"}, "argument week: give either week, or month"),
        ({"period": "week"}, "argument period: give start/end or days too"),
        (
            {"period": "year", "days": "3"},
            "argument period: Input should be 'day', 'week' or 'month'",
        ),
        ({"source": "rss"}, "argument source: Input should be 'html' or 'api'"),
        ({"week": "2026-W31", "refresh": "0,1"}, "argument refresh: only for the daily run"),
    ],
)
def test_bad_week_month_and_source_arguments_are_one_line_errors(
    arguments: dict[str, str], message: str
) -> None:
    with pytest.raises(ArgumentError) as caught:
        DailyArguments.parse(arguments, today=D(2026, 7, 31))
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_period_day_is_the_default_and_goes_with_any_days() -> None:
    parsed = DailyArguments.parse({"period": "day", "date": "2026-07-31"}, today=D(2026, 7, 31))
    assert [p.key for p in parsed.listings_to_crawl()] == ["2026-07-31"]


@pytest.mark.parametrize("schedule", [(0, 1, 1188), (0, 99_999)])
def test_a_refresh_schedule_setting_reaching_before_the_first_digest_is_one_line(
    schedule: tuple[int, ...],
) -> None:
    """As ``-a refresh`` is: 99,999 days before 2026 (the year 1752) was
    crawled, 3,000,000 an OverflowError traceback."""
    with pytest.raises(ArgumentError) as caught:
        DailyArguments.parse({}, today=D(2026, 7, 31), schedule=schedule)
    assert str(caught.value) == (
        f"setting DIGEST_REFRESH: {schedule[-1]} days reach before the first digest"
        " (2023-05-01): give at most 1187"
    )
    # Unused by a run of other days.
    assert DailyArguments.parse({"date": "2026-07-31"}, today=D(2026, 7, 31), schedule=schedule)
    parsed = DailyArguments.parse({"refresh": "0,1"}, today=D(2026, 7, 31), schedule=schedule)
    assert parsed.schedule == (0, 1)


def test_the_daily_run_reads_the_refresh_schedule_oldest_first() -> None:
    parsed = DailyArguments.parse({}, today=D(2026, 7, 31), schedule=(0, 1, 2, 3, 7, 14))
    assert parsed.days_to_crawl() == [
        D(2026, 7, 17),
        D(2026, 7, 24),
        D(2026, 7, 28),
        D(2026, 7, 29),
        D(2026, 7, 30),
        D(2026, 7, 31),
    ]
