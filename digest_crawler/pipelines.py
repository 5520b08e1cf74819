"""Item pipelines, one job each, in this order (see ITEM_PIPELINES):
validate each paper of a listing -> store the listing in one transaction.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from concurrent import futures
from typing import Any, NoReturn, Protocol, TypeVar, runtime_checkable

from pydantic import ValidationError
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DropItem
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import deferred_from_coro
from sqlalchemy.exc import SQLAlchemyError

from digest_crawler.arguments import DailyArguments
from digest_crawler.config import Config
from digest_crawler.items import Adoption, Listing, Rejected
from digest_crawler.paper import Paper
from digest_crawler.periods import Period
from digest_crawler.site.processors import quoted
from digest_crawler.storage import migrate
from digest_crawler.storage.archive import CrawlArchive
from digest_crawler.storage.write import Written
from digest_crawler.words import counted

logger = logging.getLogger(__name__)
T = TypeVar("T")


def validation_reason(error: ValidationError) -> str:
    """One line naming each field that failed and why."""
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'paper'}: {e['msg']}"
        for e in error.errors(include_url=False)
    )


class ValidatePipeline:
    """Check each paper of a listing against ``Paper``: the valid ones go on
    with their rank, the others are kept aside with their reason (once: the
    copies of a reject, same reason and payload, are counted in
    ``digest/duplicate_rejects``, not kept), and a paper listed twice on one
    page is kept once (at its first rank)."""

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Listing):
            return item
        return validate(item, lambda name, value=1: self.stats.inc_value(f"digest/{name}", value))


def validate(item: Listing, count: Callable[..., None]) -> Listing:
    """``ValidatePipeline``'s work on one listing, counting ``digest/<name>``
    stats with ``count(name, value=1)`` (``scrapy reparse`` validates so too)."""
    seen: set[str] = set()
    for rank, fields in enumerate(item.papers, start=1):
        if fields is None:  # kept aside by the reader
            continue
        try:
            paper = Paper.model_validate(fields)
        except ValidationError as exc:
            reason = validation_reason(exc)
            arxiv_id = fields.get("arxiv_id")
            # The payload is what the page gave (and the listing's day and
            # URL), not the moment it was read: a re-read keeps it the same.
            payload = {name: value for name, value in fields.items() if name != "scraped_at"}
            kept = item.reject(
                Rejected(
                    str(arxiv_id) if arxiv_id is not None else None,
                    f"invalid paper {quoted(arxiv_id)}: {reason}",
                    payload,
                )
            )
            if kept:
                count("rejected_items")
                logger.warning("Invalid paper %s on %s: %s", quoted(arxiv_id), item.url, reason)
            continue
        if paper.arxiv_id in seen:
            count("duplicate_items")
            logger.info("Paper %r is listed twice on %s", paper.arxiv_id, item.url)
            continue
        seen.add(paper.arxiv_id)
        item.valid.append((rank, paper))
    if item.duplicate_rejects:
        count("duplicate_rejects", item.duplicate_rejects)
        logger.warning(
            "%s of papers rejected on %s were not kept again (%d kept)",
            counted(item.duplicate_rejects, "copy", "copies"),
            item.url,
            len(item.rejected),
        )
    return item


@runtime_checkable
class PlannedSpider(Protocol):
    """A spider whose run the ledger records: its listings, the listings
    not to fetch (filled here, by their first days), and its arguments."""

    name: str
    listings: list[Period]
    done: set[dt.date]
    arguments: DailyArguments
    adoption_due: list[str]


class StoragePipeline:
    """Store each listing in the archive (``storage.archive.CrawlArchive``),
    and count and log what that did.

    Opening the spider upgrades the archive to this release's schema, starts
    the run's record and tells the spider which listings an interrupted run
    of the same listings already did (``spider.done``); closing it closes
    the record. A database error stops the crawl: pages that cannot be
    stored would only cost the site requests.

    The archive is written by a thread of its own, a listing at a time in
    the order they were read: the next listing's request goes out while the
    last one is stored. At most one listing is read ahead of the archive: a
    listing that arrives while the one before is still being stored waits
    for it and holds the crawl meanwhile, so that a slow or locked database
    slows the crawl down, as it did, instead of piling up listings it may
    not store. A stopped crawl stores every listing it read before it closes
    the run's record; after a forced stop the process still waits for the
    writer before it exits.
    """

    def __init__(self, crawler: Crawler) -> None:
        assert crawler.stats is not None
        self.crawler = crawler
        self.stats = crawler.stats
        self.config = Config.from_settings(crawler.settings)
        self.archive: CrawlArchive | None = None
        self.counts = {"items_stored": 0, "papers_new": 0, "papers_updated": 0, "items_rejected": 0}
        # The one thread that touches the archive (SQLite has one writer at
        # a time, and its transactions then follow the order of the listings).
        self.writer = futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="digest-storage")
        self.storing: futures.Future[Written] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        pipeline = cls(crawler)
        # The run's record is closed when the finish reason is known.
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        spider = self.crawler.spider
        planned = spider if isinstance(spider, PlannedSpider) else None
        today = planned.arguments.today if planned else dt.datetime.now(dt.UTC).date()
        # The papers of the listings a run stores are due to be asked what
        # cites them: when the run asks (a planned one, DIGEST_ADOPTION).
        asks = planned is not None and self.config.adoption
        self.archive = CrawlArchive(
            self.config.database_url, self.config.batch_size, self.config.horizon, today, asks
        )
        try:
            before, after = self._in_writer(self.archive.upgrade)
        except (SQLAlchemyError, migrate.SchemaError) as exc:
            self._cannot_start(f"Could not open the archive {self.archive.shown}", exc)
        if before is not None and before != after:
            logger.info(
                "Upgraded the archive %s from schema version %d to %d",
                self.archive.shown,
                before,
                after,
            )
        if planned is not None:
            arguments = planned.arguments.model_dump(mode="json", exclude_unset=True)
            try:
                run = self._in_writer(
                    self.archive.start_run,
                    planned.name,
                    arguments,
                    planned.listings,
                    dt.datetime.now(dt.UTC),
                )
            except SQLAlchemyError as exc:
                self._cannot_start("Could not store the run record", exc)
            if run.done:
                planned.done.update(run.done)
                self.stats.set_value("digest/listings_carried_over", len(run.done))
                logger.info(
                    "Resuming the last run of these listings, which did not complete:"
                    " %d of %d are already done",
                    len(run.done),
                    len(planned.listings),
                )
            if asks:
                tail = (
                    self.config.adoption_tail
                    if planned.arguments.reads_the_schedule_setting
                    else ()
                )
                try:
                    planned.adoption_due = self._in_writer(self.archive.adoption_to_read, tail)
                except SQLAlchemyError as exc:
                    self._cannot_start(
                        "Could not read the papers due to be asked what cites them", exc
                    )
        logger.info("Storing papers in %s", self.archive.shown)

    def _cannot_start(self, what: str, exc: Exception) -> NoReturn:
        self.stats.inc_value("digest/storage_errors")
        logger.error("%s: %s", what, str(exc).splitlines()[0])
        self._first_failure(f"{what[:1].lower()}{what[1:]}: {str(exc).splitlines()[0]}")
        assert self.archive is not None
        self._in_writer(self.archive.close)
        self.archive = None
        # Fetching pages that cannot be stored would only cost the site requests.
        raise CloseSpider("storage_error") from exc

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, Adoption) and self.archive is not None:
            return await self._store_adoption(item)
        if not isinstance(item, Listing) or self.archive is None:
            return item
        if self.storing is not None:
            # Blocks the crawl (no further request goes out) while the
            # listing before is still being stored: one listing read ahead.
            futures.wait([self.storing])
        # At the moment its answer was received, as scrapy reparse stores it again.
        moment = item.read_at or dt.datetime.now(dt.UTC)
        self.storing = self.writer.submit(self.archive.store, item, moment)
        try:
            written = await asyncio.wrap_future(self.storing)
        except SQLAlchemyError as exc:
            self._storage_failed(f"{counted(len(item.valid), 'paper')} listed on {item.name}", exc)
            raise DropItem(f"the listing of {item.name} could not be stored") from exc
        self.counts["items_stored"] += written.papers
        self.counts["papers_new"] += written.new
        self.counts["papers_updated"] += written.updated
        self.counts["items_rejected"] += written.rejected
        if item.outcome != "served" and not written.papers:
            return item
        self.stats.inc_value("digest/papers_stored", written.papers)
        self.stats.inc_value("digest/papers_new", written.new)
        self.stats.inc_value("digest/papers_updated", written.updated)
        self.stats.inc_value("digest/upvote_snapshots", written.snapshots)
        if item.outcome != "served":
            # An incomplete read (the API's list past its last page): what was
            # read is kept; the listing stays failed, for the next run.
            logger.warning(
                "Stored the %s read of the incomplete listing %s; it is not settled",
                counted(written.papers, "paper"),
                item.name,
            )
            return item
        self.stats.inc_value("digest/listings_stored")
        if written.missing:
            # A day fills up during the day: a shorter read is a partial
            # one, and the archive keeps what it had.
            self.stats.inc_value("digest/papers_missing_from_reread", written.missing)
            logger.warning(
                "%s listed on %s before %s not on this read of it; their listings are kept",
                counted(written.missing, "paper"),
                item.name,
                "is" if written.missing == 1 else "are",
            )
        logger.info(
            "Stored %s listed on %s (%d new, %d changed, %d as before)",
            counted(written.papers, "paper"),
            item.name,
            written.new,
            written.changed - written.new,
            written.papers - written.changed,
        )
        return item

    async def _store_adoption(self, item: Adoption) -> Adoption:
        """One paper's Hub answer, stored in the archive's thread after the
        listings read before it (so its paper is stored first)."""
        assert self.archive is not None
        moment = item.read_at or dt.datetime.now(dt.UTC)
        try:
            stored = await asyncio.wrap_future(
                self.writer.submit(self.archive.store_adoption, item, moment)
            )
        except SQLAlchemyError as exc:
            self._storage_failed(f"what cites {item.arxiv_id} on the Hub", exc)
            raise DropItem(f"the adoption of {item.arxiv_id} could not be stored") from exc
        if stored == "unknown":
            self.stats.inc_value("digest/adoption_of_unknown_papers")
            logger.info(
                "Not storing the adoption of %s: the paper is not in the archive", item.arxiv_id
            )
        elif stored in ("changed", "unchanged"):
            self.stats.inc_value(f"digest/adoption_{stored}")
        return item

    def spider_closed(self, spider: Any, reason: str) -> None:
        # Every listing that reached this pipeline is through it by now:
        # Scrapy closes the spider when no item is left in the pipelines.
        if self.archive is None:
            self.writer.shutdown()
            return
        try:
            summary = self._in_writer(
                self.archive.finish_run, dt.datetime.now(dt.UTC), reason, self.counts
            )
            if summary is not None:
                self.stats.set_value("digest/listings_served", summary.stored)
                self.stats.set_value("digest/listings_failed", summary.failed)
                if summary.left:
                    self.stats.set_value("digest/listings_left", summary.left)
                    logger.error(
                        "%d of %s were neither stored nor found without a digest;"
                        " run the same command again to fetch them",
                        summary.left,
                        counted(summary.left + summary.stored + summary.no_digest, "listing"),
                    )
        except SQLAlchemyError as exc:
            self._storage_failed("the run record", exc)
        finally:
            self._in_writer(self.archive.close)
            self.writer.shutdown()

    def _first_failure(self, text: str) -> None:
        """The closing line's first failure, unless one came before."""
        if not self.stats.get_value("digest/first_failure"):
            self.stats.set_value("digest/first_failure", text[:300])

    def _in_writer(self, work: Callable[..., T], *arguments: Any) -> T:
        """``work(*arguments)`` in the archive's thread, waited for."""
        return self.writer.submit(work, *arguments).result()

    def _storage_failed(self, what: str, exc: Exception) -> None:
        self.stats.inc_value("digest/storage_errors")
        logger.error("Could not store %s: %s", what, str(exc).splitlines()[0])
        self._first_failure(f"could not store {what}: {str(exc).splitlines()[0]}")
        # Stop the crawl: fetching more pages that cannot be stored would
        # only cost the site requests. The crawl command exits non-zero.
        if self.crawler.crawling and self.crawler.engine is not None:
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="storage_error"))
