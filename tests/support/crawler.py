"""Crawlers for tests that run components in-process, with the project's settings."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.settings import SETTINGS_PRIORITIES, Settings
from scrapy.utils.test import get_crawler

from digest_crawler.spiders.daily import DailySpider


def project_settings(**overrides: Any) -> dict[str, Any]:
    """``digest_crawler.settings`` with ``overrides``, as a dict for
    ``get_crawler`` (Scrapy's defaults stay defaults, as in a real run)."""
    settings = Settings()
    settings.setmodule("digest_crawler.settings", priority="project")
    project = SETTINGS_PRIORITIES["project"]
    own = {name: settings[name] for name in settings if settings.getpriority(name) == project}
    return {**own, **overrides}


def make_crawler(spidercls: type[Spider] = DailySpider, **overrides: Any) -> Crawler:
    crawler = get_crawler(spidercls, project_settings(**overrides))
    assert crawler.stats is not None
    crawler.stats.open_spider()
    return crawler


def make_spider(**arguments: Any) -> DailySpider:
    """A ``daily`` spider with ``arguments`` on a crawler with the project's
    settings and a base URL nobody answers."""
    crawler = make_crawler(DIGEST_BASE_URL="http://127.0.0.1:9")
    return DailySpider.from_crawler(crawler, **arguments)


T = TypeVar("T")


def run_async(awaitable: Awaitable[T]) -> T:
    """Run a coroutine to its end on a loop of its own: ``asyncio.run``
    would leave the installed reactor's loop unset and unclosed."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(awaitable)
    finally:
        loop.close()
