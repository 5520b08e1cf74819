"""The trend report's figures, on small archives written by the crawl's writer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from digest_crawler.paper import Paper
from digest_crawler.periods import Period
from digest_crawler.storage.queries import PaperFilter, open_archive
from digest_crawler.storage.trends import (
    KEYWORD_PAPERS,
    RisingKeyword,
    Tally,
    Trends,
    tally,
    trends,
)
from tests.storage.test_search import NOW, paper, store

JULY_1, JULY_31 = dt.date(2026, 7, 1), dt.date(2026, 7, 31)


def figures(url: str, chosen: PaperFilter) -> Trends:
    engine = open_archive(url)
    try:
        with engine.connect() as connection:
            return trends(connection, chosen)
    finally:
        engine.dispose()


def test_days_top_papers_organizations_and_rising_keywords(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'papers.sqlite'}"
    early = dict(listing_date=JULY_1, organization="Lab A", ai_keywords=["agents", "RL"])
    late = dict(listing_date=JULY_31, organization="Lab A", ai_keywords=["Agents", "video"])
    store(url, [paper("2607.00001", "One", "x", upvotes=5, **early)])
    store(url, [paper("2607.00002", "Two", "x", upvotes=50, **late)])
    store(
        url,
        [paper("2607.00003", "Three", "x", upvotes=7, listing_date=JULY_31, ai_keywords=["video"])],
    )
    found = figures(url, PaperFilter(since=JULY_1, until=JULY_31))
    assert found.per_day == [(JULY_1, 1), (JULY_31, 2)] and found.papers == 3
    assert [(p.arxiv_id, p.upvotes, [u for _, u in p.curve]) for p in found.top] == [
        ("2607.00002", 50, [50]),
        ("2607.00003", 7, [7]),
        ("2607.00001", 5, [5]),
    ]
    assert [(o.name, o.papers, o.upvotes) for o in found.organizations] == [("Lab A", 2, 55)]
    # Halves: July 1-15 and July 16-31, one paper with keywords and two:
    # too few to tell a rise from chance.
    assert found.keywords == [] and found.keyword_papers == (1, 2)
    # Each paper was read once: no curve.
    assert found.curves == []


def test_an_empty_span_and_a_span_without_keywords(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'papers.sqlite'}"
    store(url, [paper("2607.00001", "One", "x", listing_date=JULY_1)])
    empty = figures(url, PaperFilter(since=JULY_31))
    assert (empty.per_day, empty.top, empty.papers) == ([], [], 0)
    assert figures(url, PaperFilter()).keywords is None


def test_the_span_is_since_until_within_a_list_s_days(tmp_path: Path) -> None:
    """A list's days bound --since and --until; a --since after them is a
    span of no day (not its own day to the list's last), and the report
    says so."""
    from digest_crawler.cli import span_text

    url = f"sqlite:///{tmp_path / 'papers.sqlite'}"
    store(url, [paper("2607.00001", "One", "x", listing_date=JULY_1)])
    week = dt.date(2026, 7, 27)
    within = figures(url, PaperFilter(since=dt.date(2026, 7, 29), week=week))
    assert (within.first, within.last) == (dt.date(2026, 7, 29), dt.date(2026, 8, 2))
    beyond = figures(url, PaperFilter(since=dt.date(9999, 12, 31), week=week))
    assert span_text(beyond.first, beyond.last) == "no day: 9999-12-31 is after 2026-08-02"
    alone = figures(url, PaperFilter(since=dt.date(9999, 12, 31)))
    assert span_text(alone.first, alone.last) == "from 9999-12-31"
    ancient = figures(url, PaperFilter(until=dt.date(1, 1, 1)))
    assert span_text(ancient.first, ancient.last) == "until 0001-01-01"
    last_month = figures(url, PaperFilter(month=dt.date(9999, 12, 1)))
    assert span_text(last_month.first, last_month.last) == "9999-12-01 to 9999-12-31"


def test_the_curves_are_of_the_most_upvoted_papers_read_more_than_once(database_url: str) -> None:
    """A backfill reads a day once: its papers, however upvoted, have one
    snapshot and no curve; the papers read again (their upvotes changed)
    are the curves, most upvoted first."""
    backfilled = paper("2607.00001", "Backfilled", "x", upvotes=500, listing_date=JULY_1)
    store(database_url, [backfilled])
    daily = [
        paper(f"2607.0010{n}", f"Daily {n}", "x", upvotes=n, listing_date=JULY_31)
        for n in range(1, 9)
    ]
    for day, factor in enumerate((1, 5, 7)):
        read = [p.model_copy(update={"upvotes": p.upvotes * factor}) for p in daily]
        store(database_url, read, now=NOW + dt.timedelta(days=day))
    found = figures(database_url, PaperFilter())
    assert [p.arxiv_id for p in found.top][:3] == ["2607.00001", "2607.00108", "2607.00107"]
    assert [p.arxiv_id for p in found.curves] == [f"2607.0010{n}" for n in (8, 7, 6, 5, 4)]
    assert [upvotes for _, upvotes in found.curves[0].curve] == [8, 40, 56]
    assert [upvotes for _, upvotes in found.top[0].curve] == [500]


def test_a_keyword_rises_when_its_share_of_papers_does_not_its_count(tmp_path: Path) -> None:
    """The second half has three times the papers: "agents" on three times
    as many is no rise; "video", from 1 in 40 to 1 in 3, is; "rl", from
    2 of 40 to 9 of 120 papers, is within what chance gives."""
    url = f"sqlite:///{tmp_path / 'papers.sqlite'}"

    def papers(day: dt.date, count: int, tagged: dict[str, int]) -> list[Paper]:
        return [
            paper(
                f"{day:%y%m}.{day.day:02d}{n:03d}",
                f"P{n}",
                "x",
                listing_date=day,
                ai_keywords=["paper", *(k for k, every in tagged.items() if n % every == 0)],
            )
            for n in range(count)
        ]

    store(url, papers(JULY_1, 40, {"agents": 4, "video": 40, "rl": 20}))  # 10, 1, 2 of 40
    store(url, papers(JULY_31, 120, {"agents": 4, "video": 3, "rl": 13}))  # 30, 40, 10 of 120
    found = figures(url, PaperFilter(since=JULY_1, until=JULY_31))
    assert found.keyword_papers == (40, 120) and min(found.keyword_papers) >= KEYWORD_PAPERS
    assert found.keywords == [RisingKeyword("video", 1, 40, 40, 120)]
    assert round(found.keywords[0].rise, 1) == 30.8  # 2.5 % to 33.3 %


def test_the_counts_are_by_day_for_two_weeks_by_week_for_a_quarter_else_by_month() -> None:
    def tallied(first: dt.date, last: dt.date, days: list[dt.date]) -> tuple[str, list[Tally]]:
        return tally(Trends(first, last, [(day, 10) for day in days], [], [], [], None, None))

    week = [JULY_1 + dt.timedelta(days=n) for n in range(14)]
    kind, counts = tallied(JULY_1, JULY_31, week)
    assert kind == "day" and [c.period.start for c in counts] == week
    kind, counts = tallied(JULY_1, JULY_31, [JULY_1, JULY_31])
    assert kind == "week" and [c.papers for c in counts] == [10, 0, 0, 0, 10]
    assert [c.whole for c in counts] == [False, True, True, True, False]
    # The whole digest: 43 months, the first cut by the span's first day.
    first, last = dt.date(2023, 1, 9), dt.date(2026, 7, 31)
    kind, counts = tallied(first, last, [first, dt.date(2024, 2, 29), last])
    assert kind == "month" and len(counts) == 43
    assert counts[0] == Tally(Period("month", dt.date(2023, 1, 1)), 1, 10, whole=False)
    assert counts[13] == Tally(Period("month", dt.date(2024, 2, 1)), 1, 10, whole=True)
    assert counts[-1].whole and sum(c.papers for c in counts) == 30
    # The calendar's last month is a month like another.
    kind, counts = tallied(dt.date(9999, 1, 1), dt.date(9999, 12, 31), [dt.date(9999, 12, 31)])
    assert kind == "day" and counts[0].period.start == dt.date(9999, 12, 31)
    kind, counts = tallied(dt.date(9999, 1, 1), dt.date.max, [dt.date(9999, 1, 4), dt.date.max])
    assert kind == "month" and counts[-1].period.end == dt.date.max and counts[-1].whole
