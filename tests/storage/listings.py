"""Listings for the tests of storage and of the pipelines: the real
2026-07-31 paper with changes, a listing as the spider yields it and as
validation passes it on, one crawl's session on an archive driven as the
storage pipeline drives it, and the rows of a table read back."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from digest_crawler import storage
from digest_crawler.items import Listing, Outcome
from digest_crawler.periods import Period
from digest_crawler.pipelines import ValidatePipeline
from digest_crawler.storage.archive import CrawlArchive
from digest_crawler.storage.ledger import Run, Summary
from digest_crawler.storage.queries import PaperFilter, open_archive
from digest_crawler.storage.search import Match, search
from digest_crawler.storage.write import Written
from tests.support.crawler import make_crawler

D = dt.date
NOW = dt.datetime(2026, 11, 26, 6, 0, tzinfo=dt.UTC)
#: The days a crawl is of unless told: 2026-07-30 to 2026-08-01.
DAYS = (D(2026, 7, 30), D(2026, 8, 1))
#: The run's today: every day above is settled at the horizon of 14 days.
TODAY = D(2026, 8, 20)
HORIZON = 14
BATCH_SIZE = 500


def paper(**changes: Any) -> dict[str, Any]:
    """One paper's fields as the loader gives them (the real 2026-07-31 entry)."""
    fields = {
        "arxiv_id": "2607.28618",
        "url": "https://huggingface.co/papers/2607.28618",
        "title": "AskChem: Claim-Centered Infrastructure for Chemistry Literature Synthesis",
        "abstract": "Chemistry literature synthesis often requires assembling specific findings.",
        "authors": ["Bing Yan", "Gregory Wolfe", "Stefano Martiniani", "Kyunghyun Cho"],
        "author_count": 4,
        "organization": "New York University",
        "organization_id": "newyorkuniversity",
        "published_at": D(2026, 7, 30),
        "listing_date": D(2026, 7, 31),
        "submitted_at": dt.datetime(2026, 7, 31, tzinfo=dt.UTC),
        "upvotes": 292,
        "num_comments": 2,
        "github_repo": "https://github.com/bingyan4science/askchem",
        "github_stars": 8,
        "project_page": "https://www.askchem.org",
        "submitted_by": "bing-yan",
        "scraped_at": NOW,
    }
    fields.update(changes)
    return {name: value for name, value in fields.items() if value is not None}


def listing(*papers: dict[str, Any] | None, day: dt.date | None = None) -> Listing:
    """A day's listing of ``papers`` as the spider yields it (served, not validated)."""
    if day is None:
        first = next(p for p in papers if p is not None)
        day = first["listing_date"]
    assert day is not None
    return Listing(
        day=day,
        url=f"http://127.0.0.1/papers/date/{day}",
        outcome="served",
        papers=list(papers),
    )


def validated(item: Listing) -> Listing:
    """``item`` through ``ValidatePipeline``: ``valid`` and ``rejected`` filled."""
    validate = ValidatePipeline.from_crawler(make_crawler())
    checked: Listing = validate.process_item(item)
    return checked


class Clock:
    """The moments of a test's crawls, a minute apart from ``NOW``: each
    moment the archive is given is later than the one before."""

    def __init__(self, start: dt.datetime = NOW) -> None:
        self.now = start

    def tick(self) -> dt.datetime:
        self.now += dt.timedelta(minutes=1)
        return self.now


class Crawl:
    """One crawl's session on the archive at ``url`` (``CrawlArchive``), as
    the storage pipeline holds it: upgraded and its run started on entry,
    each listing stored at the clock's next moment, the run finished (with
    ``finish_reason`` and the pipeline's counts) on exit."""

    def __init__(
        self,
        url: str,
        clock: Clock | None = None,
        listings: Sequence[Period] | None = None,
        today: dt.date = TODAY,
    ) -> None:
        self.clock = clock or Clock()
        self.listings = list(listings or Period.touching("day", *DAYS))
        self.archive = CrawlArchive(url, BATCH_SIZE, HORIZON, today)
        self.finish_reason = "finished"
        self.counts = {"items_stored": 0, "papers_new": 0, "papers_updated": 0, "items_rejected": 0}
        self.summary: Summary | None = None

    def __enter__(self) -> Crawl:
        self.archive.upgrade()
        first, last = self.listings[0], self.listings[-1]
        arguments = {"start": str(first.start), "end": str(last.start)}
        self.run: Run = self.archive.start_run("daily", arguments, self.listings, self.clock.tick())
        return self

    def store(self, *papers: dict[str, Any] | None, day: dt.date | None = None) -> Written:
        """A day's listing of ``papers``, validated, then stored."""
        return self.store_listing(validated(listing(*papers, day=day)))

    def store_listing(self, item: Listing) -> Written:
        written = self.archive.store(item, self.clock.tick())
        self.counts["items_stored"] += written.papers
        self.counts["papers_new"] += written.new
        self.counts["papers_updated"] += written.updated
        self.counts["items_rejected"] += written.rejected
        return written

    def record(self, day: dt.date, outcome: Outcome, reason: str | None) -> Written:
        """A listing without papers: ``no_digest`` or ``failed`` (or served empty)."""
        url = f"http://127.0.0.1/papers/date/{day}"
        return self.store_listing(Listing(day=day, url=url, outcome=outcome, reason=reason))

    def __exit__(self, *exc: object) -> None:
        try:
            self.summary = self.archive.finish_run(
                self.clock.tick(), self.finish_reason, self.counts
            )
        finally:
            self.archive.close()


#: The ``crawl`` fixture: a new ``Crawl`` of the test's archive, on the test's clock.
NewCrawl = Callable[..., Crawl]


def rows(database_url: str, table: sa.Table = storage.papers) -> list[dict[str, Any]]:
    """Every row of ``table`` in key order, read through the readers' engine."""
    engine = storage.make_reader(database_url)
    try:
        with engine.connect() as connection:
            return [
                dict(r._mapping)
                for r in connection.execute(sa.select(table).order_by(*table.primary_key))
            ]
    finally:
        engine.dispose()


def words(count: int, seed: str) -> str:
    """``count`` distinct words no stemmer folds together (hex digests in
    letters only), as incompressible as text gets: each one a new lexeme."""
    table = str.maketrans("0123456789", "ghijklmnop")
    return " ".join(
        hashlib.sha256(f"{seed}{n}".encode()).hexdigest()[:10].translate(table)
        for n in range(count)
    )


def find(url: str, query: str, chosen: PaperFilter | None = None, limit: int = 10) -> list[Match]:
    """The matches of ``query``, searched as ``scrapy search`` opens the archive (read-only)."""
    engine = open_archive(url)
    try:
        with engine.connect() as connection:
            return search(connection, query, chosen or PaperFilter(), limit)
    finally:
        engine.dispose()
