"""The ``daily`` spider: Daily Papers listing pages -> paper items."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response, TextResponse
from scrapy.settings import BaseSettings
from twisted.python.failure import Failure

from digest_crawler.arguments import DailyArguments
from digest_crawler.items import PaperItem
from digest_crawler.loaders import load_paper
from digest_crawler.pages import parse_listing


class DailySpider(scrapy.Spider):
    """Crawl Daily Papers listing pages into paper items.

    Spider arguments:

    date
        The listing day to crawl, ``YYYY-MM-DD`` (UTC). Default: today (UTC).

    Settings: ``DIGEST_BASE_URL`` (the site or a mirror).

    Every item is filed under the date the page says it shows. When the site
    answers a day with another one (no digest that day: a redirect, or a page
    for another date), nothing is filed and the log says which day was served.
    """

    name = "daily"

    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        self.arguments = self.parse_arguments(kwargs)
        super().__init__(name, **kwargs)

    @staticmethod
    def parse_arguments(spargs: Mapping[str, Any]) -> DailyArguments:
        """Validate ``-a`` arguments; raises ``ArgumentError`` (a ValueError)."""
        return DailyArguments.parse(spargs)

    @staticmethod
    def check_settings(settings: BaseSettings) -> str:
        """The base URL of ``DIGEST_BASE_URL``; raises ``ValueError`` when unusable."""
        value = settings.get("DIGEST_BASE_URL") or ""
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"setting DIGEST_BASE_URL: {value!r} is not an http(s) URL with a host"
            )
        return value.rstrip("/")

    async def start(self) -> AsyncIterator[scrapy.Request]:
        base_url = self.check_settings(self.settings)
        for day in self.arguments.days():
            yield scrapy.Request(
                f"{base_url}/papers/date/{day.isoformat()}",
                callback=self.parse,
                errback=self.failed,
                cb_kwargs={"requested": day},
            )

    def parse(self, response: Response, requested: dt.date) -> Iterator[PaperItem]:
        stats = self.crawler.stats
        assert stats is not None
        if not isinstance(response, TextResponse):
            stats.inc_value("digest/unreadable_pages")
            self.logger.error(
                "%s is not a text page (%s); nothing stored for %s",
                response.url,
                response.headers.get("Content-Type"),
                requested,
            )
            return
        page = parse_listing(response.text, response.url, requested)
        stats.inc_value("digest/pages")
        if page.source == "cards":
            stats.inc_value("digest/fallback_pages")
            self.logger.warning(
                "%s: %s; read %d papers from the page's cards instead",
                response.url,
                page.problem,
                len(page.papers),
            )
        if page.served_date is None:
            stats.inc_value("digest/undated_pages")
            self.logger.error(
                "%s: cannot tell which day the page shows; nothing stored for %s",
                response.url,
                requested,
            )
            return
        if page.period != "day" or page.served_date != requested:
            stats.inc_value("digest/no_digest_days")
            self.logger.info(
                "No digest for %s: the site served the %s of %s (%s) instead; "
                "nothing filed under %s",
                requested,
                page.period,
                page.served_date,
                response.url,
                requested,
            )
            return
        if not page.papers:
            stats.inc_value("digest/empty_pages")
            self.logger.warning("%s: the page for %s lists no papers", response.url, requested)
        scraped_at = dt.datetime.now(dt.UTC)
        for raw in page.papers:
            stats.inc_value("digest/papers_seen")
            yield load_paper(
                raw,
                url=response.urljoin(f"/papers/{raw['arxiv_id']}") if raw.get("arxiv_id") else None,
                listing_date=page.served_date,
                scraped_at=scraped_at,
            )

    def failed(self, failure: Failure) -> None:
        """Count and log a page that could not be fetched (after retries)."""
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("digest/failed_pages")
        request = failure.request  # type: ignore[attr-defined]
        self.logger.error("Could not fetch %s: %s", request.url, failure.getErrorMessage())
