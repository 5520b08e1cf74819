"""The ``daily`` spider: arguments -> requests -> reading -> one ``Listing`` item each.

It only coordinates: which listings to read and in what order (one at a
time, oldest first), the Scrapy requests for what a ``ListingReader`` asks,
and the counts and log lines of the reading (``digest/...`` stats). The
reading rules themselves are ``digest_crawler.site``.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import deque
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Self
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from digest_crawler.arguments import DailyArguments
from digest_crawler.config import Config
from digest_crawler.items import Adoption, Listing
from digest_crawler.middlewares import RateLimited
from digest_crawler.paper import ARXIV_ID_PATTERN
from digest_crawler.periods import Period
from digest_crawler.site.adoption import adoption_path, read_adoption
from digest_crawler.site.processors import quoted
from digest_crawler.site.reading import RECEIVED_AT, REDIRECTS, Answer, Follow, ListingReader
from digest_crawler.site.urls import period_from_url
from digest_crawler.tls import tls_failure
from digest_crawler.words import counted

# A redirect is read from its Location header rather than followed by
# Scrapy: the reader decides (one request per listing when it leads to
# another day).
_READ_LOCATION = {"dont_redirect": True, "handle_httpstatus_list": list(REDIRECTS)}
# A paper the Hub has not indexed is a 404: an answer, not a failure. A
# redirect is an answer too, rejected (followed, it was read from wherever
# it led: another port's counts were stored).
_ADOPTION_META = {"dont_redirect": True, "handle_httpstatus_list": [404, *REDIRECTS]}
#: Adoption calls failed in a row (after their retries) that stop them for
#: the run: the rest stay due for the next run.
ADOPTION_FAILURES_IN_A_ROW = 3
_ARXIV_ID = re.compile(ARXIV_ID_PATTERN)


class DailySpider(scrapy.Spider):
    """Crawl Daily Papers listings (pages or API answers) into ``Listing`` items.

    Spider arguments (all optional; see ``DailyArguments``):

    date
        One listing day, ``YYYY-MM-DD`` (UTC).
    start, end
        A backfill: every day from ``start`` to ``end`` (inclusive, default
        today), oldest first. (Stored as ``arguments.start``: a spider
        attribute ``start`` would hide Scrapy's ``start()`` method.)
    days
        A backfill of the last N days ending today.
    refresh, refresh_days
        Without any of the above (the scheduled daily run): the days before
        today to read (default ``DIGEST_REFRESH``), or today and every day
        back to ``refresh_days``.
    week, month
        One ISO week's (``YYYY-Www``) or one month's (``YYYY-MM``) list.
    period
        ``week`` or ``month``, with start/end or days: every such list that
        touches the range.
    source
        ``html`` (the listing pages, default) or ``api`` (``/api/daily_papers``,
        paged by 100).

    Settings (``config.Config``): ``DIGEST_BASE_URL`` (the site or a
    mirror), ``DIGEST_TODAY``, ``DIGEST_REFRESH``, ``DIGEST_STALE_DAYS``.

    Every listing gives one ``Listing``. Listings starting on a day in
    ``done`` are not fetched: the storage pipeline puts there, when the
    spider opens, the ones that the run ledger says an interrupted run of
    the same listings already did.

    With ``DIGEST_ADOPTION``, the Hub is asked what cites each paper of
    every listing served (``/api/papers/{id}``, in the API's budget), one
    call at a time beside the listings, and so the papers in
    ``adoption_due`` (which the storage pipeline fills when the spider
    opens: the calls an earlier run did not make or that failed, and on the
    scheduled run the papers of the ``DIGEST_ADOPTION_TAIL`` days). Each
    call gives one ``Adoption``.
    """

    name = "daily"
    config: Config
    arguments: DailyArguments
    #: The listings of this run, oldest first.
    listings: list[Period]
    allowed_domains: list[str]

    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        # The arguments are read in from_crawler, with the settings; they are
        # not set as attributes (Scrapy's default): -a start= would replace
        # the start() method.
        super().__init__(name)
        #: Listings (by their first days) not to fetch (see the class docstring).
        self.done: set[dt.date] = set()
        #: The newest digest day the site served in this run (not after today).
        self.newest: dt.date | None = None
        #: Whether this run read today's listing (a day served, or none):
        #: only then does ``newest`` tell how stale the site is.
        self.read_today = False
        #: Whether the run follows its plan (``start``): not under ``scrapy
        #: parse`` or ``scrapy shell``, which ask for one URL.
        self.planned_run = False
        self._todo: deque[Period] = deque()
        #: Papers whose adoption to read, besides those of this run's listings.
        self.adoption_due: list[str] = []
        self._adoption: deque[str] = deque()
        self._adoption_asked: set[str] = set()
        #: Adoption calls failed in a row, and whether they are stopped for the run.
        self._adoption_failures = 0
        self._adoption_stopped = False
        self._adoption_busy = False

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.config = Config.from_settings(crawler.settings)
        spider.arguments = cls.parse_arguments(kwargs, spider.config)
        spider.listings = spider.arguments.listings_to_crawl()
        # Scrapy's offsite middleware then keeps every request, robots.txt
        # and its redirects too, on the base URL's host.
        host = urlsplit(spider.base_url).hostname or ""
        if ":" not in host:  # an IPv6 address is no domain to Scrapy
            spider.allowed_domains = [host]
        return spider

    @staticmethod
    def parse_arguments(spargs: Mapping[str, Any], config: Config) -> DailyArguments:
        """Validate ``-a`` arguments as of ``DIGEST_TODAY`` (empty: the UTC
        date), with ``DIGEST_REFRESH`` as the daily run's schedule; raises
        ``ArgumentError`` (a ValueError)."""
        return DailyArguments.parse(spargs, today=config.today, schedule=config.refresh)

    @property
    def base_url(self) -> str:
        """``DIGEST_BASE_URL`` without a trailing slash."""
        return self.config.base_url

    @functools.cached_property
    def notes(self) -> _CrawlNotes:
        """The reading's counts and log lines, to this crawl's stats and log."""
        return _CrawlNotes(self)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self.planned_run = True
        todo = [period for period in self.listings if period.start not in self.done]
        self.notes.set("listings_requested", len(self.listings))
        self.notes.set("listings_to_fetch", len(todo))
        skipped = len(self.listings) - len(todo)
        self.logger.info(
            "Crawling %s from %s to %s through the %s%s",
            counted(len(todo), self.arguments.kind),
            self.listings[0],
            self.listings[-1],
            "API" if self.arguments.source == "api" else "listing pages",
            f" ({skipped} already done by an interrupted run)" if skipped else "",
        )
        # One listing at a time, oldest first: the next listing's request is
        # yielded when the previous listing's answer has been handled.
        self._todo = deque(todo)
        for request in self._next_listing():
            yield request
        self._ask_adoption(self.adoption_due)
        for request in self._next_adoption():
            yield request

    @property
    def reads_adoption(self) -> bool:
        """Whether this run asks the Hub what cites its papers."""
        return self.planned_run and self.config.adoption

    def _ask_adoption(self, arxiv_ids: list[str]) -> None:
        """Ask for each of ``arxiv_ids`` once in this run (an id no paper
        could have is not asked for: its paper is rejected)."""
        if not self.reads_adoption:
            return
        for arxiv_id in arxiv_ids:
            if arxiv_id not in self._adoption_asked and _ARXIV_ID.fullmatch(arxiv_id):
                self._adoption_asked.add(arxiv_id)
                self._adoption.append(arxiv_id)
        if self._adoption_asked:  # (what the progress line counts the Hub's answers against)
            self.notes.set("adoption_to_ask", len(self._adoption_asked))

    def _next_adoption(self) -> Iterator[scrapy.Request]:
        """The next adoption call, when none is under way: one at a time,
        so that the listings' requests never wait behind a queue of them."""
        if self._adoption_busy or self._adoption_stopped or not self._adoption:
            return
        arxiv_id = self._adoption.popleft()
        self._adoption_busy = True
        yield scrapy.Request(
            f"{self.base_url}{adoption_path(arxiv_id)}",
            callback=self.parse_adoption,
            errback=self.adoption_failed,
            cb_kwargs={"arxiv_id": arxiv_id},
            dont_filter=True,
            meta=_ADOPTION_META,
        )

    def parse_adoption(self, response: Response, arxiv_id: str) -> Iterator[Any]:
        """One paper's Hub answer -> one ``Adoption``."""
        answer = Answer.from_response(response)
        read = read_adoption(arxiv_id, answer.url, answer.status, answer.text, answer.received_at)
        self.notes.count(f"adoption_{read.outcome}")
        self._adoption_failures = 0
        if read.outcome == "rejected":
            self.logger.warning("Rejected the Hub's answer for %s: %s", arxiv_id, read.reason)
        yield read
        self._adoption_busy = False
        yield from self._next_adoption()

    def adoption_failed(self, failure: Failure) -> Iterator[Any]:
        """A paper's Hub answer that could not be had (after retries): the
        paper stays due, for the next run."""
        request = failure.request  # type: ignore[attr-defined]
        arxiv_id: str = request.cb_kwargs["arxiv_id"]
        reason = self._failure_reason(failure)
        self.notes.count("adoption_failed")
        self.logger.warning("Could not read the Hub's answer for %s: %s", arxiv_id, reason)
        yield Adoption(arxiv_id, request.url, "failed", reason=reason)
        self._adoption_busy = False
        self._adoption_failures += 1
        refused = isinstance(failure.value, RateLimited)
        if refused or self._adoption_failures >= ADOPTION_FAILURES_IN_A_ROW:
            # Each call could cost minutes of retries and waits: a site that
            # refuses them would keep the run going for hours.
            self._adoption_stopped = True
            self.logger.error(
                "Stopped asking the Hub what cites each paper (%s): %s left for the next run",
                reason if refused else f"{self._adoption_failures} calls failed in a row",
                counted(len(self._adoption), "paper"),
            )
            return
        yield from self._next_adoption()

    def _next_listing(self) -> Iterator[Any]:
        """The next listing's first request (a listing whose URL Scrapy
        would drop fails at once, and the one after it is asked for)."""
        while self._todo:
            reader = ListingReader(
                self._todo.popleft(), self.base_url, self.arguments.source, self.notes
            )
            too_long = self._too_long(reader.url)
            if too_long is None:
                yield self._request(reader, reader.url)
                return
            yield self._done(reader, reader.failed(reader.url, f"the URL to ask {too_long}"))

    def _too_long(self, url: str) -> str | None:
        """Why Scrapy would drop a request for ``url`` (its UrlLengthMiddleware
        drops one over ``URLLENGTH_LIMIT`` without a word: the listing would
        be neither read nor failed, and no later listing asked for)."""
        limit = self.settings.getint("URLLENGTH_LIMIT")
        if not limit or len(url) <= limit:
            return None
        return (
            f"is {len(url):,} characters long, more than URLLENGTH_LIMIT ({limit:,}): {quoted(url)}"
        )

    def _request(self, reader: ListingReader, url: str, redirect: bool = False) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse,
            errback=self.failed,
            cb_kwargs={"reader": reader},
            # The run ledger, not the duplicate filter, knows which listings are done.
            dont_filter=True,
            # A followed redirect is marked: the token never goes with it.
            meta={**_READ_LOCATION, "digest_redirects": reader.redirects}
            if redirect
            else _READ_LOCATION,
        )

    def parse(self, response: Response, reader: ListingReader | None = None) -> Iterator[Any]:
        """One listing page or API answer -> one ``Listing``, or the request
        for more of it. Without ``reader`` (``scrapy parse --spider daily
        URL``) the listing the URL names is read."""
        if reader is None:
            period = period_from_url(response.url)
            if period is None:
                raise ValueError(
                    f"{response.url} names no listing (/papers/date/YYYY-MM-DD,"
                    " /papers/week/YYYY-Www, /papers/month/YYYY-MM or the API's date=, week=, month=)"
                )
            reader = ListingReader(period, self.base_url, notes=self.notes)
        try:
            step = reader.read(Answer.from_response(response))
        except Exception as exc:  # an answer we did not foresee must not end the crawl
            self.notes.count("parse_errors")
            self.logger.exception("Could not parse %s", response.url)
            step = reader.failed(response.url, f"{type(exc).__name__}: {exc}")
        if isinstance(step, Follow):
            too_long = self._too_long(step.url)
            if too_long is None:
                yield self._request(reader, step.url, step.redirect)
                return
            what = "redirected to a URL that" if step.redirect else "the next page's URL"
            step = reader.failed(response.url, f"{what} {too_long}")
        yield self._done(reader, step)
        yield from self._next_listing()
        yield from self._next_adoption()

    def failed(self, failure: Failure) -> Iterator[Any]:
        """A page that could not be fetched (after retries): a failed listing."""
        self.notes.count("failed_pages")
        request = failure.request  # type: ignore[attr-defined]
        reason = self._failure_reason(failure)
        reader: ListingReader = request.cb_kwargs["reader"]
        # An answer that failed it was kept, at the moment it was received.
        failed = reader.failed(request.url, reason, request.meta.get(RECEIVED_AT))
        yield self._done(reader, failed)
        if isinstance(failure.value, RateLimited):
            # The site asked for a pause longer than any run waits: the rest
            # of the listings are the next run's (the ledger resumes them).
            raise CloseSpider("rate_limited")
        yield from self._next_listing()
        yield from self._next_adoption()

    def _failure_reason(self, failure: Failure) -> str:
        """Why a request got no answer to read, in a few words."""
        request = failure.request  # type: ignore[attr-defined]
        error = failure.value
        if isinstance(error, RateLimited):
            return str(error)
        if isinstance(error, HttpError):
            status = error.response.status
            retried = status in self.settings.getlist("RETRY_HTTP_CODES") and not request.meta.get(
                "dont_retry"
            )
            return f"HTTP {status}{' after retries' if retried else ''}"
        return tls_failure(error) or f"{type(error).__name__}: {failure.getErrorMessage()}"

    def _done(self, reader: ListingReader, listing: Listing) -> Listing:
        served = reader.served
        if served is not None and served <= self.arguments.today:
            self.newest = served if self.newest is None else max(self.newest, served)
        if reader.period == Period("day", self.arguments.today) and listing.outcome != "failed":
            self.read_today = True
        if listing.outcome == "failed" and self.notes.get("first_failure") is None:
            self.notes.set("first_failure", f"{reader.period}: {listing.reason}")
        self._ask_adoption(
            [str(paper["arxiv_id"]) for paper in listing.papers if paper and paper.get("arxiv_id")]
        )
        return listing

    def closed(self, reason: str) -> None:
        """A run that read today's listing notices a stalled site: the newest
        digest day it was served is more than ``DIGEST_STALE_DAYS`` days old
        (a run stopped before today's listing, or whose read of it failed,
        judges nothing: the days it did not read are not the site's)."""
        left = len(self._adoption) + self._adoption_busy
        if self.reads_adoption and left:
            self.notes.set("adoption_left", left)
        today, stale_after = self.arguments.today, self.config.stale_days
        if not (self.planned_run and self.read_today) or self.newest is None:
            return
        age = (today - self.newest).days
        if age > stale_after:
            self.notes.set("stale_days", age)
            self.logger.error(
                "The site has served nothing new since %s: %s before today (%s),"
                " more than DIGEST_STALE_DAYS (%d)",
                self.newest,
                counted(age, "day"),
                today,
                stale_after,
            )

    def summary(self, went_wrong: bool) -> str:
        """The one line a person reads first: what the run did, and the first
        reason when it did not do it all."""
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()

        def count(name: str) -> int:
            return int(stats.get(f"digest/{name}", 0))

        kind = self.arguments.kind
        line = (
            f"{count('listings_served')} of {counted(len(self.listings), kind)} stored"
            f" ({counted(count('papers_stored'), 'paper')}, {count('rejected_items')} rejected),"
            f" {count('no_digest_listings')} without a digest, {count('listings_failed')} failed"
        )
        if count("listings_carried_over"):
            line += f", {count('listings_carried_over')} done by the interrupted run it resumed"
        reason = stats.get("finish_reason")
        if reason != "finished":
            line += f"; stopped early ({reason or 'forced'})"
        if count("listings_left"):
            line += f"; {count('listings_left')} left for the next run"
        if count("stale_days"):
            line += f"; nothing new from the site for {counted(count('stale_days'), 'day')}"
        if stats.get("digest/first_failure"):
            line += f"; first failure {stats['digest/first_failure']}"
        asked = sum(count(f"adoption_{o}") for o in ("read", "not_indexed", "rejected", "failed"))
        if asked or count("adoption_left"):
            line += (
                f"; the Hub asked what cites {counted(asked, 'paper')}"
                f" ({count('adoption_not_indexed')} not indexed, {count('adoption_rejected')} rejected,"
                f" {count('adoption_failed')} failed)"
            )
            missing = count("adoption_failed") + count("adoption_rejected") + count("adoption_left")
            if missing:
                line += f", {missing} left for the next run"
        if count("raw_errors"):
            line += f"; {count('raw_errors')} answers could not be kept as WARC"
        feeds = feeds_not_stored(stats)
        if feeds:
            line += f"; {counted(feeds, 'feed')} (-O/-o) could not be written"
        return f"{'FAILED' if went_wrong else 'OK'}: {line}"


def feeds_not_stored(stats: Mapping[str, Any]) -> int:
    """Feeds (``-O``/``-o``) Scrapy could not store (a full disk), by its stats."""
    return sum(
        int(value) for name, value in stats.items() if name.startswith("feedexport/failed_count/")
    )


class _CrawlNotes:
    """``Notes`` to the crawl's stats (``digest/<name>``) and the spider's log."""

    def __init__(self, spider: DailySpider) -> None:
        assert spider.crawler.stats is not None
        self.stats = spider.crawler.stats
        self.logger = spider.logger

    def count(self, name: str, value: int = 1) -> None:
        self.stats.inc_value(f"digest/{name}", value)

    def set(self, name: str, value: Any) -> None:
        self.stats.set_value(f"digest/{name}", value)

    def get(self, name: str) -> Any:
        return self.stats.get_value(f"digest/{name}")

    def log(self, level: int, message: str) -> None:
        # %s: the message is already formatted (and quotes what a page said).
        self.logger.log(level, "%s", message)
