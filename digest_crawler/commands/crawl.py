"""``scrapy crawl`` with clean argument errors and an honest exit status.

Spiders that define ``parse_arguments(spargs)`` get their ``-a`` arguments
checked, and spiders and item pipelines that define
``check_settings(settings)`` their settings, before the crawler process
even starts: a bad one ends the command
with a one-line error on standard error and exit status 2, before any
request or database write. After the crawl, a finish reason other than
``finished`` (e.g. the database failed) or any stat named in
``DIGEST_FAILURE_STATS`` (pages that could not be fetched or dated) gives
exit status 1, so that a scheduler notices.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.crawler import Crawler
from scrapy.exceptions import UsageError
from scrapy.settings import BaseSettings
from scrapy.spiderloader import get_spider_loader
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import load_object


class Command(ScrapyCrawlCommand):
    def long_desc(self) -> str:
        from digest_crawler.arguments import DailyArguments

        lines = [
            f"  -a {name}=...  {field.description}"
            for name, field in DailyArguments.model_fields.items()
        ]
        return (
            f"{super().long_desc()}\n\nArguments of the daily spider (-a NAME=VALUE):\n"
            + "\n".join(lines)
            + "\n\nA bad argument or setting: one line, exit status 2, before any request."
            " A run a person should look at: exit status 1."
        )

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if len(args) != 1:
            return
        assert self.settings is not None
        try:
            spider_class = get_spider_loader(self.settings).load(args[0])
        except KeyError as exc:
            raise UsageError(f"no spider named {args[0]!r}") from exc
        parse_arguments = getattr(spider_class, "parse_arguments", None)
        components = [
            load_object(path)
            for name in ("ITEM_PIPELINES", "DOWNLOADER_MIDDLEWARES", "EXTENSIONS")
            for path in build_component_list(self.settings.getwithbase(name))
        ]
        checks = [
            check
            for component in (spider_class, *components)
            if (check := getattr(component, "check_settings", None)) is not None
        ]
        checks.append(_check_paths)
        try:
            if parse_arguments is not None:
                parse_arguments(opts.spargs, self.settings)
            for check in checks:
                check(self.settings)
        except ValueError as exc:
            _say(f"scrapy crawl {args[0]}: error: {exc}", self.settings.get("LOG_FILE"))
            sys.exit(2)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            return super().run(args, opts)
        assert self.crawler_process is not None
        crawler = self.crawler_process.create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        went_wrong = self.crawler_process.bootstrap_failed or _went_wrong(crawler)
        if went_wrong:
            self.exitcode = 1
        # Last, on standard error even when the log goes to a file (what cron mails).
        summary = getattr(crawler.spider, "summary", None)
        if summary is not None:
            _say(f"scrapy crawl {args[0]}: {summary(went_wrong)}", crawler.settings.get("LOG_FILE"))


def _say(line: str, log_file: str | None) -> None:
    """``line`` on standard error, and last in the log file if there is one
    (a scheduler such as Scrapyd shows the log, not standard error)."""
    print(line, file=sys.stderr)
    if log_file:
        with contextlib.suppress(OSError), open(log_file, "a", encoding="utf-8") as log:
            log.write(line + "\n")


def _check_paths(settings: BaseSettings) -> None:
    """``LOG_FILE`` is in a directory that exists; ``JOBDIR`` is a directory
    or can be made."""
    log_file = settings.get("LOG_FILE")
    if log_file and not Path(log_file).expanduser().parent.is_dir():
        raise ValueError(f"setting LOG_FILE: no directory {str(Path(log_file).parent)!r}")
    jobdir = settings.get("JOBDIR")
    if jobdir:
        try:
            Path(jobdir).expanduser().mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"setting JOBDIR: cannot make {jobdir!r}: {exc.strerror}") from None


def _went_wrong(crawler: Crawler) -> bool:
    """Did the crawl end early, store none of the papers it was served, or
    count anything in DIGEST_FAILURE_STATS?"""
    if crawler.stats is None:
        return False
    if crawler.stats.get_value("finish_reason") != "finished":
        return True  # closed early, or never closed (a forced shutdown)
    if crawler.stats.get_value("digest/papers_seen") and not crawler.stats.get_value(
        "digest/papers_stored"
    ):
        return True  # papers were served, none stored
    return any(
        crawler.stats.get_value(name) for name in crawler.settings.getlist("DIGEST_FAILURE_STATS")
    )
