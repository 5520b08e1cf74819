"""Storing what cites a paper on the Hub (``storage/adoption.py``) on each
backend: counts as of their read, one snapshot per change, the papers due."""

from __future__ import annotations

import datetime as dt

from digest_crawler import storage
from digest_crawler.items import Adoption
from digest_crawler.storage.schema import adoption_due, adoption_snapshots
from tests.storage.listings import TODAY, NewCrawl, paper, rows

ID = "2607.28618"
URL = f"http://127.0.0.1/api/papers/{ID}"


def counts(models: int | None, datasets: int | None = 0, spaces: int | None = 0) -> Adoption:
    values = {"linked_models": models, "linked_datasets": datasets, "linked_spaces": spaces}
    return Adoption(ID, URL, "read", counts=values)


def stored(database_url: str) -> tuple[int | None, int | None, int | None]:
    (row,) = rows(database_url)
    return row["linked_models"], row["linked_datasets"], row["linked_spaces"]


def test_counts_change_with_a_snapshot_each_and_stay_when_the_same(
    crawl: NewCrawl, database_url: str
) -> None:
    with crawl() as run:
        run.store(paper())
        archive, tick = run.archive, run.clock.tick
        assert archive.store_adoption(counts(3), tick()) == "changed"
        assert archive.store_adoption(counts(3), tick()) == "unchanged"
        assert archive.store_adoption(counts(5, datasets=1), tick()) == "changed"
        # A count the answer lacks keeps what is stored.
        assert archive.store_adoption(counts(5, datasets=None), tick()) == "unchanged"
    assert stored(database_url) == (5, 1, 0)
    history = rows(database_url, adoption_snapshots)
    assert [(s["linked_models"], s["linked_datasets"]) for s in history] == [(3, 0), (5, 1)]
    (row,) = rows(database_url)
    # Read last a minute after the last change, which moved changed_at.
    assert row["changed_at"] == history[-1]["observed_at"]
    assert row["adoption_read_at"] == row["changed_at"] + dt.timedelta(minutes=1)


def test_an_older_read_fills_only_what_is_missing(crawl: NewCrawl, database_url: str) -> None:
    with crawl() as run:
        run.store(paper())
        early, late = run.clock.tick(), run.clock.tick()
        run.archive.store_adoption(counts(9, datasets=None), late)
        # Read earlier, stored later (scrapy reparse): its place in history.
        assert run.archive.store_adoption(counts(2, datasets=4), early) == "changed"
    assert stored(database_url) == (9, 4, 0)
    history = rows(database_url, adoption_snapshots)
    assert [s["linked_models"] for s in sorted(history, key=lambda s: s["observed_at"])] == [2, 9]


def test_not_indexed_and_failures_keep_the_counts_and_the_paper_due(
    crawl: NewCrawl, database_url: str
) -> None:
    with crawl() as run:
        run.archive.adoption = True
        run.store(paper())
        assert [r["arxiv_id"] for r in rows(database_url, adoption_due)] == [ID]
        failed = Adoption(ID, URL, "failed", reason="HTTP 500 after retries")
        assert run.archive.store_adoption(failed, run.clock.tick()) == "failed"
        assert run.archive.store_adoption(failed, run.clock.tick()) == "failed"
        (due,) = rows(database_url, adoption_due)
        assert (due["failures"], due["reason"]) == (2, "HTTP 500 after retries")
        assert run.archive.adoption_to_read(()) == [ID]
        missing = Adoption(ID, URL, "not_indexed")
        assert run.archive.store_adoption(missing, run.clock.tick()) == "not_indexed"
        assert run.archive.adoption_to_read(()) == []
        # A paper the archive does not hold (its listing rejected it).
        other = Adoption("2607.00001", URL, "read", counts={"linked_models": 1})
        assert run.archive.store_adoption(other, run.clock.tick()) == "unknown"
    assert stored(database_url) == (None, None, None)
    assert rows(database_url, adoption_snapshots) == []


def test_the_tail_is_the_papers_listed_those_days_back(crawl: NewCrawl) -> None:
    with crawl() as run:
        run.store(paper())
        listed = paper()["listing_date"]
        assert run.archive.adoption_to_read([(TODAY - listed).days]) == [ID]
        assert run.archive.adoption_to_read([(TODAY - listed).days + 1]) == []


def test_a_hostile_reason_is_stored_on_every_backend(crawl: NewCrawl, database_url: str) -> None:
    with crawl() as run:
        run.store(paper())
        reason = "the answer is for paper 'x\x00\ud800', not '2607.28618'"
        hostile = Adoption(ID, URL, "rejected", reason=reason, payload={"id": "x\x00\ud800"})
        assert run.archive.store_adoption(hostile, run.clock.tick()) == "rejected"
        assert run.archive.store_adoption(hostile, run.clock.tick()) == "rejected"
    (kept,) = rows(database_url, storage.rejected_items)  # once, not twice
    assert kept["page_url"] == URL and "\x00" not in kept["reason"]
