"""The pipelines: validation alone, and what the storage pipeline itself
does around the archive: its stats and log lines, stopping the crawl on a
database error, telling the spider which listings are done. What storage
writes is tested in tests/storage/ (test_write, test_ledger, test_archive)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import CloseSpider, DropItem

from digest_crawler import storage
from digest_crawler.items import Listing, Outcome
from digest_crawler.paper import COUNT_MAX, Paper
from digest_crawler.pipelines import StoragePipeline, ValidatePipeline
from digest_crawler.spiders.daily import DailySpider
from digest_crawler.storage import make_engine, migrate
from digest_crawler.storage.archive import CrawlArchive
from digest_crawler.storage.write import Written
from tests.storage.listings import DAYS, listing, paper, rows
from tests.support.crawler import make_crawler, run_async

D = dt.date


def validated(*papers: dict[str, Any]) -> tuple[Listing, dict[str, Any]]:
    crawler = make_crawler()
    item = ValidatePipeline.from_crawler(crawler).process_item(listing(*papers))
    return item, {
        k.removeprefix("digest/"): v
        for k, v in crawler.stats.get_stats().items()
        if k.startswith("digest/")
    }


# -- validation -------------------------------------------------------------


def test_valid_papers_go_on_with_their_rank() -> None:
    item, stats = validated(paper(), paper(arxiv_id="2607.16922"))
    assert [(rank, p.arxiv_id) for rank, p in item.valid] == [(1, "2607.28618"), (2, "2607.16922")]
    assert item.rejected == [] and stats == {}
    assert item.valid[0][1] == Paper.model_validate(paper())


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"arxiv_id": None}, "arxiv_id: Field required"),
        ({"arxiv_id": "not-an-id"}, "arxiv_id: String should match pattern"),
        ({"arxiv_id": "a" * 40 + "/0000001"}, "arxiv_id: String should have at most 32 characters"),
        ({"title": None}, "title: Field required"),
        ({"upvotes": -1}, "upvotes: Input should be greater than or equal to 0"),
        ({"upvotes": 2**63}, f"upvotes: Input should be less than or equal to {COUNT_MAX}"),
        ({"github_stars": 2**31}, "github_stars: Input should be less than or equal to"),
        ({"upvotes": None}, "upvotes: Field required"),
        ({"listing_date": None}, "listing_date: Field required"),
        ({"published_at": "sometime"}, "published_at: Input should be a valid date"),
        (
            {"published_at": dt.date(9999, 12, 31)},
            "published_at 9999-12-31 is more than 7 days after its listing day 2026-07-31",
        ),
        ({"author_count": 2}, "author_count 2 is less than the 4 names listed"),
        ({"scraped_at": dt.datetime(2026, 11, 26, 6, 0)}, "scraped_at"),
    ],
)
def test_invalid_papers_are_kept_aside_with_a_reason_and_counted(
    changes: dict[str, Any], reason: str
) -> None:
    item, stats = validated(paper(arxiv_id="2607.00001"), paper(**changes))
    assert [p.arxiv_id for _, p in item.valid] == ["2607.00001"]  # the rest of the listing goes on
    (rejected,) = item.rejected
    assert reason in rejected.reason and "\n" not in rejected.reason
    # What the page gave, not when it was read: a re-read's reject is the same.
    assert rejected.payload == {k: v for k, v in paper(**changes).items() if k != "scraped_at"}
    assert stats == {"rejected_items": 1}


def test_copies_of_a_reject_are_kept_once_and_counted() -> None:
    """A broken answer's thousand copies of one bad entry: one reject, one
    log line; a reject of another reason or payload is its own."""
    item, stats = validated(
        *[paper(upvotes=-1)] * 1000,
        paper(arxiv_id="2607.00002", upvotes=-1),
        paper(arxiv_id="2607.00003"),
    )
    assert [p.arxiv_id for _, p in item.valid] == ["2607.00003"]
    assert [r.arxiv_id for r in item.rejected] == ["2607.28618", "2607.00002"]
    assert stats == {"rejected_items": 2, "duplicate_rejects": 999}


def test_a_paper_listed_twice_is_kept_once_at_its_first_rank() -> None:
    item, stats = validated(paper(), paper(arxiv_id="2607.16922"), paper(upvotes=300))
    assert [(rank, p.arxiv_id, p.upvotes) for rank, p in item.valid] == [
        (1, "2607.28618", 292),
        (2, "2607.16922", 292),
    ]
    assert stats == {"duplicate_items": 1}


def test_a_paper_the_reader_kept_aside_keeps_its_rank_taken() -> None:
    item = ValidatePipeline.from_crawler(make_crawler()).process_item(
        listing(paper(arxiv_id="2607.00001"), None, paper(arxiv_id="2607.00003"))
    )
    assert [(rank, p.arxiv_id) for rank, p in item.valid] == [(1, "2607.00001"), (3, "2607.00003")]
    assert item.rejected == []  # the reader's own reject is already in its listing's


# -- storage ------------------------------------------------------------------


class Run:
    """One crawl's pipelines, driven the way Scrapy drives them."""

    def __init__(self, database_url: str, days: tuple[dt.date, dt.date] = DAYS) -> None:
        self.crawler = make_crawler(DIGEST_DATABASE_URL=database_url)
        self.spider = DailySpider.from_crawler(self.crawler, start=str(days[0]), end=str(days[1]))
        self.crawler.spider = self.spider
        self.validate = ValidatePipeline.from_crawler(self.crawler)
        self.storage = StoragePipeline.from_crawler(self.crawler)
        self.finish_reason = "finished"

    def __enter__(self) -> Run:
        self.storage.open_spider()
        return self

    @property
    def archive(self) -> CrawlArchive:
        assert self.storage.archive is not None
        return self.storage.archive

    def store(self, *papers: dict[str, Any], day: dt.date | None = None) -> Listing:
        return self.store_listing(self.validate.process_item(listing(*papers, day=day)))

    def record(self, day: dt.date, outcome: Outcome, reason: str) -> None:
        url = f"http://127.0.0.1/papers/date/{day}"
        self.store_listing(Listing(day=day, url=url, outcome=outcome, reason=reason))

    def store_listing(self, item: Any) -> Any:
        return run_async(self.storage.process_item(item))

    async def store_listing_async(self, *papers: dict[str, Any]) -> Any:
        return await self.storage.process_item(self.validate.process_item(listing(*papers)))

    def __exit__(self, *exc: object) -> None:
        self.storage.spider_closed(self.spider, self.finish_reason)

    def stat(self, name: str) -> Any:
        return self.crawler.stats.get_value(f"digest/{name}")


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """What the pipeline does around the archive does not depend on its
    backend (tests/storage/ holds each backend to the same writes)."""
    return f"sqlite:///{tmp_path / 'papers.sqlite'}"


