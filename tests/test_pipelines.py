"""The pipelines, each alone and the storage pipeline against SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from scrapy.exceptions import DropItem
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from digest_crawler import storage
from digest_crawler.items import PAPER_FIELDS, PaperItem
from digest_crawler.pipelines import (
    DeduplicatePipeline,
    InvalidItem,
    NormaliseDatesPipeline,
    StoragePipeline,
    ValidatePipeline,
)
from digest_crawler.spiders.daily import DailySpider

D = dt.date
NOW = dt.datetime(2026, 11, 26, 6, 0, tzinfo=dt.UTC)


def raw_item(**changes: Any) -> PaperItem:
    base = PaperItem(
        arxiv_id="2607.28618",
        url="https://huggingface.co/papers/2607.28618",
        title="AskChem: Claim-Centered Infrastructure for Chemistry Literature Synthesis",
        abstract="Chemistry literature synthesis often requires assembling specific findings.",
        authors=["Bing Yan", "Gregory Wolfe", "Stefano Martiniani", "Kyunghyun Cho"],
        author_count=4,
        organization="New York University",
        organization_id="newyorkuniversity",
        published_at="2026-07-30T00:00:00.000Z",
        listing_date=D(2026, 7, 31),
        submitted_at="2026-07-31T00:00:00.000Z",
        upvotes=292,
        num_comments=2,
        github_repo="https://github.com/bingyan4science/askchem",
        github_stars=8,
        project_page="https://www.askchem.org",
        submitted_by="bing-yan",
        scraped_at=NOW,
    )
    return dataclasses.replace(base, **changes)


def valid_item(**changes: Any) -> PaperItem:
    item = NormaliseDatesPipeline().process_item(raw_item(**changes))
    return ValidatePipeline(get_crawler(DailySpider).stats).process_item(item)


# -- dates --------------------------------------------------------------------


def test_dates_become_dates_and_utc_moments() -> None:
    item = NormaliseDatesPipeline().process_item(raw_item())
    assert item.published_at == D(2026, 7, 30)
    assert item.submitted_at == dt.datetime(2026, 7, 31, tzinfo=dt.UTC)
    assert item.listing_date == D(2026, 7, 31)


@pytest.mark.parametrize(
    ("shown", "listing", "expected"),
    [
        ("Feb 19", "2026-03-09", D(2026, 2, 19)),
        ("Dec 3", "2026-01-05", D(2025, 12, 3)),
        ("Aug 15, 2025", "2026-03-09", D(2025, 8, 15)),
    ],
)
def test_year_less_card_dates_take_the_listing_year(
    shown: str, listing: str, expected: dt.date
) -> None:
    item = NormaliseDatesPipeline().process_item(raw_item(published_at=shown, listing_date=listing))
    assert item.published_at == expected and item.listing_date == D.fromisoformat(listing)


def test_unparseable_date_is_left_for_validation_to_reject() -> None:
    item = NormaliseDatesPipeline().process_item(raw_item(published_at="sometime"))
    assert item.published_at == "sometime"
    with pytest.raises(InvalidItem, match="published_at"):
        ValidatePipeline(get_crawler(DailySpider).stats).process_item(item)


# -- validation -------------------------------------------------------------


def test_valid_item_passes_unchanged() -> None:
    item = valid_item()
    assert item.upvotes == 292 and item.published_at == D(2026, 7, 30)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"arxiv_id": None}, "arxiv_id"),
        ({"arxiv_id": "not-an-id"}, "arxiv_id: String should match pattern"),
        ({"title": None}, "title"),
        ({"upvotes": -1}, "upvotes: Input should be greater than or equal to 0"),
        ({"upvotes": None}, "upvotes"),
        ({"listing_date": None}, "listing_date"),
        ({"author_count": 2}, "author_count 2 is less than the 4 names listed"),
        ({"scraped_at": dt.datetime(2026, 11, 26, 6, 0)}, "scraped_at"),
    ],
)
def test_invalid_items_are_dropped_with_a_reason_and_counted(changes: dict, reason: str) -> None:
    crawler = get_crawler(DailySpider)
    item = NormaliseDatesPipeline().process_item(raw_item(**changes))
    with pytest.raises(InvalidItem, match=reason):
        ValidatePipeline(crawler.stats).process_item(item)
    assert crawler.stats.get_value("digest/rejected_items") == 1


# -- de-duplication -----------------------------------------------------------


def test_second_copy_of_a_paper_in_one_run_is_dropped_and_counted() -> None:
    crawler = get_crawler(DailySpider)
    pipeline = DeduplicatePipeline(crawler.stats)
    pipeline.process_item(valid_item())
    pipeline.process_item(valid_item(arxiv_id="2607.28568"))
    with pytest.raises(DropItem, match=re.escape("duplicate paper '2607.28618'")):
        pipeline.process_item(valid_item(upvotes=300))
    assert crawler.stats.get_value("digest/duplicate_items") == 1


# -- storage ------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'papers.sqlite'}"
    else:
        yield request.getfixturevalue("postgres_url")


class Run:
    """One crawl's storage pipeline, driven the way the spider and Scrapy drive it."""

    def __init__(self, database_url: str, days: list[dt.date] | None = None) -> None:
        self.crawler = get_crawler(DailySpider, {"DIGEST_DATABASE_URL": database_url})
        self.crawler.stats.open_spider()
        self.pipeline = StoragePipeline.from_crawler(self.crawler)
        self.days = days or [D(2026, 7, 30), D(2026, 7, 31), D(2026, 8, 1)]
        self.spider = SimpleNamespace(name="daily")
        self.resumed: set[dt.date] = set()

    def __enter__(self) -> Run:
        self.pipeline.open_spider()
        self.resumed = self.pipeline.days_planned(days=self.days, arguments={}, spider=self.spider)
        return self

    def store(self, *items: PaperItem, day: dt.date | None = None) -> None:
        """One listing page: its paper count first, then its items."""
        day = day or items[0].listing_date
        self.pipeline.page_parsed(
            day=day, papers=len(items), url=f"http://127.0.0.1/papers/date/{day}"
        )
        for item in items:
            self.pipeline.process_item(item)

    def reject(self, item: PaperItem, url: str) -> None:
        response = HtmlResponse(url=url, body=b"")
        with pytest.raises(InvalidItem) as caught:
            ValidatePipeline(self.crawler.stats).process_item(
                NormaliseDatesPipeline().process_item(item)
            )
        self.pipeline.item_dropped(item, response, caught.value, self.spider)

    def __exit__(self, *exc: object) -> None:
        self.pipeline.close_spider()
        self.pipeline.spider_closed(self.spider, "finished")

    def stat(self, name: str) -> Any:
        return self.crawler.stats.get_value(f"digest/{name}")


