from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest_crawler.dates import parse_moment, parse_shown_date, to_date, to_moment

D = dt.date
UTC = dt.UTC


@pytest.mark.parametrize(
    ("shown", "reference", "expected"),
    [
        ("Aug 15, 2025", None, D(2025, 8, 15)),
        ("Aug 15, 2025", D(2026, 3, 9), D(2025, 8, 15)),
        ("May 22, 2023", D(2026, 3, 9), D(2023, 5, 22)),
        ("Feb 19", D(2026, 3, 9), D(2026, 2, 19)),  # the listing's own year
        ("Mar 9", D(2026, 3, 9), D(2026, 3, 9)),  # the listing day itself
        ("Mar 10", D(2026, 3, 9), D(2025, 3, 10)),  # would be after the listing: year before
        ("Dec 31", D(2026, 1, 1), D(2025, 12, 31)),
        ("Feb 29", D(2026, 3, 9), D(2024, 2, 29)),  # only leap years have it
        ("Sep 28", D(2026, 9, 28), D(2026, 9, 28)),
        ("sep 28", D(2026, 9, 28), D(2026, 9, 28)),
        ("September 28, 2026", None, D(2026, 9, 28)),
    ],
)
def test_shown_dates(shown: str, reference: dt.date | None, expected: dt.date) -> None:
    assert parse_shown_date(shown, reference) == expected


@pytest.mark.parametrize("bad", ["", "Foo 12", "Feb 30, 2026", "12 Feb", "Feb", "yesterday"])
def test_bad_shown_dates_raise(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_shown_date(bad, D(2026, 3, 9))


def test_year_less_date_without_a_listing_date_is_refused() -> None:
    with pytest.raises(ValueError, match="needs the listing date"):
        parse_shown_date("Feb 19")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-09-25T00:00:00.000Z", dt.datetime(2026, 9, 25, tzinfo=UTC)),
        ("2024-08-01T01:21:47.935Z", dt.datetime(2024, 8, 1, 1, 21, 47, 935000, tzinfo=UTC)),
        ("2026-07-29T20:00:00.000Z", dt.datetime(2026, 7, 29, 20, tzinfo=UTC)),
        (
            "2026-07-30T01:00:00+02:00",
            dt.datetime(2026, 7, 29, 23, tzinfo=UTC),
        ),  # converted, not cut
        (
            "2026-07-30T01:00:00",
            dt.datetime(2026, 7, 30, 1, tzinfo=UTC),
        ),  # no offset: the site means UTC
    ],
)
def test_moments_are_aware_utc(value: str, expected: dt.datetime) -> None:
    moment = parse_moment(value)
    assert moment == expected and moment.tzinfo is UTC


def test_timestamp_date_is_the_utc_date_whatever_the_local_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time

    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14
    time.tzset()
    try:
        assert to_date("2024-07-31T17:54:27.000Z") == D(2024, 7, 31)
        assert to_date("2026-07-30T01:00:00+02:00") == D(2026, 7, 29)
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:30:00+00:45"]
)
def test_a_moment_beyond_the_calendar_in_utc_is_a_value_error(value: str) -> None:
    """It exists in its own offset, not in UTC: a ``ValueError`` like any
    other unreadable moment (not ``OverflowError``, which no reader of the
    site's dates expects)."""
    with pytest.raises(ValueError, match="beyond the calendar in UTC"):
        parse_moment(value)
    with pytest.raises(ValueError):
        to_date(value)
    with pytest.raises(ValueError):
        to_moment(value)


def test_naive_datetime_is_not_a_moment() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_moment(dt.datetime(2026, 1, 1))


@given(
    day=st.dates(min_value=D(2001, 1, 1), max_value=D(2099, 12, 31)),
    offset=st.integers(min_value=0, max_value=364),
)
def test_year_less_date_round_trips_within_a_year_of_the_listing(day: dt.date, offset: int) -> None:
    reference = day + dt.timedelta(days=offset)
    shown = f"{day:%b} {day.day}"
    if (day.month, day.day) == (2, 29):
        # Feb 29 on a later listing lands on the last leap year before it.
        assert parse_shown_date(shown, reference) <= reference
    else:
        assert parse_shown_date(shown, reference) == day


@given(day=st.dates(min_value=D(1990, 1, 1), max_value=D(2099, 12, 31)))
def test_full_shown_dates_and_iso_forms_agree(day: dt.date) -> None:
    assert parse_shown_date(f"{day:%b} {day.day}, {day.year}") == day
    assert to_date(day.isoformat()) == day
    assert to_date(f"{day.isoformat()}T23:59:59.999Z") == day
