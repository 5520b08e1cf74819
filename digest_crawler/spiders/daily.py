"""The ``daily`` spider: Daily Papers listing pages -> one ``Listing`` item each."""

from __future__ import annotations

import datetime as dt
import functools
from collections import deque
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Self
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from scrapy.settings import BaseSettings
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from digest_crawler.api import MAX_PAGES, PAGE_SIZE, api_path, parse_answer
from digest_crawler.arguments import DailyArguments
from digest_crawler.dates import parse_iso_day
from digest_crawler.items import Listing, Rejected
from digest_crawler.loaders import load_paper
from digest_crawler.pages import RawPaper, parse_listing, period_from_url, submitted_day
from digest_crawler.periods import KINDS, Period
from digest_crawler.processors import LINK_FIELDS, collapse_whitespace

_REDIRECTS = (301, 302, 303, 307, 308)
_READ_LOCATION = {"dont_redirect": True, "handle_httpstatus_list": list(_REDIRECTS)}


def _without_credentials(url: str) -> str:
    """
    >>> _without_credentials("http://admin:hunter2@127.0.0.1:8/x")
    'http://***@127.0.0.1:8/x'
    """
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return url.replace(parts.netloc.rsplit("@", 1)[0], "***", 1)


def _on_site(url: str, base_url: str) -> bool:
    """Does ``url`` lie on the base URL's scheme, host and port?

    >>> _on_site("http://127.0.0.1:8/papers/date/2026-07-31", "http://127.0.0.1:8")
    True
    >>> _on_site("file:///dev/zero", "http://127.0.0.1:8"), _on_site("http://127.0.0.2:8/", "http://127.0.0.1:8")
    (False, False)
    >>> _on_site(r"http://127.0.0.2:8\\@127.0.0.1:8/", "http://127.0.0.1:8")
    False
    >>> _on_site("http://admin:pw@127.0.0.1:8/", "http://127.0.0.1:8")
    False
    """
    # A backslash or a control character is read differently by URL parsers
    # (WHATWG reads "\\" as "/"): no such URL is on the site. Nor is one that
    # carries a user name or password.
    if "\\" in url or any(ord(c) < 0x21 or c == "\x7f" for c in url):
        return False
    target, base = urlsplit(url), urlsplit(base_url)
    if "@" in target.netloc:
        return False
    try:
        return (target.scheme, target.hostname, target.port) == (
            base.scheme,
            base.hostname,
            base.port,
        )
    except ValueError:  # a port out of range
        return False


def refresh_schedule(settings: BaseSettings) -> list[int]:
    """``DIGEST_REFRESH``: days before today, or a one-line ``ValueError``."""
    try:
        refresh = [int(n) for n in settings.getlist("DIGEST_REFRESH")]
    except (TypeError, ValueError):
        refresh = []
    if not refresh or min(refresh) < 0:
        raise ValueError(
            f"setting DIGEST_REFRESH: {settings.get('DIGEST_REFRESH')!r} is not a list of"
            " days before today (e.g. 0,1,2,3,7,14)"
        )
    return refresh


def check_base_url(value: str) -> str:
    """``value`` without a trailing slash, or a one-line ``ValueError``.

    >>> check_base_url("http://127.0.0.1:8080/mirror/")
    'http://127.0.0.1:8080/mirror'
    >>> check_base_url("https://user:secret@example.org")
    Traceback (most recent call last):
    ValueError: setting DIGEST_BASE_URL: 'https://***@example.org' holds a user name or password
    """
    try:
        parts = urlsplit(value)
        shown = _without_credentials(value)
    except ValueError as exc:  # "Invalid IPv6 URL"
        raise ValueError(f"setting DIGEST_BASE_URL: {value!r} is not a URL ({exc})") from None
    problem = None
    try:
        if parts.port == 0:
            problem = "has a port out of range"
    except ValueError:
        problem = "has a port out of range"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problem = "is not an http(s) URL with a host"
    elif "@" in parts.netloc:
        problem = "holds a user name or password"
    elif parts.query or parts.fragment or value.rstrip().endswith(("?", "#")):
        problem = "has a query or fragment"
    if problem:
        raise ValueError(f"setting DIGEST_BASE_URL: {shown!r} {problem}")
    return value.rstrip("/")


_MAX_REDIRECTS = 5


