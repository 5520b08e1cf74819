"""The run ledger (``storage/ledger.py``), on SQLite and PostgreSQL: each
run's record and its listings' outcomes, and which listings a resumed run
skips. Runs are driven through the crawl's session on the archive
(``CrawlArchive``), as the storage pipeline drives them."""

from __future__ import annotations

import datetime as dt

from digest_crawler import storage
from digest_crawler.periods import Period
from tests.storage.listings import NewCrawl, paper, rows

D = dt.date


def test_a_run_with_days_left_is_incomplete_and_counted(database_url: str, crawl: NewCrawl) -> None:
    with crawl() as run:
        run.store(paper(listing_date=D(2026, 7, 30)))
        run.record(D(2026, 7, 31), "failed", "HTTP 500 after retries")
    assert run.summary is not None
    assert run.summary.left == 2  # 07-31 failed, 08-01 never read
    (record,) = rows(database_url, storage.crawl_runs)
    assert (record["finish_reason"], record["complete"]) == ("finished", False)
    assert (record["listings_served"], record["listings_failed"]) == (1, 1)


def test_an_interrupted_run_is_resumed_by_the_next_with_the_same_days(
    database_url: str, crawl: NewCrawl
) -> None:
    with crawl() as run:
        run.store(paper(listing_date=D(2026, 7, 30)))
        run.record(D(2026, 7, 31), "no_digest", "the site redirects to 2026-07-30")
        run.record(D(2026, 8, 1), "failed", "HTTP 500 after retries")
        run.finish_reason = "shutdown"
    with crawl() as resumed:
        assert resumed.run.done == {D(2026, 7, 30), D(2026, 7, 31)}  # not fetched again
        resumed.store(paper(arxiv_id="2608.00001", listing_date=D(2026, 8, 1)))
    first, second = rows(database_url, storage.crawl_runs)
    assert first["resumed_by"] == second["id"] and first["complete"] is False
    assert (second["listings_served"], second["listings_no_digest"], second["complete"]) == (
        2,
        1,
        True,
    )
    assert len(resumed.run.done) == 2
    with crawl() as fresh:  # the resumed run completed: all days again
        assert fresh.run.done == set()


def test_a_resumed_run_carries_over_the_done_listings_as_they_were(
    database_url: str, crawl: NewCrawl
) -> None:
    with crawl() as run:
        run.store(paper(listing_date=D(2026, 7, 30)))
        run.record(D(2026, 7, 31), "failed", "HTTP 500 after retries")
        run.finish_reason = "shutdown"
    with crawl() as resumed:
        resumed.store(paper(arxiv_id="2607.00002", listing_date=D(2026, 7, 31)))
    listings = [
        (r["run_id"], r["listing"], r["outcome"], r["papers"], r["carried_over"])
        for r in rows(database_url, storage.crawl_listings)
    ]
    first, second = (r["id"] for r in rows(database_url, storage.crawl_runs))
    assert listings == [
        (first, D(2026, 7, 30), "stored", 1, False),
        (first, D(2026, 7, 31), "failed", 0, False),
        (second, D(2026, 7, 30), "stored", 1, True),  # copied, not read again
        (second, D(2026, 7, 31), "stored", 1, False),  # failed before: read again
    ]


def test_a_later_outcome_of_a_listing_replaces_an_earlier_one(
    database_url: str, crawl: NewCrawl
) -> None:
    with crawl() as run:
        run.record(D(2026, 7, 31), "failed", "HTTP 500 after retries")
        run.store(paper())  # read again in the same run
    (listing,) = rows(database_url, storage.crawl_listings)
    assert (listing["outcome"], listing["papers"], listing["reason"]) == ("stored", 1, None)


def test_a_run_of_weeks_never_resumes_a_run_of_days(database_url: str, crawl: NewCrawl) -> None:
    day = Period.parse("day", "2026-07-27")
    with crawl(listings=[day]) as run:
        run.record(D(2026, 7, 27), "served", None)
        run.finish_reason = "shutdown"
    with crawl(listings=[Period.parse("week", "2026-W31")], today=D(2026, 8, 2)) as weeks:
        pass
    assert weeks.run.done == set()  # the interrupted run was of a day, not of the week
    with crawl(listings=[day]) as days:  # a run of the day resumes it
        assert days.run.done == {D(2026, 7, 27)}
