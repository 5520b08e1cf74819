"""Scrapy's scheduler, with its request queue kept in memory even when
``JOBDIR`` is set.

Scrapy's disk queue does not survive ``kill -9`` (a resumed run read a
half-written queue, logged an error and stopped with most days never
fetched), and this crawl needs none: one request is in flight at a time,
and the run ledger in the database knows which listings are done.
"""

from __future__ import annotations

from typing import Any

from scrapy.core.scheduler import Scheduler
from scrapy.dupefilters import BaseDupeFilter


class MemoryScheduler(Scheduler):
    def __init__(
        self, dupefilter: BaseDupeFilter, jobdir: str | None = None, **kwargs: Any
    ) -> None:
        # No job directory for the queue: Scheduler then makes no disk queue.
        super().__init__(dupefilter, jobdir=None, **kwargs)
