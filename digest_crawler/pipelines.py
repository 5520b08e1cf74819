"""Item pipelines, one job each, in this order (see ITEM_PIPELINES):
normalise dates -> validate -> de-duplicate -> store.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections import defaultdict
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

from digest_crawler import storage
from digest_crawler.dates import to_date, to_moment
from digest_crawler.items import PaperRecord

logger = logging.getLogger(__name__)


class InvalidItem(DropItem):
    """An item that failed validation; the storage pipeline keeps it aside."""


class NormaliseDatesPipeline:
    """Turn the site's date forms into ``date`` and aware UTC ``datetime``."""

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        # Year-less dates ("Feb 19") take their year from the listing date,
        # so that one goes first. A value that does not parse is left as it
        # is: validation then rejects the item and says why.
        listing_date = _convert(adapter, "listing_date", to_date)
        reference = listing_date if isinstance(listing_date, dt.date) else None
        _convert(adapter, "published_at", lambda value: to_date(value, reference))
        _convert(adapter, "submitted_at", to_moment)
        _convert(adapter, "scraped_at", to_moment)
        return item


def _convert(adapter: ItemAdapter, name: str, convert: Any) -> Any:
    value = adapter.get(name)
    if value is not None:
        with contextlib.suppress(ValueError, TypeError, OverflowError):
            adapter[name] = convert(value)
    return adapter.get(name)


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
        adapter = ItemAdapter(item)
        try:
            record = PaperRecord.model_validate(adapter.asdict())
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
    """Drop a paper already seen in this run (same ``arxiv_id``)."""

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats
        self.seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DeduplicatePipeline:
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        arxiv_id = ItemAdapter(item)["arxiv_id"]
        if arxiv_id in self.seen:
            self.stats.inc_value("digest/duplicate_items")
            raise DropItem(f"duplicate paper {arxiv_id!r} in this run", log_level="INFO")
        self.seen.add(arxiv_id)
        return item


class StoragePipeline:
    """Upsert papers into ``DIGEST_DATABASE_URL``, one transaction per
    listing day, and keep rejected items in ``rejected_items``."""

    def __init__(self, crawler: Crawler, database_url: str, batch_size: int) -> None:
        assert crawler.stats is not None
        self.crawler = crawler
        self.stats = crawler.stats
        self.database_url = database_url
        self.batch_size = batch_size
        self.engine: Engine | None = None
        self.pending: dict[dt.date, list[dict[str, Any]]] = defaultdict(list)
        self.rejected: list[dict[str, Any]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        pipeline = cls(
            crawler,
            crawler.settings.get("DIGEST_DATABASE_URL") or storage.DEFAULT_DATABASE_URL,
            crawler.settings.getint("DIGEST_BATCH_SIZE", 500),
        )
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        return pipeline

    def open_spider(self) -> None:
        self.engine = storage.make_engine(self.database_url)
        storage.create_tables(self.engine)
        logger.info("Storing papers in %s", self.engine.url.render_as_string(hide_password=True))

    def process_item(self, item: Any) -> Any:
        row = ItemAdapter(item).asdict()
        day = row["listing_date"]
        # Items arrive page by page: a new listing day means the previous
        # day's page is complete, so its rows go in one transaction.
        for other in [d for d in self.pending if d != day]:
            self._flush(other)
        self.pending[day].append(row)
        if len(self.pending[day]) >= self.batch_size:
            self._flush(day)
        return item

    def item_dropped(
        self, item: Any, response: Response | None, exception: Exception, spider: Spider
    ) -> None:
        if not isinstance(exception, InvalidItem):
            return
        data = ItemAdapter(item).asdict()
        self.rejected.append(
            {
                "arxiv_id": str(data.get("arxiv_id"))[:64] if data.get("arxiv_id") else None,
                "page_url": response.url if response is not None else None,
                "reason": str(exception),
                "payload": storage.to_payload(data),
                "rejected_at": dt.datetime.now(dt.UTC),
            }
        )

    def close_spider(self) -> None:
        try:
            for day in list(self.pending):
                self._flush(day)
            self._flush_rejected()
        finally:
            if self.engine is not None:
                self.engine.dispose()

    def _flush(self, day: dt.date) -> None:
        rows = self.pending.pop(day, [])
        if not rows or self.engine is None:
            return
        try:
            with self.engine.begin() as connection:
                new, updated = storage.upsert_papers(connection, rows, dt.datetime.now(dt.UTC))
                if self.rejected:
                    storage.insert_rejected(connection, self.rejected)
        except SQLAlchemyError as exc:
            self.stats.inc_value("digest/storage_errors")
            logger.error(
                "Could not store %d papers listed on %s: %s",
                len(rows),
                day,
                str(exc).splitlines()[0],
            )
            # Stop the crawl: fetching more pages that cannot be stored would
            # only cost the site requests. The crawl command exits non-zero.
            if self.crawler.crawling:
                deferred_from_coro(self.crawler.engine.close_spider_async(reason="storage_error"))
            return
        self.rejected.clear()
        self.stats.inc_value("digest/papers_stored", len(rows))
        self.stats.inc_value("digest/papers_new", new)
        self.stats.inc_value("digest/papers_updated", updated)
        logger.info(
            "Stored %d papers listed on %s (%d new, %d updated)", len(rows), day, new, updated
        )

    def _flush_rejected(self) -> None:
        if self.rejected and self.engine is not None:
            with self.engine.begin() as connection:
                storage.insert_rejected(connection, self.rejected)
            self.rejected.clear()
