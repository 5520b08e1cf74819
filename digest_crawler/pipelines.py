"""Item pipelines, one job each, in this order (see ITEM_PIPELINES):
normalise dates -> validate -> de-duplicate -> store.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import MutableMapping
from typing import Any

from itemadapter import ItemAdapter
from pydantic import ValidationError
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import deferred_from_coro
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from digest_crawler import signals as digest_signals
from digest_crawler import storage
from digest_crawler.dates import to_date, to_moment
from digest_crawler.items import PAPER_FIELDS, PaperItem, PaperRecord

logger = logging.getLogger(__name__)

# What the storage keeps of an item: the public fields and the listing rank.
_ROW_FIELDS = (*PAPER_FIELDS, "rank")


class InvalidItem(DropItem):
    """An item that failed validation; the storage pipeline keeps it aside."""


def fields_of(item: Any) -> MutableMapping[str, Any]:
    """The item's fields as a mapping: our own dataclass item directly, any
    other kind of item through ItemAdapter (whose set-up, repeated in every
    pipeline for every paper, cost more than the pipelines' own work).

    >>> fields_of(PaperItem(title="T"))["title"], fields_of({"title": "T"})["title"]
    ('T', 'T')
    """
    return vars(item) if type(item) is PaperItem else ItemAdapter(item)


class NormaliseDatesPipeline:
    """Turn the site's date forms into ``date`` and aware UTC ``datetime``."""

    def process_item(self, item: Any) -> Any:
        adapter = fields_of(item)
        # Year-less dates ("Feb 19") take their year from the listing date,
        # so that one goes first. A value that does not parse is left as it
        # is: validation then rejects the item and says why.
        listing_date = _convert(adapter, "listing_date", to_date)
        reference = listing_date if isinstance(listing_date, dt.date) else None
        _convert(adapter, "published_at", lambda value: to_date(value, reference))
        _convert(adapter, "submitted_at", to_moment)
        _convert(adapter, "scraped_at", to_moment)
        return item


def _convert(adapter: MutableMapping[str, Any], name: str, convert: Any) -> Any:
    value = adapter.get(name)
    if value is not None:
        with contextlib.suppress(ValueError, TypeError, OverflowError):
            value = adapter[name] = convert(value)
    return value


class ValidatePipeline:
    """Check every item against ``PaperRecord``; invalid ones are dropped
    with their reason and stored in ``rejected_items`` by the storage pipeline."""

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        adapter = fields_of(item)
        try:
            record = PaperRecord.model_validate({name: adapter.get(name) for name in PAPER_FIELDS})
        except ValidationError as exc:
            self.stats.inc_value("digest/rejected_items")
            reason = "; ".join(
                f"{'.'.join(map(str, error['loc'])) or 'item'}: {error['msg']}"
                for error in exc.errors(include_url=False)
            )
            raise InvalidItem(
                f"invalid paper {adapter.get('arxiv_id')!r}: {reason}", log_level="WARNING"
            ) from exc
        for name, value in record:
            adapter[name] = value
        return item


class DeduplicatePipeline:
    """Drop a paper seen twice on the same listing day in this run.

    The same paper on two days is two listings (both are kept in
    ``listings``; ``papers`` keeps the earliest day). Days come one after
    another, so only the last few days' keys are kept: memory stays flat
    over a backfill of years.
    """

    KEEP_DAYS = 4

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats
        self.seen: dict[Any, set[str]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DeduplicatePipeline:
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        adapter = fields_of(item)
        day, arxiv_id = adapter["listing_date"], adapter["arxiv_id"]
        seen = self.seen.get(day)
        if seen is None:
            seen = self.seen[day] = set()
            while len(self.seen) > self.KEEP_DAYS:
                del self.seen[next(iter(self.seen))]  # the oldest day
        if arxiv_id in seen:
            self.stats.inc_value("digest/duplicate_items")
            raise DropItem(
                f"duplicate paper {arxiv_id!r} on the listing of {day}", log_level="INFO"
            )
        seen.add(arxiv_id)
        return item


class StoragePipeline:
    """Store each listing day in one transaction: its papers (upserted), its
    listings, new upvote snapshots, its rejected items and the day's outcome
    in the run's ledger (``crawl_runs``/``crawl_days``)."""

    def __init__(self, crawler: Crawler, database_url: str, batch_size: int) -> None:
        assert crawler.stats is not None
        self.crawler = crawler
        self.stats = crawler.stats
        self.database_url = database_url
        self.batch_size = batch_size
        self.engine: Engine | None = None
        self.run_id: int | None = None
        # Per listing day: the papers the page gave, how many of them have
        # been stored or dropped so far, and the rows waiting to be written.
        self.expected: dict[dt.date, int] = {}
        self.accounted: dict[dt.date, int] = defaultdict(int)
        self.pending: dict[dt.date, list[dict[str, Any]]] = defaultdict(list)
        self.rejected: dict[dt.date | None, list[dict[str, Any]]] = defaultdict(list)
        self.urls: dict[dt.date, str] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        pipeline = cls(
            crawler,
            crawler.settings.get("DIGEST_DATABASE_URL") or storage.DEFAULT_DATABASE_URL,
            crawler.settings.getint("DIGEST_BATCH_SIZE", 500),
        )
        connect = crawler.signals.connect
        connect(pipeline.days_planned, signal=digest_signals.days_planned)
        connect(pipeline.page_parsed, signal=digest_signals.page_parsed)
        connect(pipeline.day_finished, signal=digest_signals.day_finished)
        connect(pipeline.item_dropped, signal=signals.item_dropped)
        connect(pipeline.item_error, signal=signals.item_error)
        connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        self.engine = storage.make_engine(self.database_url)
        storage.create_tables(self.engine)
        logger.info("Storing papers in %s", self.engine.url.render_as_string(hide_password=True))

    # -- the spider's signals ---------------------------------------------------

    def days_planned(
        self, days: list[dt.date], arguments: dict[str, Any], spider: Spider
    ) -> set[dt.date]:
        """Open this run's record; return the days an interrupted run with
        the same days already completed (not to be fetched again)."""
        assert self.engine is not None
        now = dt.datetime.now(dt.UTC)
        try:
            with self.engine.begin() as connection:
                self.run_id = storage.start_run(connection, spider.name, arguments, days, now)
                done = storage.resume_days(connection, self.run_id)
        except SQLAlchemyError as exc:
            self._storage_failed("the run record", exc)
            return set()
        if done:
            self.stats.set_value("digest/days_carried_over", len(done))
            logger.info(
                "Resuming an interrupted run: %d of %d days are already done", len(done), len(days)
            )
        return done

    def page_parsed(self, day: dt.date, papers: int, url: str) -> None:
        self.expected[day] = papers
        self.urls[day] = url
        self._maybe_flush(day)

    def day_finished(self, day: dt.date, outcome: str, reason: str | None, url: str | None) -> None:
        if self.engine is None or self.run_id is None:
            return
        now = dt.datetime.now(dt.UTC)
        try:
            with self.engine.begin() as connection:
                storage.record_day(
                    connection, self.run_id, day, outcome, now, reason=reason, url=url
                )
        except SQLAlchemyError as exc:
            self._storage_failed(f"the outcome of {day}", exc)

    # -- items --------------------------------------------------------------------

    def process_item(self, item: Any) -> Any:
        # Only the stored fields, read one by one: ItemAdapter.asdict() walks
        # every value (author lists included) looking for nested items.
        values = fields_of(item)
        row: dict[str, Any] = {name: values.get(name) for name in _ROW_FIELDS}
        day: dt.date = row["listing_date"]
        self.pending[day].append(row)
        self._account(day)
        return item

    def item_dropped(
        self, item: Any, response: Response | None, exception: Exception, spider: Spider
    ) -> None:
        data = ItemAdapter(item).asdict()
        day = data.get("listing_date") if isinstance(data.get("listing_date"), dt.date) else None
        if isinstance(exception, InvalidItem):
            self.rejected[day].append(
                {
                    "arxiv_id": str(data["arxiv_id"])[:64] if data.get("arxiv_id") else None,
                    "page_url": response.url if response is not None else None,
                    "reason": str(exception),
                    "payload": storage.to_payload(data),
                    "rejected_at": dt.datetime.now(dt.UTC),
                }
            )
        if day is not None:
            self._account(day)

    def item_error(
        self, item: Any, response: Response | None, spider: Spider, failure: Any
    ) -> None:
        self.stats.inc_value("digest/item_errors")
        self.item_dropped(
            item, response, InvalidItem(f"error: {failure.getErrorMessage()}"), spider
        )

    def _account(self, day: dt.date) -> None:
        self.accounted[day] += 1
        self._maybe_flush(day)

    def _maybe_flush(self, day: dt.date) -> None:
        if day in self.expected and self.accounted[day] >= self.expected[day]:
            self._flush(day)

    # -- closing ------------------------------------------------------------------

    def close_spider(self) -> None:
        # Days whose items did not all come back (an item lost to an error
        # without a signal): store what arrived rather than nothing.
        for day in sorted(set(self.pending) | set(self.expected)):
            self._flush(day)
        if self.rejected and self.engine is not None:
            try:
                with self.engine.begin() as connection:
                    for rows in self.rejected.values():
                        storage.insert_rejected(connection, rows)
                self.rejected.clear()
            except SQLAlchemyError as exc:
                self._storage_failed("rejected items", exc)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.engine is None:
            return
        try:
            if self.run_id is not None:
                counts = {
                    "items_stored": self._stat("papers_stored"),
                    "papers_new": self._stat("papers_new"),
                    "papers_updated": self._stat("papers_updated"),
                    "items_rejected": self._stat("rejected_items"),
                }
                with self.engine.begin() as connection:
                    days = storage.finish_run(
                        connection, self.run_id, dt.datetime.now(dt.UTC), reason, counts
                    )
                for name, value in days.items():
                    self.stats.set_value(f"digest/{name}", value)
        except SQLAlchemyError as exc:
            self._storage_failed("the run record", exc)
        finally:
            self.engine.dispose()

    def _stat(self, name: str) -> int:
        return int(self.stats.get_value(f"digest/{name}", 0))

    def _flush(self, day: dt.date) -> None:
        rows = self.pending.pop(day, [])
        self.expected.pop(day, None)
        self.accounted.pop(day, None)
        rejected = self.rejected.pop(day, [])
        if self.engine is None:
            return
        now = dt.datetime.now(dt.UTC)
        try:
            with self.engine.begin() as connection:
                new = updated = 0
                for start in range(0, len(rows), self.batch_size):
                    batch = rows[start : start + self.batch_size]
                    batch_new, batch_updated = storage.upsert_papers(connection, batch, now)
                    new, updated = new + batch_new, updated + batch_updated
                storage.upsert_listings(connection, rows, now)
                snapshots = storage.record_snapshots(connection, (r["arxiv_id"] for r in rows), now)
                storage.insert_rejected(connection, rejected)
                if self.run_id is not None:
                    storage.record_day(
                        connection,
                        self.run_id,
                        day,
                        "stored",
                        now,
                        papers=len(rows),
                        url=self.urls.get(day),
                    )
        except SQLAlchemyError as exc:
            self._storage_failed(f"{len(rows)} papers listed on {day}", exc)
            return
        self.stats.inc_value("digest/papers_stored", len(rows))
        self.stats.inc_value("digest/papers_new", new)
        self.stats.inc_value("digest/papers_updated", updated)
        self.stats.inc_value("digest/upvote_snapshots", snapshots)
        self.stats.inc_value("digest/days_stored")
        logger.info(
            "Stored %d papers listed on %s (%d new, %d updated)", len(rows), day, new, updated
        )

    def _storage_failed(self, what: str, exc: SQLAlchemyError) -> None:
        self.stats.inc_value("digest/storage_errors")
        logger.error("Could not store %s: %s", what, str(exc).splitlines()[0])
        # Stop the crawl: fetching more pages that cannot be stored would
        # only cost the site requests. The crawl command exits non-zero.
        if self.crawler.crawling:
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="storage_error"))
