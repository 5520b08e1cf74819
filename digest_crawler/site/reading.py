"""Reading one listing from the site's answers: the reading rules, without a crawler.

A ``ListingReader`` reads one listing (a day, an ISO week or a month)
through one door (its page, or the API). It names the URL to ask first; each
``Answer`` it is given (what the server said, as plain data) gives either
the ``Listing`` (served, no digest, or failed with the reason) or a
``Follow``: the next URL to ask for the same listing (the API's next page,
or a redirect on the site). What it counts and logs goes to its ``Notes``:
the spider sends them to Scrapy's stats and log; a test keeps them in a
``Tally``.

The rules: a listing is filed under the period the answer says it shows,
never under one the site did not serve (another day is "no digest"); a
redirect is followed on the base URL's scheme, host and port only; a paper
of another day is kept aside with its reason, its rank left taken.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal, Protocol
from urllib.parse import urljoin

from scrapy.http import Request, Response, TextResponse

from digest_crawler.items import Listing, Rejected
from digest_crawler.paper import LINKS, fields_in
from digest_crawler.periods import KINDS, Period
from digest_crawler.site.api import parse_answer
from digest_crawler.site.entries import RawPaper, submitted_day
from digest_crawler.site.loaders import load_paper
from digest_crawler.site.pages import parse_listing
from digest_crawler.site.processors import collapse_whitespace, quoted
from digest_crawler.site.urls import (
    MAX_PAGES,
    MAX_REDIRECTS,
    PAGE_SIZE,
    api_url,
    is_api_answer,
    on_site,
    page_url,
    paper_url,
    period_from_url,
    without_credentials,
)
from digest_crawler.words import counted

#: The request meta key of the moment an answer was received (set where it
#: is kept: ``digest_crawler/raw.py``).
RECEIVED_AT = "digest_received_at"
#: The version of these reading rules, kept with each listing they read
#: (``crawl_listings.reading_rules``): raise it with every change to what
#: they make of an answer, so the days an older version read can be found
#: and read again from the raw answers (``scrapy reparse``).
READING_RULES = 1
#: The doors a listing can be read through.
Door = Literal["html", "api"]
REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(frozen=True)
class Answer:
    """One answer of the site, as the reading rules need it."""

    url: str
    status: int
    #: The body as text; ``None`` when it is not a text answer.
    text: str | None
    content_type: str | None = None
    location: str | None = None
    #: When it was received: the moment its papers were read.
    received_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @classmethod
    def from_response(cls, response: Response) -> Answer:
        def header(name: str) -> str | None:
            value = response.headers.get(name)
            return value.decode("latin-1") if value is not None else None

        meta = response.request.meta if response.request is not None else {}
        return cls(
            url=response.url,
            status=response.status,
            text=response.text if isinstance(response, TextResponse) else None,
            content_type=header("Content-Type"),
            location=header("Location"),
            received_at=meta.get(RECEIVED_AT) or dt.datetime.now(dt.UTC),
        )


@dataclass(frozen=True)
class Follow:
    """Ask for ``url`` next, for the same listing."""

    url: str
    #: A redirect followed (not the API's next page): no token goes with it.
    redirect: bool = False


class Notes(Protocol):
    """Where a reading's counts (``digest/<name>`` stats) and log lines go."""

    def count(self, name: str, value: int = 1) -> None: ...

    def log(self, level: int, message: str) -> None: ...


@dataclass
class Tally:
    """Notes kept for the caller to read."""

    counts: Counter[str] = field(default_factory=Counter)
    lines: list[tuple[int, str]] = field(default_factory=list)

    def count(self, name: str, value: int = 1) -> None:
        self.counts[name] += value

    def log(self, level: int, message: str) -> None:
        self.lines.append((level, message))


