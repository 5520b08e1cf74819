"""The scheduler (``scheduler.py``): Scrapy's, with its request queue kept
in memory even when ``JOBDIR`` is set."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from scrapy import Request
from scrapy.core.scheduler import Scheduler
from scrapy.utils.misc import load_object

from digest_crawler.scheduler import MemoryScheduler
from digest_crawler.spiders.daily import DailySpider
from tests.support.crawler import make_crawler


def opened(scheduler_class: type[Scheduler], jobdir: Path) -> Scheduler:
    """A scheduler of a crawler with ``JOBDIR``, opened as the engine opens
    it (the project's priority queue asks the downloader for its slots:
    here one with no download under way)."""
    crawler = make_crawler(JOBDIR=str(jobdir))
    spider = DailySpider.from_crawler(crawler, date="2026-07-31")
    crawler.spider = spider
    crawler.engine = SimpleNamespace(  # type: ignore[assignment]
        downloader=SimpleNamespace(slots={}, get_slot_key=lambda request: "127.0.0.1")
    )
    scheduler = scheduler_class.from_crawler(crawler)
    scheduler.open(spider)
    return scheduler


def test_the_project_s_scheduler_keeps_its_queue_in_memory_with_a_jobdir(tmp_path: Path) -> None:
    scheduler_class = load_object(make_crawler().settings["SCHEDULER"])
    assert scheduler_class is MemoryScheduler
    scheduler = opened(scheduler_class, tmp_path / "job")
    try:
        assert scheduler.dqs is None
        request = Request("http://127.0.0.1:9/papers/date/2026-07-31", dont_filter=True)
        assert scheduler.enqueue_request(request)
        assert scheduler.next_request() is request
    finally:
        scheduler.close("finished")
    assert not (tmp_path / "job" / "requests.queue").exists()


def test_scrapy_s_own_scheduler_would_keep_a_disk_queue_there(tmp_path: Path) -> None:
    """What the memory scheduler is for: the same crawler's settings give
    Scrapy's scheduler a queue on disk."""
    scheduler = opened(Scheduler, tmp_path / "job")
    try:
        assert scheduler.dqs is not None
    finally:
        scheduler.close("finished")
    assert (tmp_path / "job" / "requests.queue").is_dir()
