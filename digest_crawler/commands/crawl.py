"""``scrapy crawl`` with one-line errors and an honest exit status.

Before the crawler process starts, the settings (``config.Config``), the
archive (``storage.engine.check_database``), ``LOG_FILE``/``JOBDIR`` and the
spider's ``-a`` arguments (its ``parse_arguments``) are checked: a bad one
ends the command with one line on standard error and exit status 2, before
any request or file. After the crawl, a finish reason other than
``finished``, papers served but none stored, a feed (``-O``) not stored, or
any stat named in ``DIGEST_FAILURE_STATS`` gives exit status 1, so that a scheduler notices;
the spider's summary line comes last.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import re
import sys
import tempfile
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from scrapy.commands import ScrapyHelpFormatter
from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.crawler import Crawler
from scrapy.exceptions import UsageError
from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings
from scrapy.spiderloader import get_spider_loader

from digest_crawler.config import Config
from digest_crawler.outputs.files import archive_s_own

# Scrapy imports every command's module for any command: what only a crawl
# needs (the spider, the storage) is imported where it is used.


class Command(ScrapyCrawlCommand):
    def long_desc(self) -> str:
        from digest_crawler.arguments import DailyArguments

        width = max(map(len, DailyArguments.model_fields))
        lines = [
            f"  -a {name + '=...':<{width + 4}}  {field.description}"
            for name, field in DailyArguments.model_fields.items()
        ]
        return (
            f"{super().long_desc()}\n\nArguments of the daily spider (-a NAME=VALUE):\n"
            + "\n".join(lines)
            + "\n\nA bad argument or setting: one line, exit status 2, before any request."
            " A run a person should look at: exit status 1."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.formatter_class = _HelpWithLists

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if len(args) > 1:
            print(f"scrapy crawl: error: {extra_words(args)}", file=sys.stderr)
            sys.exit(2)
        if len(args) != 1:
            return
        assert self.settings is not None
        try:
            spider_class = get_spider_loader(self.settings).load(args[0])
        except KeyError as exc:
            raise UsageError(f"no spider named {args[0]!r}") from exc
        from digest_crawler.storage.engine import check_database

        try:
            config = Config.from_settings(self.settings)
            check_database(config.database_url, config.source("database_url"))
            _check_paths(self.settings)
            _check_feeds(self.settings, config.kept)
            _check_scrapy_values(self.settings)
            _resolver_for(config.base_url, self.settings)
            parse_arguments = getattr(spider_class, "parse_arguments", None)
            if parse_arguments is not None:
                parse_arguments(opts.spargs, config)
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


def extra_words(args: list[str]) -> str:
    """Why ``scrapy crawl`` got more than a spider's name (Scrapy says "more
    than one spider" after its start-up log): mostly an option misspelt for
    a spider argument.

    >>> extra_words(["daily", "--date", "2026-07-31"])
    "unknown option '--date': a spider argument is given as -a NAME=VALUE (-a date=2026-07-31)"
    >>> extra_words(["daily", "weekly"])
    "one spider at a time, not 'daily', 'weekly' (a spider argument is -a NAME=VALUE)"
    """
    at = next((i for i, word in enumerate(args) if word.startswith("-")), None)
    if at is None:
        return (
            f"one spider at a time, not {', '.join(map(repr, args))}"
            " (a spider argument is -a NAME=VALUE)"
        )
    name, _, value = args[at].lstrip("-").partition("=")
    following = args[at + 1 : at + 2]
    if not value and following and not following[0].startswith("-"):
        value = following[0]
    return (
        f"unknown option {args[at]!r}: a spider argument is given as -a NAME=VALUE"
        f" (-a {name}={value or '...'})"
    )


class _HelpWithLists(ScrapyHelpFormatter):
    """Scrapy's help, with the description's lines kept, each wrapped on its
    own: the spider's arguments stay a list, each description in a column."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        lines = []
        for line in text.splitlines():
            item = re.match(r"\s+\S.*?\s{2,}(?=\S)", line)  # "  -a date=...   One listing day"
            hang = indent + " " * (len(item[0]) if item else 0)
            lines.append(textwrap.fill(line, width, initial_indent=indent, subsequent_indent=hang))
        return "\n".join(lines)


def _say(line: str, log_file: str | None) -> None:
    """``line`` on standard error, and last in the log file if there is one
    (a scheduler such as Scrapyd shows the log, not standard error)."""
    print(line, file=sys.stderr)
    if log_file:
        with contextlib.suppress(OSError), open(log_file, "a", encoding="utf-8") as log:
            log.write(line + "\n")


def _check_paths(settings: BaseSettings) -> None:
    """``LOG_FILE`` is in a directory that exists, and is no directory nor a
    name the system refuses; ``JOBDIR`` is a directory or can be made (the
    crawl would make it)."""
    log_file = settings.get("LOG_FILE")
    if log_file and not Path(log_file).expanduser().parent.is_dir():
        raise ValueError(f"setting LOG_FILE: no directory {str(Path(log_file).parent)!r}")
    if log_file:
        try:
            if Path(log_file).expanduser().is_dir():
                raise ValueError(f"setting LOG_FILE: {log_file!r} is a directory")
            Path(log_file).expanduser().stat()
        except FileNotFoundError:
            pass  # made by the crawl
        except OSError as exc:  # a name too long: Scrapy's logging fails with a traceback
            raise ValueError(
                f"setting LOG_FILE: cannot write {log_file!r}: {exc.strerror or exc}"
            ) from None
    jobdir = settings.get("JOBDIR")
    if jobdir:
        try:
            Path(jobdir).expanduser().mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"setting JOBDIR: cannot make {jobdir!r}: {exc.strerror}") from None