class ListingReader:
    """Reads ``period``'s listing from ``base_url`` through ``door``."""

    def __init__(
        self, period: Period, base_url: str, door: Door = "html", notes: Notes | None = None
    ) -> None:
        self.period = period
        self.base_url = base_url
        self.notes: Notes = notes if notes is not None else Tally()
        #: The first URL to ask.
        self.url = page_url(base_url, period) if door == "html" else api_url(base_url, period)
        #: The digest day the site showed to be served (for the stale-site
        #: rule): the listing's own, or the day a redirect led to.
        self.served: dt.date | None = None
        self._page = 0  # of the API's list
        self._papers: list[RawPaper] = []  # the API's earlier pages
        self._redirects = 0  # followed for the answer asked for last
        self._received_at: dt.datetime | None = None  # of the last answer read

    @property
    def redirects(self) -> int:
        """Redirects followed to reach the URL asked for last."""
        return self._redirects

    def read(self, answer: Answer) -> Listing | Follow:
        """The listing, or the next URL to ask for it."""
        self._received_at = answer.received_at
        if answer.status in REDIRECTS:
            return self._redirected(answer)
        if answer.text is None:
            self.notes.count("unreadable_pages")
            return self.failed(answer.url, f"not a text page ({quoted(answer.content_type)})")
        if is_api_answer(answer.url):
            return self._read_api(answer, answer.text)
        return self._read_page(answer, answer.text)

    def failed(self, url: str, reason: str, received_at: dt.datetime | None = None) -> Listing:
        """The listing could not be read: nothing of it is stored. An answer
        that failed it was ``received_at``."""
        if received_at is not None:
            self._received_at = received_at
        self.notes.log(
            logging.ERROR, f"Could not fetch {url}: {reason}; nothing stored for {self.period}"
        )
        return self._outcome(url, "failed", reason)

    def _no_digest(self, url: str, reason: str) -> Listing:
        """The site answered with another listing (or, through the API, an
        empty one): a normal outcome."""
        self.notes.count("no_digest_listings")
        self.notes.log(
            logging.INFO,
            f"No digest for {self.period}: {reason}; nothing filed under {self.period}",
        )
        return self._outcome(url, "no_digest", reason)

    def _outcome(self, url: str, outcome: Literal["failed", "no_digest"], reason: str) -> Listing:
        return Listing(
            day=self.period.start,
            period=self.period.kind,
            url=url,
            outcome=outcome,
            reason=reason,
            read_at=self._received_at,
            reading_rules=READING_RULES,
        )

    def _read_page(self, answer: Answer, text: str) -> Listing:
        requested = self.period
        page = parse_listing(text, answer.url, requested.start if requested.kind == "day" else None)
        self.notes.count("pages")
        if page.oversized is not None:
            self.notes.count("oversized_answers")
            return self.failed(answer.url, f"the page is no listing: {page.oversized}")
        if page.source == "cards":
            self.notes.count("fallback_pages")
            if requested.kind != "day":
                # Cards say neither the period nor the day each paper entered the digest.
                self.notes.count("unreadable_pages")
                return self.failed(
                    answer.url,
                    f"{page.problem}; the cards of a {requested.kind}'s list say no listing days",
                )
            self.notes.log(
                logging.WARNING,
                f"{answer.url}: {page.problem}; read {counted(len(page.papers), 'paper')} from the"
                " page's cards instead",
            )
        if page.served_date is None:
            self.notes.count("undated_pages")
            return self.failed(answer.url, "cannot tell which day the page shows")
        if page.papers and page.period == "day":
            self.served = page.served_date
        if page.period != requested.kind or page.served_date != requested.start:
            # The period is the page's text: quoted, it cannot forge a log line.
            shown = page.period if page.period in KINDS else quoted(page.period)
            return self._no_digest(answer.url, f"the site served the {shown} of {page.served_date}")
        if not page.papers:
            self.notes.count("empty_pages")
            self.notes.log(
                logging.WARNING, f"{answer.url}: the page for {requested} lists no papers"
            )
        # A day's page names its day; a week's or month's list says each
        # paper's day in its entry.
        return self._listing(answer, page.papers, check_days=requested.kind != "day")

    def _read_api(self, answer: Answer, text: str) -> Listing | Follow:
        requested = self.period
        found = parse_answer(text)
        self.notes.count("api_answers")
        if found.problem is not None:
            self.notes.count("oversized_answers" if found.oversized else "unreadable_pages")
            return self.failed(answer.url, found.problem)
        # A list that changed while it was paged (a paper added or moved
        # up) repeats an entry at the next page's start, and may skip one.
        seen = {_id_of(paper) for paper in self._papers} - {None}
        fresh = [paper for paper in found.papers if _id_of(paper) not in seen]
        if len(fresh) < len(found.papers):
            repeats = len(found.papers) - len(fresh)
            self.notes.count("api_repeats", repeats)
            self.notes.log(
                logging.WARNING,
                f"{answer.url}: {counted(repeats, 'entry', 'entries')} of earlier pages again: the list changed"
                " while it was paged, and a paper may be missing from this read",
            )
        self._papers += fresh
        if found.papers and not fresh:
            # The same entries again, all of them: a server that ignores p=.
            return self._incomplete(
                answer, f"page {self._page} of the API's list repeats the pages before it"
            )
        if not found.is_last:
            if self._page + 1 >= MAX_PAGES:
                return self._incomplete(
                    answer,
                    f"the API's list goes on past {MAX_PAGES} pages of {PAGE_SIZE}"
                    f" ({MAX_PAGES * PAGE_SIZE:,} papers, more than any listing holds)",
                )
            # Through the API, whichever door the read began at (a page may
            # redirect to the API).
            self._page += 1
            self._redirects = 0
            return Follow(api_url(self.base_url, requested, self._page))
        papers = self._papers
        if not papers:
            # The API filters by the day a paper entered the digest: none did.
            return self._no_digest(answer.url, "the API lists no papers for it")
        days = [submitted_day(paper) for paper in papers]
        if all(day is not None and day not in requested for day in days):
            shown = sorted({day for day in days if day is not None})
            return self._no_digest(
                answer.url,
                f"the API answered with papers of {shown[0]}"
                + (f" to {shown[-1]}" if len(shown) > 1 else ""),
            )
        if requested.kind == "day":
            self.served = requested.start
        return self._listing(answer, papers, check_days=True)

    def _incomplete(self, answer: Answer, reason: str) -> Listing:
        """The API's list read no further: its papers read so far are
        stored, and the listing stays failed (not settled, read again by the
        next run): nothing read is lost, and the run does not pass for done."""
        self.notes.count("listings_incomplete")
        self.notes.log(
            logging.ERROR,
            f"Could not read all of {self.period}: {reason}; storing the {len(self._papers)}"
            " papers read, the listing stays failed",
        )
        if self.period.kind == "day":
            self.served = self.period.start
        listing = self._listing(answer, self._papers, check_days=True)
        listing.outcome, listing.reason = "failed", f"incomplete: {reason}"
        return listing

    def _listing(self, answer: Answer, raws: list[RawPaper], check_days: bool) -> Listing:
        """The ``Listing`` of ``raws`` (in list order) through the loader.

        With ``check_days``, each paper's own day in the digest is checked
        against the period: one of another day is kept aside with its reason
        (its place in the list stays taken), and in a week's or month's list
        each paper is filed under its own day.
        """
        period = self.period
        self.notes.count("papers_seen", len(raws))
        listing = Listing(
            day=period.start,
            period=period.kind,
            url=answer.url,
            outcome="served",
            read_at=answer.received_at,
            reading_rules=READING_RULES,
        )
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
                url=paper_url(self.base_url, arxiv_id) if arxiv_id else None,
                scraped_at=answer.received_at,
            )
            dropped = [name for name in fields_in(LINKS) if raw.get(name) and name not in paper]
            if dropped:
                self.notes.count("links_dropped", len(dropped))
                self.notes.log(
                    logging.INFO,
                    f"Paper {quoted(arxiv_id)} on {answer.url}: dropped "
                    + ", ".join(f"{name}={quoted(raw[name])}" for name in dropped)
                    + " (not an http(s) URL)",
                )
            listing.papers.append(paper)
        return listing

    def _keep_aside(self, listing: Listing, raw: RawPaper, why: str) -> None:
        """A paper of another listing: kept aside with its reason (once, if
        the listing holds copies of it), its rank left empty."""
        arxiv_id = raw.get("arxiv_id")
        reason = f"paper {quoted(arxiv_id)} {why}"
        listing.papers.append(None)
        if listing.reject(Rejected(str(arxiv_id) if arxiv_id is not None else None, reason, raw)):
            self.notes.count("rejected_items")
            self.notes.log(logging.WARNING, f"On {listing.url}: {reason}")

    def _redirected(self, answer: Answer) -> Listing | Follow:
        if answer.location is None:
            return self.failed(answer.url, f"HTTP {answer.status} without a Location")
        try:
            # Judged as Scrapy will send it: what its URL handling makes of it.
            url = Request(urljoin(answer.url, answer.location)).url
        except ValueError as exc:  # "Invalid IPv6 URL", a port out of range, no scheme
            return self.failed(
                answer.url, f"redirected to {quoted(answer.location)}, which is no URL ({exc})"
            )
        if not on_site(url, self.base_url):
            # Quoted, and without a user name or password the Location carried.
            shown = without_credentials(url)
            return self.failed(answer.url, f"redirected off the site to {quoted(shown)}")
        if self._page > 0 and not is_api_answer(url):
            # The earlier pages' papers would be lost to what that URL lists.
            return self.failed(
                answer.url, f"page {self._page} of the list redirects off the API to {quoted(url)}"
            )
        served = period_from_url(url)
        if served is not None and served != self.period and self._page > 0:
            # The earlier pages' papers are of this listing: it cannot be "no digest".
            return self.failed(answer.url, f"page {self._page} of the list redirects to {served}")
        if served is not None and served != self.period:
            if served.kind == "day":
                self.served = served.start  # a day without a digest is sent to the newest one
            return self._no_digest(answer.url, f"the site redirects to {served}")
        # The same listing elsewhere, or a page that names none: follow it and
        # let the answer say which listing it shows.
        if self._redirects >= MAX_REDIRECTS:
            return self.failed(answer.url, "too many redirects")
        self._redirects += 1
        return Follow(url, redirect=True)


def _id_of(paper: RawPaper) -> str | None:
    arxiv_id = paper.get("arxiv_id")
    return arxiv_id if isinstance(arxiv_id, str) else None