def rows(database_url: str, table: sa.Table = storage.papers) -> list[dict[str, Any]]:
    engine = storage.make_engine(database_url)
    try:
        with engine.connect() as connection:
            return [
                dict(r._mapping)
                for r in connection.execute(sa.select(table).order_by(*table.primary_key))
            ]
    finally:
        engine.dispose()


def test_storage_writes_every_field(database_url: str) -> None:
    with Run(database_url) as run:
        run.store(valid_item())
    (row,) = rows(database_url)
    item = valid_item()
    expected = {name: getattr(item, name) for name in PAPER_FIELDS}
    assert {k: row[k] for k in expected} == expected
    assert row["first_seen_at"] == row["last_seen_at"] == row["changed_at"]
    assert row["first_seen_at"].tzinfo is not None and row["scraped_at"] == NOW
    assert run.stat("papers_new") == 1 and run.stat("papers_stored") == 1


def test_recrawl_updates_counts_and_text_keeps_first_seen_and_earliest_listing(
    database_url: str,
) -> None:
    with Run(database_url) as run:
        run.store(valid_item(listing_date=D(2026, 7, 31)))
    (first,) = rows(database_url)
    with Run(database_url) as run:
        run.store(
            valid_item(
                listing_date=D(2026, 8, 1),
                upvotes=300,
                num_comments=5,
                github_stars=9,
                title="AskChem v2",
                abstract=None,
            )
        )
    (second,) = rows(database_url)
    assert (second["upvotes"], second["num_comments"], second["github_stars"]) == (300, 5, 9)
    assert second["title"] == "AskChem v2"
    assert second["abstract"] == first["abstract"]  # a page that does not give it does not erase it
    assert second["listing_date"] == D(2026, 7, 31)  # the earliest listing date stays
    assert second["first_seen_at"] == first["first_seen_at"]
    assert second["last_seen_at"] > first["last_seen_at"]
    assert second["changed_at"] > first["changed_at"]
    assert (run.stat("papers_new"), run.stat("papers_updated")) == (0, 1)


def test_unchanged_recrawl_does_not_move_changed_at(database_url: str) -> None:
    with Run(database_url) as run:
        run.store(valid_item())
    (first,) = rows(database_url)
    with Run(database_url) as run:
        run.store(valid_item(scraped_at=NOW + dt.timedelta(days=1)))
    (second,) = rows(database_url)
    assert second["changed_at"] == first["changed_at"]
    assert second["last_seen_at"] > first["last_seen_at"]


