"""A crawl's session on the archive (``storage/archive.py``): one
transaction per listing with its ledger row, the read of a day settling it
at the horizon, the run's record closed with the crawl's counts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from digest_crawler import storage
from digest_crawler.storage.archive import CrawlArchive
from tests.storage.listings import (
    HORIZON,
    TODAY,
    Crawl,
    NewCrawl,
    listing,
    paper,
    rows,
    validated,
)

D = dt.date


def test_one_transaction_per_listing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'papers.sqlite'}"
    statements: list[str] = []
    with Crawl(url) as run:
        sa.event.listen(
            run.archive.engine,
            "before_cursor_execute",
            lambda conn, cursor, statement, *a: statements.append(statement.split()[0]),
        )
        for day, numbers in ((D(2026, 7, 30), range(50)), (D(2026, 7, 31), range(50, 100))):
            run.store(*(paper(arxiv_id=f"2607.{n:05d}", listing_date=day) for n in numbers))
            assert len(rows(url)) == numbers.stop  # written as soon as the listing arrives
        run.record(D(2026, 8, 1), "no_digest", "the site redirects to 2026-07-31")
    # One transaction per listing (papers, listings, snapshots, the day's
    # outcome) plus the run record's closing (its opening came before the listener).
    assert statements.count("BEGIN") == 3 + 1
    assert len(rows(url)) == 100
    days = {
        row["listing"]: (row["outcome"], row["papers"]) for row in rows(url, storage.crawl_listings)
    }
    assert days == {
        D(2026, 7, 30): ("stored", 50),
        D(2026, 7, 31): ("stored", 50),
        D(2026, 8, 1): ("no_digest", 0),
    }
    (record,) = rows(url, storage.crawl_runs)
    assert (record["listings_served"], record["listings_no_digest"], record["complete"]) == (
        2,
        1,
        True,
    )
    assert record["items_stored"] == 100 and record["papers_new"] == 100


def test_a_read_on_or_after_the_horizon_settles_its_day_for_good(
    database_url: str, crawl: NewCrawl
) -> None:
    young, old = TODAY - dt.timedelta(days=HORIZON - 1), TODAY - dt.timedelta(days=HORIZON)
    with crawl() as run:
        run.store(paper(arxiv_id="2607.00001", listing_date=young))
        run.store(paper(arxiv_id="2607.00002", listing_date=old))
        run.record(D(2026, 7, 1), "no_digest", "the site redirects to 2026-07-31")
    first = {row["listing_date"]: row for row in rows(database_url, storage.listing_days)}
    assert set(first) == {young, old}  # a day without a digest is no read of it
    assert first[young]["settled_at"] is None
    assert first[old]["settled_at"] == first[old]["first_read_at"]
    with crawl(today=TODAY - dt.timedelta(days=HORIZON)) as run:  # a run that says it is earlier
        run.store(paper(arxiv_id="2607.00002", listing_date=old))
    again = {row["listing_date"]: row for row in rows(database_url, storage.listing_days)}
    assert again[old]["settled_at"] == first[old]["settled_at"]  # settled for good
    assert again[old]["last_read_at"] > first[old]["last_read_at"]


def test_the_archive_is_shown_without_its_password() -> None:
    archive = CrawlArchive("postgresql+psycopg://crawler:s3cret@127.0.0.1/papers", 500, 14, TODAY)
    try:
        assert archive.shown == "postgresql+psycopg://crawler:***@127.0.0.1/papers"
    finally:
        archive.close()


def test_a_session_without_a_run_stores_listings_and_finishes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'papers.sqlite'}"
    archive = CrawlArchive(url, 500, HORIZON, TODAY)
    try:
        archive.upgrade()
        written = archive.store(
            validated(listing(paper())), dt.datetime(2026, 8, 20, tzinfo=dt.UTC)
        )
        assert archive.finish_run(dt.datetime(2026, 8, 20, tzinfo=dt.UTC), "finished", {}) is None
    finally:
        archive.close()
    assert (written.papers, written.new) == (1, 1)
    assert len(rows(url)) == 1 and rows(url, storage.crawl_listings) == []