def _id_of(paper: RawPaper) -> str | None:
    arxiv_id = paper.get("arxiv_id")
    return arxiv_id if isinstance(arxiv_id, str) else None


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

    Settings: ``DIGEST_BASE_URL`` (the site or a mirror).

    Every listing gives one ``Listing``: its papers, filed under the date the
    page says it shows (in a week's or month's list, the day each entered
    the digest); or "no digest" when the site answers with another listing
    (a redirect, a page for another date, an empty API list); or "failed"
    with the reason. Listings starting on a day in ``done`` are not fetched:
    the storage pipeline puts there, when the spider opens, the ones that
    the run ledger says an interrupted run of the same listings already did.
    """

    name = "daily"
    arguments: DailyArguments
    #: The listings of this run, oldest first.
    listings: list[Period]
    #: Their first days (the days of a run of days): the run ledger's keys.
    days: list[dt.date]
    allowed_domains: list[str]

    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        # The arguments are read in from_crawler, with the settings; they are
        # not set as attributes (Scrapy's default): -a start= would replace
        # the start() method.
        self._spargs = kwargs
        #: Days not to fetch (see the class docstring).
        self.done: set[dt.date] = set()
        #: The newest digest day the site served in this run (not after today).
        self.newest: dt.date | None = None
        self._todo: deque[Period] = deque()
        super().__init__(name)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.arguments = cls.parse_arguments(kwargs, crawler.settings)
        spider.listings = spider.arguments.listings_to_crawl()
        spider.days = [period.start for period in spider.listings]
        # Scrapy's offsite middleware then keeps every request, robots.txt
        # and its redirects too, on the base URL's host.
        host = urlsplit(spider.base_url).hostname or ""
        if ":" not in host:  # an IPv6 address is no domain to Scrapy
            spider.allowed_domains = [host]
        return spider

    @staticmethod
    def parse_arguments(spargs: Mapping[str, Any], settings: BaseSettings) -> DailyArguments:
        """Validate ``-a`` arguments as of ``DIGEST_TODAY`` (empty: the UTC
        date), with ``DIGEST_REFRESH`` as the daily run's schedule; raises
        ``ArgumentError`` (a ValueError)."""
        today = settings.get("DIGEST_TODAY") or None
        try:
            day = parse_iso_day(today) if isinstance(today, str) else today
        except ValueError as exc:
            raise ValueError(f"setting DIGEST_TODAY: {exc}") from None
        return DailyArguments.parse(spargs, today=day, schedule=refresh_schedule(settings))

    @staticmethod
    def check_settings(settings: BaseSettings) -> str:
        """The base URL of ``DIGEST_BASE_URL``; raises ``ValueError`` when unusable.

        A base URL is a scheme (http or https), a host, an optional port and
        an optional path: no user name or password (they would end up in
        the log and the archive), no query or fragment.
        """
        stale = settings.get("DIGEST_STALE_DAYS")
        if not str(stale).isascii() or not str(stale).strip().isdigit():
            raise ValueError(f"setting DIGEST_STALE_DAYS: {stale!r} is not a number of days")
        return check_base_url(settings.get("DIGEST_BASE_URL") or "")

    @functools.cached_property
    def base_url(self) -> str:
        """``DIGEST_BASE_URL`` without a trailing slash."""
        return self.check_settings(self.settings)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        todo = [period for period in self.listings if period.start not in self.done]
        assert self.crawler.stats is not None
        self.crawler.stats.set_value("digest/days_requested", len(self.listings))
        self.crawler.stats.set_value("digest/days_to_fetch", len(todo))
        skipped = len(self.listings) - len(todo)
        self.logger.info(
            "Crawling %d %s(s) from %s to %s through the %s%s",
            len(todo),
            self.arguments.kind,
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

    def _next_listing(self) -> Iterator[scrapy.Request]:
        if self._todo:
            yield self._request(self._todo.popleft())

    def _request(
        self,
        period: Period,
        page: int = 0,
        earlier: list[RawPaper] | None = None,
        api: bool | None = None,
    ) -> scrapy.Request:
        """The request for ``period``'s list through the run's door (or the
        API's, ``api``): page ``page`` of it, after the ``earlier`` pages' papers."""
        if api or (api is None and self.arguments.source == "api"):
            url = f"{self.base_url}{api_path(period, page)}"
            cb_kwargs = {"requested": period, "page": page, "earlier": earlier or []}
        else:
            url = f"{self.base_url}/papers/{period.path_name}/{period.key}"
            cb_kwargs = {"requested": period}
        return scrapy.Request(
            url,
            callback=self.parse,
            errback=self.failed,
            cb_kwargs=cb_kwargs,
            # The run ledger, not the duplicate filter, knows which listings are done.
            dont_filter=True,
            # A redirect to another day is read from its Location header
            # rather than followed: one request per listing.
            meta=_READ_LOCATION,
        )

    def parse(
        self,
        response: Response,
        requested: Period | dt.date | None = None,
        page: int = 0,
        earlier: list[RawPaper] | None = None,
    ) -> Iterator[Any]:
        """One listing page or API answer -> one ``Listing`` (or a request
        for the API's next page, or one that follows a redirect on the
        site). ``requested`` is the listing asked for; without it (``scrapy
        parse --spider daily URL``) the one the URL names."""
        if requested is None:
            requested = period_from_url(response.url)
            if requested is None:
                raise ValueError(
                    f"{response.url} names no listing (/papers/date/YYYY-MM-DD,"
                    " /papers/week/YYYY-Www, /papers/month/YYYY-MM or the API's date=, week=, month=)"
                )
        elif isinstance(requested, dt.date):
            requested = Period("day", requested)
        try:
            output = self._read(response, requested, page, earlier or [])
        except Exception as exc:  # an answer we did not foresee must not end the crawl
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("digest/parse_errors")
            self.logger.exception("Could not parse %s", response.url)
            output = self._failed(requested, response.url, f"{type(exc).__name__}: {exc}")
        yield output
        if isinstance(output, Listing):  # not a request for more of this listing
            yield from self._next_listing()

    def _read(
        self, response: Response, requested: Period, page: int, earlier: list[RawPaper]
    ) -> Listing | scrapy.Request:
        stats = self.crawler.stats
        assert stats is not None
        if response.status in _REDIRECTS:
            return self._redirected(response, requested, page)
        if not isinstance(response, TextResponse):
            stats.inc_value("digest/unreadable_pages")
            return self._failed(
                requested,
                response.url,
                f"not a text page ({response.headers.get('Content-Type')!r})",
            )
        if urlsplit(response.url).path.endswith("/api/daily_papers"):
            return self._read_api(response, requested, page, earlier)
        return self._read_page(response, requested)

    def _read_page(self, response: TextResponse, requested: Period) -> Listing:
        stats = self.crawler.stats
        assert stats is not None
        page = parse_listing(
            response.text, response.url, requested.start if requested.kind == "day" else None
        )
        stats.inc_value("digest/pages")
        if page.source == "cards":
            stats.inc_value("digest/fallback_pages")
            if requested.kind != "day":
                # Cards say neither the period nor the day each paper entered the digest.
                stats.inc_value("digest/unreadable_pages")
                return self._failed(
                    requested,
                    response.url,
                    f"{page.problem}; the cards of a {requested.kind}'s list say no listing days",
                )
            self.logger.warning(
                "%s: %s; read %d papers from the page's cards instead",
                response.url,
                page.problem,
                len(page.papers),
            )
        if page.served_date is None:
            stats.inc_value("digest/undated_pages")
            return self._failed(requested, response.url, "cannot tell which day the page shows")
        if page.papers and page.period == "day":
            self._served(page.served_date)
        if page.period != requested.kind or page.served_date != requested.start:
            # The period is the page's text: quoted, it cannot forge a log line.
            shown = page.period if page.period in KINDS else repr(page.period)
            return self._no_digest(
                requested, f"the site served the {shown} of {page.served_date}", response.url
            )
        if not page.papers:
            stats.inc_value("digest/empty_pages")
            self.logger.warning("%s: the page for %s lists no papers", response.url, requested)
        # A day's page names its day; a week's or month's list says each
        # paper's day in its entry.
        return self._listing(
            requested, response.url, page.papers, check_days=requested.kind != "day"
        )

    def _read_api(
        self, response: TextResponse, requested: Period, page: int, earlier: list[RawPaper]
    ) -> Listing | scrapy.Request:
        stats = self.crawler.stats
        assert stats is not None
        answer = parse_answer(response.text)
        stats.inc_value("digest/api_answers")
        if answer.problem is not None:
            stats.inc_value("digest/unreadable_pages")
            return self._failed(requested, response.url, answer.problem)
        # A list that changed while it was paged (a paper added or moved
        # up) repeats an entry at the next page's start, and may skip one.
        seen = {_id_of(paper) for paper in earlier} - {None}
        fresh = [paper for paper in answer.papers if _id_of(paper) not in seen]
        if len(fresh) < len(answer.papers):
            stats.inc_value("digest/api_repeats", len(answer.papers) - len(fresh))
            self.logger.warning(
                "%s: %d entries of earlier pages again: the list changed while it was"
                " paged, and a paper may be missing from this read",
                response.url,
                len(answer.papers) - len(fresh),
            )
        papers = earlier + fresh
        if not answer.is_last:
            if page + 1 >= MAX_PAGES:
                return self._failed(
                    requested,
                    response.url,
                    f"the API's list goes on past {MAX_PAGES} pages of {PAGE_SIZE}",
                )
            # Through the API, whichever door the run began at (a page may
            # redirect to the API).
            return self._request(requested, page + 1, papers, api=True)
        if not papers:
            # The API filters by the day a paper entered the digest: none did.
            return self._no_digest(requested, "the API lists no papers for it", response.url)
        days = [submitted_day(paper) for paper in papers]
        if all(day is not None and day not in requested for day in days):
            shown = sorted({day for day in days if day is not None})
            return self._no_digest(
                requested,
                f"the API answered with papers of {shown[0]}"
                + (f" to {shown[-1]}" if len(shown) > 1 else ""),
                response.url,
            )
        if requested.kind == "day":
            self._served(requested.start)
        return self._listing(requested, response.url, papers, check_days=True)

    def _listing(self, period: Period, url: str, raws: list[RawPaper], check_days: bool) -> Listing:
        """The ``Listing`` of ``raws`` (in list order) through the loader.

        With ``check_days``, each paper's own day in the digest is checked
        against the period: one of another day is kept aside with its reason
        (its place in the list stays taken), and in a week's or month's list
        each paper is filed under its own day.
        """
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value("digest/papers_seen", len(raws))
        scraped_at = dt.datetime.now(dt.UTC)
        listing = Listing(day=period.start, period=period.kind, url=url, outcome="served")
        for raw in raws:
            arxiv_id = collapse_whitespace(raw.get("arxiv_id"))
            listing_date: dt.date | None = period.start
            if check_days:
                day = submitted_day(raw)
                if day is None and period.kind != "day":
                    self._keep_aside(listing, raw, f"says no day it entered the digest ({period})")
                    continue
                if day is not None and day not in period:
                    self._keep_aside(listing, raw, f"entered the digest on {day}, not in {period}")
                    continue
                listing_date = day or period.start
            paper = load_paper(
                raw,
                listing_date=listing_date,
                # Under the base URL's own path; an id the pattern refuses
                # (say "../x") is rejected in validation.
                url=f"{self.base_url}/papers/{arxiv_id}" if arxiv_id else None,
                scraped_at=scraped_at,
            )
            dropped = [name for name in LINK_FIELDS if raw.get(name) and name not in paper]
            if dropped:
                stats.inc_value("digest/links_dropped", len(dropped))
                self.logger.info(
                    "Paper %r on %s: dropped %s (not an http(s) URL)",
                    arxiv_id,
                    url,
                    ", ".join(f"{name}={raw[name]!r}" for name in dropped),
                )
            listing.papers.append(paper)
        return listing

    def _keep_aside(self, listing: Listing, raw: RawPaper, why: str) -> None:
        """A paper of another listing: kept aside with its reason, its rank left empty."""
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("digest/rejected_items")
        arxiv_id = raw.get("arxiv_id")
        reason = f"paper {arxiv_id!r} {why}"
        self.logger.warning("On %s: %s", listing.url, reason)
        listing.rejected.append(
            Rejected(str(arxiv_id) if arxiv_id is not None else None, reason, raw)
        )
        listing.papers.append(None)

    def _redirected(
        self, response: Response, requested: Period, page: int = 0
    ) -> Listing | scrapy.Request:
        location = response.headers.get("Location")
        if location is None:
            return self._failed(
                requested, response.url, f"HTTP {response.status} without a Location"
            )
        redirects = response.meta.get("digest_redirects", 0)
        try:
            follow = response.request.replace(  # type: ignore[union-attr]
                url=response.urljoin(location.decode("latin-1")),
                meta={**_READ_LOCATION, "digest_redirects": redirects + 1},
            )
        except ValueError as exc:  # "Invalid IPv6 URL", a port out of range
            shown = location.decode("latin-1")
            return self._failed(
                requested, response.url, f"redirected to {shown!r}, which is no URL ({exc})"
            )
        # Judged as Scrapy will send it: what its URL handling made of the Location.
        if not _on_site(follow.url, self.base_url):
            # Quoted, and without a user name or password the Location carried.
            shown = _without_credentials(follow.url)
            return self._failed(requested, response.url, f"redirected off the site to {shown!r}")
        served = period_from_url(follow.url)
        if served is not None and served != requested and page > 0:
            # The earlier pages' papers are of this listing: it cannot be "no digest".
            return self._failed(
                requested, response.url, f"page {page} of the list redirects to {served}"
            )
        if served is not None and served != requested:
            if served.kind == "day":
                self._served(served.start)  # a day without a digest is sent to the newest one
            return self._no_digest(requested, f"the site redirects to {served}", response.url)
        # The same listing elsewhere, or a page that names none: follow it and
        # let the page say which listing it shows.
        if redirects >= _MAX_REDIRECTS:
            return self._failed(requested, response.url, "too many redirects")
        return follow

    def failed(self, failure: Failure) -> Iterator[Any]:
        """A page that could not be fetched (after retries): a failed listing."""
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("digest/failed_pages")
        request = failure.request  # type: ignore[attr-defined]
        error = failure.value
        if isinstance(error, HttpError):
            status = error.response.status
            retried = status in self.settings.getlist("RETRY_HTTP_CODES") and not request.meta.get(
                "dont_retry"
            )
            reason = f"HTTP {status}{' after retries' if retried else ''}"
        else:
            reason = f"{type(error).__name__}: {failure.getErrorMessage()}"
        yield self._failed(request.cb_kwargs["requested"], request.url, reason)
        yield from self._next_listing()

    def _served(self, day: dt.date) -> None:
        if day <= self.arguments.today and (self.newest is None or day > self.newest):
            self.newest = day

    def closed(self, reason: str) -> None:
        """A run that reads today notices a stalled site: the newest digest
        day it was served is more than ``DIGEST_STALE_DAYS`` days old."""
        today, stale_after = self.arguments.today, self.settings.getint("DIGEST_STALE_DAYS")
        if self.newest is None or self.arguments.kind != "day" or self.days[-1] != today:
            return
        age = (today - self.newest).days
        if age > stale_after:
            assert self.crawler.stats is not None
            self.crawler.stats.set_value("digest/stale_days", age)
            self.logger.error(
                "The site has served nothing new since %s: %d days before today (%s),"
                " more than DIGEST_STALE_DAYS (%d)",
                self.newest,
                age,
                today,
                stale_after,
            )

    def _no_digest(self, period: Period, reason: str, url: str) -> Listing:
        """The site answered ``period`` with another listing (or an empty
        one, through the API): a normal outcome."""
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("digest/no_digest_days")
        self.logger.info("No digest for %s: %s; nothing filed under %s", period, reason, period)
        return Listing(
            day=period.start, period=period.kind, url=url, outcome="no_digest", reason=reason
        )

    def _failed(self, period: Period, url: str, reason: str) -> Listing:
        self.logger.error("Could not fetch %s: %s; nothing stored for %s", url, reason, period)
        assert self.crawler.stats is not None
        if self.crawler.stats.get_value("digest/first_failure") is None:
            self.crawler.stats.set_value("digest/first_failure", f"{period}: {reason}")
        return Listing(
            day=period.start, period=period.kind, url=url, outcome="failed", reason=reason
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
            f"{count('days_served')} of {len(self.days)} {kind}s stored"
            f" ({count('papers_stored')} papers, {count('rejected_items')} rejected),"
            f" {count('no_digest_days')} without a digest, {count('days_failed')} failed"
        )
        if count("days_carried_over"):
            line += f", {count('days_carried_over')} done by the interrupted run it resumed"
        reason = stats.get("finish_reason")
        if reason != "finished":
            line += f"; stopped early ({reason or 'forced'})"
        if count("days_left"):
            line += f"; {count('days_left')} left for the next run"
        if count("stale_days"):
            line += f"; nothing new from the site for {count('stale_days')} days"
        if stats.get("digest/first_failure"):
            line += f"; first failure {stats['digest/first_failure']}"
        return f"{'FAILED' if went_wrong else 'OK'}: {line}"
