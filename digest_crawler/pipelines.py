"""Item pipelines, one job each, in this order (see ITEM_PIPELINES):
validate each paper of a listing -> store the listing in one transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, NoReturn, Protocol, runtime_checkable

from pydantic import ValidationError
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DropItem
from scrapy.settings import BaseSettings
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import deferred_from_coro
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from digest_crawler.arguments import DailyArguments
from digest_crawler.items import Listing, Rejected
from digest_crawler.paper import Paper
from digest_crawler.periods import Period
from digest_crawler.storage import ledger, make_engine, migrate
from digest_crawler.storage.engine import check_database
from digest_crawler.storage.write import record_read, write_listing

logger = logging.getLogger(__name__)


def validation_reason(error: ValidationError) -> str:
    """One line naming each field that failed and why."""
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'paper'}: {e['msg']}"
        for e in error.errors(include_url=False)
    )


class ValidatePipeline:
    """Check each paper of a listing against ``Paper``: the valid ones go on
    with their rank, the others are kept aside with their reason, and a
    paper listed twice on one page is kept once (at its first rank)."""

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Listing):
            return item
        seen: set[str] = set()
        for rank, fields in enumerate(item.papers, start=1):
            if fields is None:  # kept aside by the spider
                continue
            try:
                paper = Paper.model_validate(fields)
            except ValidationError as exc:
                reason = validation_reason(exc)
                arxiv_id = fields.get("arxiv_id")
                self.stats.inc_value("digest/rejected_items")
                logger.warning("Invalid paper %r on %s: %s", arxiv_id, item.url, reason)
                item.rejected.append(
                    Rejected(
                        str(arxiv_id) if arxiv_id is not None else None,
                        f"invalid paper {arxiv_id!r}: {reason}",
                        fields,
                    )
                )
                continue
            if paper.arxiv_id in seen:
                self.stats.inc_value("digest/duplicate_items")
                logger.info("Paper %r is listed twice on %s", paper.arxiv_id, item.url)
                continue
            seen.add(paper.arxiv_id)
            item.valid.append((rank, paper))
        return item


@runtime_checkable
class PlannedSpider(Protocol):
    """A spider whose run the ledger records: its listing days, the days
    not to fetch (filled here), and its validated arguments."""

    name: str
    days: list[dt.date]
    done: set[dt.date]
    arguments: DailyArguments


class StoragePipeline:
    """Store each listing in one transaction: its papers (upserted), their
    ranks, new upvote snapshots, its rejected papers and its outcome in the
    run ledger (``crawl_runs``/``crawl_days``).

    Opening the spider upgrades the archive to this release's schema, starts
    the run's record and tells the spider which days an interrupted run with
    the same days already did (``spider.done``).
    """

    def __init__(self, crawler: Crawler, database_url: str, batch_size: int, horizon: int) -> None:
        assert crawler.stats is not None
        self.crawler = crawler
        self.stats = crawler.stats
        self.database_url = database_url
        self.batch_size = batch_size
        #: Days after which a read settles a listing day: the refresh
        #: schedule's last. Reads count by the run's today (DIGEST_TODAY).
        self.horizon = horizon
        self.read_on = dt.datetime.now(dt.UTC).date()
        self.engine: Engine | None = None
        self.run_id: int | None = None
        self.counts = {"items_stored": 0, "papers_new": 0, "papers_updated": 0, "items_rejected": 0}

    @staticmethod
    def check_settings(settings: BaseSettings) -> None:
        """Refuse, with a one-line ``ValueError``, a database setting no
        crawl can store into: before any request, and before any file is made."""
        try:
            batch_size = settings.getint("DIGEST_BATCH_SIZE")
        except ValueError:
            batch_size = 0
        if batch_size < 1:
            raise ValueError(
                f"setting DIGEST_BATCH_SIZE: {settings.get('DIGEST_BATCH_SIZE')!r} is not a"
                " number of rows: give at least 1"
            )
        check_database(settings["DIGEST_DATABASE_URL"])

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        pipeline = cls(
            crawler,
            crawler.settings["DIGEST_DATABASE_URL"],
            crawler.settings.getint("DIGEST_BATCH_SIZE"),
            max(int(n) for n in crawler.settings.getlist("DIGEST_REFRESH")),
        )
        # The run's record is closed when the finish reason is known.
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        self.engine = make_engine(self.database_url)
        shown = self.engine.url.render_as_string(hide_password=True)
        try:
            before, after = migrate.upgrade(self.engine)
        except (SQLAlchemyError, migrate.SchemaError) as exc:
            self._cannot_start(f"Could not open the archive {shown}", exc)
        if before is not None and before != after:
            logger.info(
                "Upgraded the archive %s from schema version %d to %d", shown, before, after
            )
        spider = self.crawler.spider
        if isinstance(spider, PlannedSpider):
            self.read_on = spider.arguments.today
            try:
                with self.engine.begin() as connection:
                    run = ledger.start_run(
                        connection,
                        spider.name,
                        spider.arguments.model_dump(mode="json", exclude_unset=True),
                        spider.days,
                        dt.datetime.now(dt.UTC),
                        spider.arguments.kind,
                    )
            except SQLAlchemyError as exc:
                self._cannot_start("Could not store the run record", exc)
            self.run_id = run.id
            if run.done:
                spider.done.update(run.done)
                self.stats.set_value("digest/days_carried_over", len(run.done))
                logger.info(
                    "Resuming the last run of these days, which did not complete:"
                    " %d of %d days are already done",
                    len(run.done),
                    len(spider.days),
                )
        logger.info("Storing papers in %s", shown)

    def _cannot_start(self, what: str, exc: Exception) -> NoReturn:
        self.stats.inc_value("digest/storage_errors")
        logger.error("%s: %s", what, str(exc).splitlines()[0])
        assert self.engine is not None
        self.engine.dispose()
        self.engine = None
        # Fetching pages that cannot be stored would only cost the site requests.
        raise CloseSpider("storage_error") from exc

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Listing) or self.engine is None:
            return item
        now = dt.datetime.now(dt.UTC)
        try:
            with self.engine.begin() as connection:
                written = write_listing(
                    connection,
                    item.valid,
                    item.rejected,
                    item.url,
                    now,
                    self.batch_size,
                    Period(item.period, item.day),
                )
                if item.outcome == "served" and item.period == "day":
                    settles = (self.read_on - item.day).days >= self.horizon
                    record_read(connection, item.day, now, settles)
                if self.run_id is not None:
                    ledger.record_day(
                        connection,
                        self.run_id,
                        item.day,
                        "stored" if item.outcome == "served" else item.outcome,
                        now,
                        papers=written.papers,
                        reason=item.reason,
                        url=item.url,
                    )
        except SQLAlchemyError as exc:
            self._storage_failed(f"{len(item.valid)} papers listed on {item.name}", exc)
            raise DropItem(f"the listing of {item.name} could not be stored") from exc
        self.counts["items_stored"] += written.papers
        self.counts["papers_new"] += written.new
        self.counts["papers_updated"] += written.updated
        self.counts["items_rejected"] += written.rejected
        if item.outcome == "served":
            self.stats.inc_value("digest/papers_stored", written.papers)
            self.stats.inc_value("digest/papers_new", written.new)
            self.stats.inc_value("digest/papers_updated", written.updated)
            self.stats.inc_value("digest/upvote_snapshots", written.snapshots)
            self.stats.inc_value("digest/days_stored")
            if written.missing:
                # A day fills up during the day: a shorter read is a partial
                # one, and the archive keeps what it had.
                self.stats.inc_value("digest/papers_missing_from_reread", written.missing)
                logger.warning(
                    "%d papers listed on %s before are not on this read of it; their"
                    " listings are kept",
                    written.missing,
                    item.name,
                )
            logger.info(
                "Stored %d papers listed on %s (%d new, %d changed, %d as before)",
                written.papers,
                item.name,
                written.new,
                written.changed - written.new,
                written.papers - written.changed,
            )
        return item

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.engine is None:
            return
        try:
            if self.run_id is not None:
                with self.engine.begin() as connection:
                    summary = ledger.finish_run(
                        connection, self.run_id, dt.datetime.now(dt.UTC), reason, self.counts
                    )
                self.stats.set_value("digest/days_served", summary.stored)
                self.stats.set_value("digest/days_failed", summary.failed)
                if summary.left:
                    self.stats.set_value("digest/days_left", summary.left)
                    logger.error(
                        "%d of %d listings were neither stored nor found without a digest;"
                        " run the same command again to fetch them",
                        summary.left,
                        len(self.crawler.spider.days),  # type: ignore[union-attr]
                    )
        except SQLAlchemyError as exc:
            self._storage_failed("the run record", exc)
        finally:
            self.engine.dispose()

    def _storage_failed(self, what: str, exc: Exception) -> None:
        self.stats.inc_value("digest/storage_errors")
        logger.error("Could not store %s: %s", what, str(exc).splitlines()[0])
        # Stop the crawl: fetching more pages that cannot be stored would
        # only cost the site requests. The crawl command exits non-zero.
        if self.crawler.crawling and self.crawler.engine is not None:
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="storage_error"))
