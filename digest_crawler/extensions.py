"""Progress of a long backfill: periodic log lines, and a bar on a terminal."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any, TextIO

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector
from twisted.internet import task

from digest_crawler.config import Config
from digest_crawler.items import Listing
from digest_crawler.words import counted, duration

logger = logging.getLogger(__name__)


#: The Hub's answers for the papers asked what cites them, by their outcome.
_ADOPTION_OUTCOMES = ("read", "not_indexed", "rejected", "failed")


class BackfillProgress:
    """Every ``DIGEST_PROGRESS_INTERVAL`` seconds, log days done of total,
    papers stored, the Hub's answers of the papers to ask what cites them,
    and the time left (of the longer of the two); when standard error is a
    terminal that the log does not write to (``LOG_FILE``), also draw a bar
    there after each stored day."""

    def __init__(
        self, stats: StatsCollector, interval: float, stream: TextIO, bar: bool = True
    ) -> None:
        self.stats = stats
        self.interval = interval
        self.stream = stream
        # Only on a terminal, and only when the log does not go there too
        # (a bar redrawn between log lines makes both unreadable).
        self.bar = bar and stream.isatty()
        self.days_done = 0
        self.started = time.monotonic()
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackfillProgress:
        interval = Config.from_settings(crawler.settings).progress_interval
        if interval <= 0:
            raise NotConfigured
        assert crawler.stats is not None
        settings = crawler.settings
        log_elsewhere = bool(settings.get("LOG_FILE")) or not settings.getbool("LOG_ENABLED")
        extension = cls(crawler.stats, interval, sys.stderr, bar=log_elsewhere)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        # A listing is done once stored (scraped) or dropped (storage failed).
        crawler.signals.connect(extension.day_done, signal=signals.item_scraped)
        crawler.signals.connect(extension.day_done, signal=signals.item_dropped)
        return extension

    def spider_opened(self, spider: Any) -> None:
        self.started = time.monotonic()
        self.loop = task.LoopingCall(self.log)
        self.loop.start(self.interval, now=False)

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.bar:
            self.stream.write("\n")
            self.stream.flush()

    def day_done(self, item: Any, **kwargs: Any) -> None:
        if not isinstance(item, Listing):
            return
        self.days_done += 1
        if self.bar:
            self.stream.write("\r" + self.line(bar=True))
            self.stream.flush()

    def log(self) -> None:
        logger.info("Progress: %s", self.line())

    def line(self, bar: bool = False) -> str:
        total = int(self.stats.get_value("digest/listings_to_fetch", 0))
        papers = int(self.stats.get_value("digest/papers_stored", 0))
        done = min(self.days_done, total) if total else self.days_done
        elapsed = time.monotonic() - self.started
        left = elapsed / done * (total - done) if done else None
        text = f"{done}/{total} days, {counted(papers, 'paper')} stored"
        # The Hub's calls run beside the listings, at the API's pace: after
        # the last listing they may take minutes more (a daily run's 550).
        to_ask = int(self.stats.get_value("digest/adoption_to_ask", 0))
        if to_ask:
            asked = sum(
                int(self.stats.get_value(f"digest/adoption_{outcome}", 0))
                for outcome in _ADOPTION_OUTCOMES
            )
            text += f", {asked}/{counted(to_ask, 'paper')} asked of the Hub"
            calls_left = elapsed / asked * (to_ask - asked) if asked else None
            left = None if left is None or calls_left is None else max(left, calls_left)
        eta = duration(left) if left is not None else "unknown"
        text += f", about {eta} left"
        if not bar:
            return text
        width = 30
        filled = int(width * done / total) if total else 0
        return f"[{'#' * filled}{'.' * (width - filled)}] {text}"