def test_a_snapshot_is_added_only_when_a_paper_s_latest_counts_change(database_url: str) -> None:
    other = {"arxiv_id": "2607.16922", "url": "https://huggingface.co/papers/2607.16922"}
    crawls = [  # (the paper's counts, the other paper's counts) on each crawl
        ((292, 2, 8), (5, 0, None)),
        ((292, 2, 8), (5, 0, None)),  # nothing changed (a NULL equals a NULL)
        ((300, 2, 8), (292, 2, 8)),  # one changed; the other now shows the first's old counts
        ((292, 2, 8), (292, 2, 8)),  # back to counts of an older snapshot: still a change
    ]
    for upvotes_etc, other_counts in crawls:
        counts = dict(zip(("upvotes", "num_comments", "github_stars"), upvotes_etc, strict=True))
        others = dict(zip(("upvotes", "num_comments", "github_stars"), other_counts, strict=True))
        with Run(database_url) as run:
            run.store(valid_item(**counts), valid_item(**other, **others))
    history: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows(database_url, storage.upvote_snapshots):
        history.setdefault(row["arxiv_id"], []).append(
            (row["upvotes"], row["num_comments"], row["github_stars"])
        )
    assert history == {
        "2607.28618": [(292, 2, 8), (300, 2, 8), (292, 2, 8)],
        "2607.16922": [(5, 0, None), (292, 2, 8)],
    }


def test_earlier_listing_date_replaces_a_later_one(database_url: str) -> None:
    with Run(database_url) as run:
        run.store(valid_item(listing_date=D(2026, 8, 1)))
    with Run(database_url) as run:
        run.store(valid_item(listing_date=D(2026, 7, 31)))
    assert rows(database_url)[0]["listing_date"] == D(2026, 7, 31)


def test_rejected_items_are_kept_with_page_url_reason_and_payload(database_url: str) -> None:
    url = "http://127.0.0.1/papers/date/2026-07-31"
    with Run(database_url) as run:
        run.pipeline.page_parsed(day=D(2026, 7, 31), papers=2, url=url)
        run.pipeline.process_item(valid_item())
        run.reject(raw_item(arxiv_id="2607.99999", upvotes=-4), url)
    (rejected,) = rows(database_url, storage.rejected_items)
    assert rejected["arxiv_id"] == "2607.99999" and rejected["page_url"] == url
    assert "upvotes: Input should be greater than or equal to 0" in rejected["reason"]
    payload = json.loads(rejected["payload"])
    assert payload["upvotes"] == -4 and payload["title"].startswith("AskChem")
    assert len(rows(database_url)) == 1


def test_one_transaction_per_listing_day(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'papers.sqlite'}"
    statements: list[str] = []
    with Run(url) as run:
        sa.event.listen(
            run.pipeline.engine,
            "before_cursor_execute",
            lambda conn, cursor, statement, *a: statements.append(statement.split()[0]),
        )
        for day, numbers in ((D(2026, 7, 30), range(50)), (D(2026, 7, 31), range(50, 100))):
            run.store(*(valid_item(arxiv_id=f"2607.{n:05d}", listing_date=day) for n in numbers))
            assert len(rows(url)) == numbers.stop  # written as soon as the page is complete
    days_begun = statements.count("BEGIN")
    # One transaction per day (papers, listings, snapshots, the day's outcome)
    # plus the run record's closing (its opening came before the listener).
    assert days_begun == 2 + 1
    assert len(rows(url)) == 100
    assert len(rows(url)) == 100


def test_sqlite_is_in_wal_mode_with_a_busy_timeout(tmp_path: Any) -> None:
    engine = storage.make_engine(f"sqlite:///{tmp_path / 'x' / 'papers.sqlite'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert (
            connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
            == storage.SQLITE_BUSY_TIMEOUT_MS
        )
    engine.dispose()


def test_storage_failure_is_counted_logged_and_stops_the_crawl(
    tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'papers.sqlite'}"
    with Run(url) as run:
        run.store(valid_item(listing_date=D(2026, 7, 30)))
        with run.pipeline.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE papers")
        run.store(valid_item(arxiv_id="2607.00002", listing_date=D(2026, 7, 31)))
    assert run.stat("storage_errors") == 1
    assert "Could not store 1 papers listed on 2026-07-31" in caplog.text
    assert (
        len(rows(url, storage.listings)) == 1
    )  # the day before stays intact, the failed day wrote nothing


def test_same_paper_on_another_day_is_a_new_listing_and_old_days_are_forgotten() -> None:
    crawler = get_crawler(DailySpider)
    pipeline = DeduplicatePipeline(crawler.stats)
    for offset in range(10):
        pipeline.process_item(valid_item(listing_date=D(2026, 7, 1) + dt.timedelta(days=offset)))
    assert crawler.stats.get_value("digest/duplicate_items") is None
    assert len(pipeline.seen) == DeduplicatePipeline.KEEP_DAYS  # memory stays flat over a backfill
