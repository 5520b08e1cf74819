"""The add-on: the settings that follow from the project's own."""

from __future__ import annotations

import logging
from pathlib import Path

from scrapy.exceptions import CannotResolveHostError
from scrapy.utils.misc import load_object

from tests.support.crawler import make_crawler
from tests.support.tls import Authority


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


def test_a_ca_bundle_sends_https_through_the_handler_that_trusts_it(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(Authority().certificate)
    crawler = make_crawler()
    crawler._apply_settings()
    assert crawler.settings.getbool("DOWNLOAD_VERIFY_CERTIFICATES")  # the system's store
    assert "https" not in crawler.settings.getdict("DOWNLOAD_HANDLERS")
    crawler = make_crawler(DIGEST_CA_BUNDLE=str(bundle))
    crawler._apply_settings()
    handlers = crawler.settings.getdict("DOWNLOAD_HANDLERS")
    assert handlers["https"] == "digest_crawler.tls.CaBundleHandler"
    # A project's own https handler is kept: it checks against the system's store.
    own = "scrapy.core.downloader.handlers.http2.H2DownloadHandler"
    crawler = make_crawler(DIGEST_CA_BUNDLE=str(bundle), DOWNLOAD_HANDLERS={"https": own})
    crawler._apply_settings()
    assert crawler.settings.getdict("DOWNLOAD_HANDLERS")["https"] == own
