"""The add-on: the settings that follow from the project's own."""

from __future__ import annotations

import logging

from scrapy.exceptions import CannotResolveHostError
from scrapy.utils.misc import load_object

from tests.support.crawler import make_crawler


def test_api_calls_get_a_slot_of_their_own_with_the_api_delay() -> None:
    crawler = make_crawler(DIGEST_BASE_URL="http://127.0.0.1:8080", DIGEST_API_DELAY=0.3)
    crawler._apply_settings()
    assert crawler.settings.getdict("DOWNLOAD_SLOTS")["127.0.0.1 api"] == {
        "delay": 0.3,
        "concurrency": 1,
    }


def test_a_host_that_does_not_resolve_is_not_retried_and_the_rest_is_scrapy_s() -> None:
    crawler = make_crawler()
    crawler._apply_settings()
    retried = [
        load_object(e) if isinstance(e, str) else e
        for e in crawler.settings.getlist("RETRY_EXCEPTIONS")
    ]
    assert CannotResolveHostError not in retried
    assert OSError in retried and len(retried) >= 5  # Scrapy's own list, less one


def test_robots_txt_errors_are_logged_without_a_traceback() -> None:
    crawler = make_crawler()
    crawler._apply_settings()
    logger = logging.getLogger("scrapy.downloadermiddlewares.robotstxt")
    record = logger.makeRecord(
        logger.name, logging.ERROR, "x", 1, "Error", (), (ValueError, ValueError("x"), None)
    )
    assert all(f.filter(record) for f in logger.filters if isinstance(f, logging.Filter))
    assert record.exc_info is None
