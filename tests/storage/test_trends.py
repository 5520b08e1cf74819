"""The trend report's figures, on a small archive written by the crawl's writer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from digest_crawler.storage.queries import PaperFilter, open_archive
from digest_crawler.storage.trends import RisingKeyword, Trends, trends
from tests.storage.test_search import paper, store

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
    # Halves: July 1-15 and July 16-31; "agents" once in each (any case): no rise.
    assert found.keywords == [RisingKeyword("video", 0, 2)]


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
