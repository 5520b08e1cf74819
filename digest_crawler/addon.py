"""The project's Scrapy add-on (``ADDONS``): the settings that follow from
other settings, set when the crawler's settings are final.

- API calls (``/api/...``) have a download slot of their own (the site
  counts them in a bucket of their own): ``DOWNLOAD_SLOTS`` gives the base
  URL's ``"<host> api"`` slot its delay, ``DIGEST_API_DELAY``.
- A host name that does not resolve is not retried (a night without network
  fails in seconds): ``RETRY_EXCEPTIONS`` is Scrapy's own list without it.
- A robots.txt that cannot be fetched is logged in one line, without the
  traceback Scrapy's robots.txt middleware adds (the failed listing says why).
"""

from __future__ import annotations

import logging
from typing import Any

import scrapy.exceptions
from scrapy.settings import BaseSettings
from scrapy.utils.misc import load_object
from twisted.internet.error import DNSLookupError

from digest_crawler.config import Config

#: What Scrapy raises for a host name that does not resolve (Twisted's
#: error, and Scrapy's own since 2.19).
UNRESOLVED: tuple[type[BaseException], ...] = (
    DNSLookupError,
    getattr(scrapy.exceptions, "CannotResolveHostError", DNSLookupError),
)


def api_slot(host: str) -> str:
    """The download slot (and rate-limit bucket) of ``host``'s API calls."""
    return f"{host} api"


class Digest:
    """Brings the settings that follow from the project's own."""

    def update_settings(self, settings: BaseSettings) -> None:
        try:
            config = Config.from_settings(settings)
        except ValueError:
            return  # the crawl command has said so, and stopped, before any crawler
        host = api_slot(_hostname(config.base_url))
        slots = dict(settings.getdict("DOWNLOAD_SLOTS"))
        slots.setdefault(host, {"delay": config.api_delay, "concurrency": 1})
        settings.set("DOWNLOAD_SLOTS", slots, priority="addon")
        retried = [
            name for name in settings.getlist("RETRY_EXCEPTIONS") if not _is_unresolved(name)
        ]
        settings.set("RETRY_EXCEPTIONS", retried, priority="addon")
        robots = logging.getLogger("scrapy.downloadermiddlewares.robotstxt")
        if not any(isinstance(f, _WithoutTraceback) for f in robots.filters):
            robots.addFilter(_WithoutTraceback())


def _hostname(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or ""


def _is_unresolved(name: Any) -> bool:
    try:
        error = load_object(name) if isinstance(name, str) else name
    except (ImportError, NameError, ValueError):
        return False
    return isinstance(error, type) and issubclass(error, UNRESOLVED)


class _WithoutTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info, record.exc_text = None, None
        return True
