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
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlsplit

from scrapy.commands.parse import Command as ScrapyParseCommand
from scrapy.settings import BaseSettings
from w3lib.url import is_url

if TYPE_CHECKING:
    from digest_crawler.config import Config

#: The one component that writes the archive (and its run ledger); the raw
#: answers' middleware is turned off by its setting.
STORAGE_PIPELINE = "digest_crawler.pipelines.StoragePipeline"


def read_only(command: str, settings: BaseSettings) -> Config:
    """The settings, checked (a bad one: one line, exit status 2), for a run
    that keeps nothing: the storage pipeline is off, so the archive is
    neither made, upgraded nor written, and no raw answer is kept
    (``scrapy parse``, ``scrapy shell``)."""
    from digest_crawler.config import Config

    try:
        config = Config.from_settings(settings)
    except ValueError as exc:
        _refuse(command, str(exc))
    pipelines = dict(settings.getdict("ITEM_PIPELINES"))
    pipelines[STORAGE_PIPELINE] = None
    settings.set("ITEM_PIPELINES", pipelines, priority="cmdline")
    # The raw answers are the crawls' record: a look at one page adds none.
    settings.set("DIGEST_RAW_ANSWERS", False, priority="cmdline")
    return config


def _refuse(command: str, reason: str) -> NoReturn:
    print(f"scrapy {command}: error: {reason}", file=sys.stderr)
    sys.exit(2)


class Command(ScrapyParseCommand):
    def short_desc(self) -> str:
        return "Read one listing URL with the daily spider and print its Listing (stores nothing)"

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        config = read_only("parse", self.settings)
        opts.spider = opts.spider or "daily"
        if opts.spider == "daily" and len(args) == 1 and is_url(args[0]):
            problem = _not_a_listing_of(args[0], config.base_url)
            if problem is not None:
                _refuse("parse", problem)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        super().run(args, opts)
        if self.spidercls is not None and self.first_response is None:
            self.exitcode = 1  # Scrapy logs "No response downloaded" and exits 0


def _not_a_listing_of(url: str, base_url: str) -> str | None:
    """Why the daily spider would not ask for ``url`` (another site: Scrapy's
    offsite filter drops it) or cannot read it (no listing), if it would not."""
    from digest_crawler.site.urls import on_site, period_from_url

    if not on_site(url, base_url):
        parts = urlsplit(url)
        return (
            f"{url} is not on the configured site {base_url}"
            f" (give -s DIGEST_BASE_URL={parts.scheme}://{parts.netloc}, or set it in the"
            " environment)"
        )
    if period_from_url(url) is None:
        return (
            f"{url} names no listing (/papers/date/YYYY-MM-DD, /papers/week/YYYY-Www,"
            " /papers/month/YYYY-MM or the API's date=, week=, month=)"
        )
    return None
