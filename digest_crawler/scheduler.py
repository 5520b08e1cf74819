"""Scrapy's scheduler, with its request queue kept in memory even when
``JOBDIR`` is set.

Scrapy's disk queue does not survive ``kill -9`` (a resumed run read a
half-written queue, logged an error and stopped with most days never
fetched), and this crawl needs none: one request is in flight at a time,
and the run ledger in the database knows which days are done.
"""

from __future__ import annotations

from scrapy.core.scheduler import Scheduler
from scrapy.crawler import Crawler


class MemoryScheduler(Scheduler):
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MemoryScheduler:
        scheduler = super().from_crawler(crawler)
        scheduler.dqdir = None  # no disk queue: Scheduler.open() then makes none
        return scheduler
