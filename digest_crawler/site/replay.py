"""The kept answers read again: each listing a crawl read, from the answers
it was given, by today's reading rules (``scrapy reparse``).

A crawl reads one listing at a time: its first answer (the listing's page
or the API's first page), then the answers its reader asked for next (the
API's next pages, a redirect followed). So the answers of one crawl's file,
in the order received, replay each read: an answer at a listing's first URL
begins a read, an answer at the URL its reader asked for next goes on with
it. Each answer is read as the crawl read it: the same Scrapy response
class and decoding (``Answer.from_response``), at the moment it was
received.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from scrapy.http import Headers, Request, Response
from scrapy.responsetypes import responsetypes

from digest_crawler.items import Adoption, Listing
from digest_crawler.periods import Period
from digest_crawler.raw import Kept
from digest_crawler.site.adoption import adoption_of, read_adoption
from digest_crawler.site.reading import (
    RECEIVED_AT,
    REDIRECTS,
    Answer,
    Door,
    Follow,
    ListingReader,
    Notes,
    Tally,
)
from digest_crawler.site.urls import is_api_answer, period_from_url


@dataclass(frozen=True)
class Read:
    """One listing read again, with the day its run took as today."""

    listing: Listing
    today: dt.date


@dataclass(frozen=True)
class AdoptionRead:
    """One paper's Hub answer read again (``site.adoption``)."""

    adoption: Adoption


@dataclass
class Replayed:
    """What a replay met besides reads."""

    #: Reads a run began and never finished (it was stopped mid-listing).
    unfinished: int = 0
    #: Answers that begin no read (an API page whose first page is not kept).
    stray: int = 0


def listing_of(kept: Kept) -> Period | None:
    """The listing an answer begins a read of, if it is a listing's first URL."""
    if urlsplit(kept.url).path.endswith("/robots.txt"):
        return None
    period = period_from_url(kept.url)
    if period is None:
        return None
    reader = ListingReader(period, _base_of(kept.url), _door(kept.url))
    return period if reader.url == kept.url else None


def replay(
    answers: Iterable[Kept], notes: Notes | None = None, replayed: Replayed | None = None
) -> Iterator[Read | AdoptionRead]:
    """Each listing read again from ``answers`` (in the order received), and
    each paper's Hub answer (an adoption call, which the crawl made beside
    its listings: it neither begins nor goes on with a listing's read). A
    call that got no answer to read (a 5xx after retries) is left out: it
    changed nothing but the papers due, which later reads settle."""
    notes = notes if notes is not None else Tally()
    replayed = replayed if replayed is not None else Replayed()
    # Per file (one run's answers): the read under way and the URL it asked for.
    reading: dict[Path, tuple[ListingReader, str]] = {}
    for kept in answers:
        arxiv_id = adoption_of(kept.url)
        if arxiv_id is not None:
            if kept.status in (200, 404):
                text = Answer.from_response(_response(kept)).text
                adoption = read_adoption(arxiv_id, kept.url, kept.status, text, kept.received_at)
                yield AdoptionRead(adoption)
            continue
        under_way = reading.pop(kept.file, None)
        if under_way is not None and kept.url == under_way[1]:
            reader = under_way[0]
        else:
            if under_way is not None:
                replayed.unfinished += 1
            period = listing_of(kept)
            if period is None:
                if not urlsplit(kept.url).path.endswith("/robots.txt"):
                    replayed.stray += 1
                continue
            reader = ListingReader(period, _base_of(kept.url), _door(kept.url), notes)
        step: Listing | Follow
        if kept.status >= 400 or (kept.status >= 300 and kept.status not in REDIRECTS):
            # What the crawl's errback made of an answer it was not given.
            step = reader.failed(kept.url, f"HTTP {kept.status}", kept.received_at)
        else:
            step = reader.read(Answer.from_response(_response(kept)))
        if isinstance(step, Follow):
            reading[kept.file] = (reader, step.url)
            continue
        yield Read(step, kept.today or kept.received_at.date())
    replayed.unfinished += len(reading)


def _response(kept: Kept) -> Response:
    """The Scrapy response the crawl was given for ``kept``."""
    headers = Headers()
    for name, value in kept.headers:
        headers.appendlist(name, value)
    request = Request(kept.url, meta={RECEIVED_AT: kept.received_at})
    kind = responsetypes.from_args(headers=headers, url=kept.url, body=kept.body)
    response: Response = kind(
        kept.url, status=kept.status, headers=headers, body=kept.body, request=request
    )
    return response


def _door(url: str) -> Door:
    return "api" if is_api_answer(url) else "html"


def _base_of(url: str) -> str:
    """The base URL a listing's URL was made from (``urls.page_url``, ``api_url``)."""
    marker = "/api/daily_papers" if is_api_answer(url) else "/papers/"
    return url[: url.rindex(marker)]
