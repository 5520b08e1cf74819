"""``scrapy parse``: Scrapy's, reading one listing URL of the configured site,
and only reading.

The daily spider reads the URL (the project's one spider: ``--spider daily``
may be left out). A URL that is not on the site ``DIGEST_BASE_URL`` names,
or names no listing, and a bad setting, are one line and exit status 2
before any request; a URL that gave no answer is exit status 1. The archive
is not opened (``read_only``): no ledger row, no stale-site check.
"""

from __future__ import annotations

import argparse
import sys
from urllib.parse import urlsplit

from scrapy.commands.parse import Command as ScrapyParseCommand
from scrapy.settings import BaseSettings
from w3lib.url import is_url

#: The one component that writes the archive (and its run ledger).
STORAGE_PIPELINE = "digest_crawler.pipelines.StoragePipeline"


def read_only(settings: BaseSettings) -> None:
    """A run that keeps nothing: the storage pipeline is off, so the archive
    is neither made, upgraded nor written (``scrapy parse``, ``scrapy shell``)."""
    pipelines = dict(settings.getdict("ITEM_PIPELINES"))
    pipelines[STORAGE_PIPELINE] = None
    settings.set("ITEM_PIPELINES", pipelines, priority="cmdline")


class Command(ScrapyParseCommand):
    def short_desc(self) -> str:
        return "Read one listing URL with the daily spider and print its Listing (stores nothing)"

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        read_only(self.settings)
        opts.spider = opts.spider or "daily"
        if opts.spider == "daily" and len(args) == 1 and is_url(args[0]):
            try:
                _check_listing_url(args[0], self.settings)
            except ValueError as exc:
                print(f"scrapy parse: error: {exc}", file=sys.stderr)
                sys.exit(2)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        super().run(args, opts)
        if self.spidercls is not None and self.first_response is None:
            self.exitcode = 1  # Scrapy logs "No response downloaded" and exits 0


def _check_listing_url(url: str, settings: BaseSettings) -> None:
    """A one-line ``ValueError`` for a bad setting, or a URL the daily spider
    would not ask for (another site: Scrapy's offsite filter drops it) or
    cannot read (no listing)."""
    from digest_crawler.config import Config
    from digest_crawler.site.urls import on_site, period_from_url

    config = Config.from_settings(settings)
    if not on_site(url, config.base_url):
        parts = urlsplit(url)
        raise ValueError(
            f"{url} is not on the configured site {config.base_url}"
            f" (give -s DIGEST_BASE_URL={parts.scheme}://{parts.netloc}, or set it in the"
            " environment)"
        )
    if period_from_url(url) is None:
        raise ValueError(
            f"{url} names no listing (/papers/date/YYYY-MM-DD, /papers/week/YYYY-Www,"
            " /papers/month/YYYY-MM or the API's date=, week=, month=)"
        )