def test_items_that_are_not_listings_pass_through(database_url: str) -> None:
    other = {"title": "not a listing"}
    with Run(database_url) as run:
        assert run.validate.process_item(other) is other
        assert run.store_listing(other) is other
    assert rows(database_url) == [] and run.stat("listings_stored") is None


def test_an_incomplete_listing_stores_what_was_read_and_stays_failed_and_open(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The API's list past its last page: the papers read are stored, the
    ledger says failed (with how many, and why), the day is not settled, and
    the run is not complete: the next run of the same days reads it again."""
    with Run(database_url) as run:
        item = listing(paper(), paper(arxiv_id="2607.16922"))
        item.outcome, item.reason = "failed", "incomplete: the API's list goes on past 50 pages"
        run.store_listing(run.validate.process_item(item))
    assert len(rows(database_url)) == 2 and len(rows(database_url, storage.listings)) == 2
    assert (run.stat("papers_stored"), run.stat("listings_stored")) == (2, None)
    assert run.stat("listings_failed") == 1
    (ledger,) = rows(database_url, storage.crawl_listings)
    assert (ledger["outcome"], ledger["papers"]) == ("failed", 2)
    assert ledger["reason"].startswith("incomplete: ")
    assert rows(database_url, storage.listing_days) == []  # never read whole: not settled
    (record,) = rows(database_url, storage.crawl_runs)
    assert record["complete"] is False or record["complete"] == 0
    assert "Stored the 2 papers read of the incomplete listing 2026-07-31" in caplog.text


def test_storage_counts_and_logs_what_each_listing_wrote(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="digest_crawler.pipelines")
    with Run(database_url) as run:
        run.store(paper(), paper(arxiv_id="2607.16922"), paper(arxiv_id="2607.99999", upvotes=-4))
        run.record(D(2026, 8, 1), "no_digest", "the site redirects to 2026-07-31")
    assert {
        name: run.stat(name)
        for name in (
            "papers_stored",
            "papers_new",
            "papers_updated",
            "upvote_snapshots",
            "listings_stored",
            "papers_missing_from_reread",
        )
    } == {
        "papers_stored": 2,
        "papers_new": 2,
        "papers_updated": 0,
        "upvote_snapshots": 2,
        "listings_stored": 1,  # the listing without a digest is not one stored
        "papers_missing_from_reread": None,
    }
    assert "Stored 2 papers listed on 2026-07-31 (2 new, 0 changed, 0 as before)" in caplog.text
    with Run(database_url) as again:
        again.store(paper(upvotes=300))  # a shorter read: 2607.16922 is not on it
    assert (again.stat("papers_new"), again.stat("papers_updated")) == (0, 1)
    assert again.stat("papers_missing_from_reread") == 1
    assert (
        "1 paper listed on 2026-07-31 before is not on this read of it; their listings are kept"
        in caplog.text
    )
    assert "Stored 1 paper listed on 2026-07-31 (0 new, 1 changed, 0 as before)" in caplog.text
    # The run's record holds the pipeline's counts.
    first, second = rows(database_url, storage.crawl_runs)
    assert [
        (r["items_stored"], r["papers_new"], r["papers_updated"], r["items_rejected"])
        for r in (first, second)
    ] == [(2, 2, 0, 1), (1, 0, 1, 0)]


def test_opening_tells_the_spider_which_listings_an_interrupted_run_did(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="digest_crawler.pipelines")
    with Run(database_url) as run:
        run.store(paper(listing_date=D(2026, 7, 30)))
        run.record(D(2026, 7, 31), "no_digest", "the site redirects to 2026-07-30")
        run.finish_reason = "shutdown"
    assert run.spider.done == set() and run.stat("listings_carried_over") is None
    with Run(database_url) as resumed:
        assert resumed.spider.done == {D(2026, 7, 30), D(2026, 7, 31)}  # not fetched again
    assert resumed.stat("listings_carried_over") == 2
    assert (
        "Resuming the last run of these listings, which did not complete: 2 of 3 are already done"
        in caplog.text
    )


def test_closing_counts_the_listings_left_and_says_how_to_fetch_them(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with Run(database_url) as run:
        run.store(paper(listing_date=D(2026, 7, 30)))
        run.record(D(2026, 7, 31), "failed", "HTTP 500 after retries")
    assert (run.stat("listings_served"), run.stat("listings_failed")) == (1, 1)
    assert run.stat("listings_left") == 2  # 07-31 failed, 08-01 never read
    assert (
        "2 of 3 listings were neither stored nor found without a digest;"
        " run the same command again to fetch them" in caplog.text
    )


def test_storage_failure_is_counted_logged_and_keeps_the_listings_before(
    tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'papers.sqlite'}"
    with Run(url) as run:
        run.store(paper(listing_date=D(2026, 7, 30)))
        with run.archive.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE upvote_snapshots")
        with pytest.raises(DropItem, match="could not be stored"):
            run.store(paper(arxiv_id="2607.00002", listing_date=D(2026, 7, 31)))
    assert run.stat("storage_errors") == 1
    assert "Could not store 1 paper listed on 2026-07-31" in caplog.text
    # The closing line's first failure says it (not only the log).
    assert run.stat("first_failure").startswith("could not store 1 paper listed on 2026-07-31: ")
    assert "no such table: upvote_snapshots" in run.stat("first_failure")
    # The day before stays intact; the failed day wrote nothing.
    assert [row["arxiv_id"] for row in rows(url)] == ["2607.28618"]


class SlowArchive:
    """The run's archive, whose stores each wait to be let through: a slow or
    locked database. Says what happened, and in which thread, in ``events``."""

    def __init__(self, archive: CrawlArchive) -> None:
        self.store_now = archive.store
        archive.store = self.store  # type: ignore[method-assign]
        self.events: list[str] = []
        self.started = threading.Event()
        self.go = threading.Semaphore(0)

    def store(
        self, listing: Listing, now: dt.datetime, repaired_at: dt.datetime | None = None
    ) -> Written:
        self.started.set()
        self.go.acquire(timeout=30)
        written = self.store_now(listing, now, repaired_at)
        self.events.append(f"stored {listing.name} in {threading.current_thread().name}")
        return written


def test_the_reactor_is_free_while_a_listing_is_stored(database_url: str) -> None:
    """What the spider asks next (the next listing's request) goes out while
    the listing before it is still being written, by a thread of its own."""

    async def crawl(run: Run, slow: SlowArchive) -> None:
        storing = asyncio.ensure_future(run.store_listing_async(paper()))
        while not slow.started.is_set():
            await asyncio.sleep(0.01)
        slow.events.append("the next request")
        slow.go.release()
        await storing

    with Run(database_url) as run:
        slow = SlowArchive(run.archive)
        run_async(crawl(run, slow))
    assert slow.events == ["the next request", "stored 2026-07-31 in digest-storage_0"]
    assert run.stat("listings_stored") == 1 and len(rows(database_url)) == 1


def test_one_listing_at_most_is_read_ahead_of_the_archive(database_url: str) -> None:
    """While a listing waits for the archive, the next one is read; the one
    after that is not asked for until the first is stored. Listings are
    stored one at a time, in the order they were read."""

    async def crawl(run: Run, slow: SlowArchive) -> None:
        first = asyncio.ensure_future(run.store_listing_async(paper(listing_date=D(2026, 7, 30))))
        while not slow.started.is_set():
            await asyncio.sleep(0.01)
        # The first store is let through from elsewhere (the database frees up).
        threading.Timer(0.2, slow.go.release, [2]).start()
        second = asyncio.ensure_future(
            run.store_listing_async(paper(arxiv_id="2607.00002", listing_date=D(2026, 7, 31)))
        )
        await asyncio.sleep(0)  # the second listing's storage begins
        slow.events.append("the next request")
        await asyncio.gather(first, second)

    with Run(database_url) as run:
        slow = SlowArchive(run.archive)
        run_async(crawl(run, slow))
    assert slow.events == [
        "stored 2026-07-30 in digest-storage_0",
        "the next request",
        "stored 2026-07-31 in digest-storage_0",
    ]
    assert {row["arxiv_id"] for row in rows(database_url)} == {"2607.28618", "2607.00002"}


def test_an_archive_that_cannot_be_opened_closes_the_spider_before_any_request(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0099'")
    engine.dispose()
    run = Run(database_url)
    with pytest.raises(CloseSpider) as closed:
        run.storage.open_spider()
    assert closed.value.reason == "storage_error"
    assert run.stat("storage_errors") == 1 and run.storage.archive is None
    assert "Could not open the archive sqlite:///" in caplog.text
    assert "schema version 99, newer than this release" in caplog.text
    assert run.stat("first_failure").startswith("could not open the archive sqlite:///")
    run.storage.spider_closed(run.spider, "storage_error")  # nothing left to close
    assert rows(database_url, storage.crawl_runs) == []


def test_a_huge_id_is_quoted_short_in_the_reason_and_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    item, _ = validated(paper(arxiv_id="2607." + "9" * 10**6))
    (rejected,) = item.rejected
    assert len(rejected.reason) < 500 and "(1,000,007 characters)" in rejected.reason
    assert max(len(record.getMessage()) for record in caplog.records) < 500
