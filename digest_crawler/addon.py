"""The project's Scrapy add-on (``ADDONS``): the settings that follow from
other settings, set when the crawler's settings are final.

- API calls (``/api/...``) have a download slot of their own (the site
  counts them in a bucket of their own): ``DOWNLOAD_SLOTS`` gives the base
  URL's ``"<host> api"`` slot its delay, ``DIGEST_API_DELAY``.
- A host name that does not resolve is not retried (a night without network
  fails in seconds): ``RETRY_EXCEPTIONS`` is Scrapy's own list without it.
- A robots.txt that cannot be fetched is logged in one line, without the
  traceback Scrapy's robots.txt middleware adds (the failed listing says why).
- ``DIGEST_CA_BUNDLE`` (a private mirror's CA): https requests go through
  ``tls.CaBundleHandler``, which checks certificates against that bundle,
  unless the project names an https download handler of its own (which then
  checks against the system's store: a refusal, never a silent trust).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from scrapy.exceptions import CannotResolveHostError
from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings
from scrapy.utils.misc import load_object

from digest_crawler.config import Config


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
        slot = api_slot(_hostname(config.base_url))
        slots = dict(settings.getdict("DOWNLOAD_SLOTS"))
        slots.setdefault(slot, {"delay": config.api_delay, "concurrency": 1})
        # Added to the slots a project may have set (at its priority).
        priority = max(settings.getpriority("DOWNLOAD_SLOTS") or 0, SETTINGS_PRIORITIES["addon"])
        settings.set("DOWNLOAD_SLOTS", slots, priority=priority)
        retried = [
            name for name in settings.getlist("RETRY_EXCEPTIONS") if not _is_unresolved(name)
        ]
        settings.set("RETRY_EXCEPTIONS", retried, priority="addon")  # a project's own list rules
        if config.ca_bundle is not None:
            handlers = dict(settings.getdict("DOWNLOAD_HANDLERS"))
            handlers.setdefault("https", "digest_crawler.tls.CaBundleHandler")
            priority = max(
                settings.getpriority("DOWNLOAD_HANDLERS") or 0, SETTINGS_PRIORITIES["addon"]
            )
            settings.set("DOWNLOAD_HANDLERS", handlers, priority=priority)
        robots = logging.getLogger("scrapy.downloadermiddlewares.robotstxt")
        if not any(isinstance(f, _WithoutTraceback) for f in robots.filters):
            robots.addFilter(_WithoutTraceback())


def _hostname(url: str) -> str:
    return urlsplit(url).hostname or ""


def _is_unresolved(name: Any) -> bool:
    try:
        error = load_object(name) if isinstance(name, str) else name
    except (ImportError, NameError, ValueError):
        return False
    return isinstance(error, type) and issubclass(error, CannotResolveHostError)


class _WithoutTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info, record.exc_text = None, None
        return True
