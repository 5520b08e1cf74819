"""Days, ISO weeks and months: their keys, bounds and the ranges they cover."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from digest_crawler.periods import Kind, Period

D = dt.date


@pytest.mark.parametrize(
    ("kind", "key", "start", "end"),
    [
        ("day", "2026-07-31", D(2026, 7, 31), D(2026, 7, 31)),
        ("week", "2026-W31", D(2026, 7, 27), D(2026, 8, 2)),
        ("week", "2026-W53", D(2026, 12, 28), D(2027, 1, 3)),  # 2026 has 53 ISO weeks
        ("week", "2027-W01", D(2027, 1, 4), D(2027, 1, 10)),
        ("month", "2024-02", D(2024, 2, 1), D(2024, 2, 29)),
        ("month", "2026-12", D(2026, 12, 1), D(2026, 12, 31)),
    ],
)
def test_a_key_names_one_period_and_the_period_gives_its_key_back(
    kind: str, key: str, start: dt.date, end: dt.date
) -> None:
    period = Period.parse(kind, key)  # type: ignore[arg-type]
    assert (period.start, period.end, period.key, str(period)) == (start, end, key, key)
    assert start in period and end in period
    assert start - dt.timedelta(days=1) not in period and end + dt.timedelta(days=1) not in period
    assert Period.containing(period.kind, end) == period


@pytest.mark.parametrize(
    ("kind", "key"),
    [
        ("week", "2026-W00"),
        ("week", "2025-W53"),
        ("week", "2026-w31"),
        ("week", "2026-W٣1"),  # an Arabic-Indic digit
        ("month", "2026-13"),
        ("month", "2026-00"),
        ("month", "26-07"),
        ("day", "2026-02-30"),
    ],
)
def test_a_key_that_names_nothing_is_a_one_line_error(kind: str, key: str) -> None:
    with pytest.raises(ValueError, match=r"is not a") as caught:
        Period.parse(kind, key)  # type: ignore[arg-type]
    assert "\n" not in str(caught.value)


def test_the_periods_touching_a_range_cover_it_once_in_order() -> None:
    weeks = Period.touching("week", D(2026, 7, 1), D(2026, 8, 31))
    assert [w.key for w in weeks][:2] == ["2026-W27", "2026-W28"] and weeks[-1].key == "2026-W36"
    assert all(a.end + dt.timedelta(days=1) == b.start for a, b in itertools.pairwise(weeks))
    months = Period.touching("month", D(2025, 12, 31), D(2026, 1, 1))
    assert [m.key for m in months] == ["2025-12", "2026-01"]
    assert Period.touching("month", D(2026, 7, 5), D(2026, 7, 6)) == [
        Period.parse("month", "2026-07")
    ]


@pytest.mark.parametrize(
    ("kind", "key"), [("week", "0001-W01"), ("month", "0001-01"), ("month", "0999-12")]
)
def test_a_key_of_a_year_before_1000_is_its_four_digits(kind: Kind, key: str) -> None:
    """The key is how notes and errors name a list (``-a week=...``): it
    reads back as the same list."""
    period = Period.parse(kind, key)
    assert period.key == key and Period.parse(kind, period.key) == period