#: Scrapy's own settings a person sets for a crawl (the docs show some),
#: each with what it must be; Scrapy reads a bad one with a traceback.
_SCRAPY_VALUES: dict[str, tuple[str, Callable[[BaseSettings, str], Any], float]] = {
    "DOWNLOAD_DELAY": ("a number of seconds", BaseSettings.getfloat, 0),
    "DOWNLOAD_TIMEOUT": ("a number of seconds", BaseSettings.getfloat, 0),
    "AUTOTHROTTLE_ENABLED": ("True or False", BaseSettings.getbool, 0),
    "AUTOTHROTTLE_START_DELAY": ("a number of seconds", BaseSettings.getfloat, 0),
    "AUTOTHROTTLE_MAX_DELAY": ("a number of seconds", BaseSettings.getfloat, 0),
    "CONCURRENT_REQUESTS": ("a number of requests", BaseSettings.getint, 1),
    "CONCURRENT_REQUESTS_PER_DOMAIN": ("a number of requests", BaseSettings.getint, 1),
    "RETRY_TIMES": ("a number of retries", BaseSettings.getint, 0),
    "CLOSESPIDER_TIMEOUT": ("a number of seconds", BaseSettings.getfloat, 0),
}


def _check_scrapy_values(settings: BaseSettings) -> None:
    """Each of ``_SCRAPY_VALUES`` is of its kind and not below its least:
    one line naming it (``-s DOWNLOAD_DELAY=abc`` was a traceback of Scrapy's)."""
    for name, (kind, read, least) in _SCRAPY_VALUES.items():
        try:
            value = read(settings, name)
        except ValueError:
            raise ValueError(f"setting {name}: {settings.get(name)!r} is not {kind}") from None
        if not isinstance(value, bool) and not (value >= least and math.isfinite(value)):
            raise ValueError(f"setting {name}: {settings.get(name)!r} is not {kind}")


def _check_feeds(settings: BaseSettings, kept: Sequence[tuple[Path, str]] = ()) -> None:
    """Each feed to a local file (``-O papers.jsonl``) can be written: Scrapy
    opens it at the first item, and one it could not open was a traceback
    in the log while the run passed for done without its feed. Tried
    without a trace: an existing file opened to append nothing, a new one's
    nearest existing directory given a temporary file (Scrapy makes the
    directories between)."""
    for uri in settings.getdict("FEEDS"):
        parts = urlsplit(str(uri))
        if parts.scheme not in ("", "file"):
            continue  # stdout:, s3:, ftp: ... are Scrapy's to check
        path = Path(unquote(parts.path) if parts.scheme else str(uri)).expanduser()
        whose = archive_s_own(str(path), kept)  # (-O papers.sqlite:jsonl replaced the archive)
        if whose is not None:
            raise ValueError(f"option -O/-o: {str(uri)!r} {whose}")
        try:
            if path.is_dir():
                raise ValueError(f"option -O/-o: {str(uri)!r} is a directory")
            if path.exists():  # raises for a name the system refuses (too long)
                with path.open("ab"):
                    pass
            else:
                directory = next(d for d in path.parents if d.exists())
                with tempfile.TemporaryFile(dir=directory):
                    pass
        except OSError as exc:
            raise ValueError(
                f"option -O/-o: cannot write {str(uri)!r}: {exc.strerror or exc}"
            ) from None


def _resolver_for(base_url: str, settings: BaseSettings) -> None:
    """Scrapy's default DNS resolver (Twisted's threaded one) knows IPv4
    only: a base URL at an IPv6 address (``http://[::1]:8080``) failed every
    request ("DNS lookup failed: no results for hostname lookup: ::1"). It
    gets Scrapy's resolver that knows IPv6, unless the project chose one
    (set here: the crawler process installs its resolver before add-ons run).
    """
    if ":" not in (urlsplit(base_url).hostname or ""):
        return
    chosen = max(
        settings.getpriority("TWISTED_DNS_RESOLVER") or 0,
        settings.getpriority("DNS_RESOLVER") or 0,
    )
    if chosen <= SETTINGS_PRIORITIES["default"]:
        settings.set(
            "TWISTED_DNS_RESOLVER", "scrapy.resolver.CachingHostnameResolver", priority="project"
        )


def _went_wrong(crawler: Crawler) -> bool:
    """Did the crawl end early, store none of the papers it was served, or
    count anything in DIGEST_FAILURE_STATS?"""
    from digest_crawler.spiders.daily import feeds_not_stored

    if crawler.stats is None:
        return False
    if crawler.stats.get_value("finish_reason") != "finished":
        return True  # closed early, or never closed (a forced shutdown)
    if crawler.stats.get_value("digest/papers_seen") and not crawler.stats.get_value(
        "digest/papers_stored"
    ):
        return True  # papers were served, none stored
    if feeds_not_stored(crawler.stats.get_stats()):
        return True  # a feed (-O) could not be stored: a full disk
    failure_stats = Config.from_settings(crawler.settings).failure_stats
    return any(crawler.stats.get_value(name) for name in failure_stats)
