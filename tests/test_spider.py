"""The spider's callback on saved pages, and its arguments."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request, TextResponse

from digest_crawler.arguments import ArgumentError, DailyArguments
from digest_crawler.items import Listing
from digest_crawler.periods import Period
from digest_crawler.spiders.daily import DailySpider
from tests.conftest import FIXTURES
from tests.support.crawler import make_spider

D = dt.date


def response(fixture: str, url: str, requested_url: str | None = None) -> HtmlResponse:
    request = Request(requested_url or url)
    return HtmlResponse(
        url=url, body=(FIXTURES / fixture).read_bytes(), encoding="utf-8", request=request
    )


def stats(spider: DailySpider) -> dict[str, Any]:
    return {
        k.removeprefix("digest/"): v
        for k, v in spider.crawler.stats.get_stats().items()
        if k.startswith("digest/")
    }


def read(spider: DailySpider, page: Any, day: dt.date) -> Listing:
    """The one listing the callback yields for ``day`` (and no request:
    ``date`` gives a one-day plan)."""
    (listing,) = spider.parse(page, requested=day)
    assert isinstance(listing, Listing)
    return listing


def test_listing_page_gives_one_listing_with_its_papers_in_page_order() -> None:
    spider = make_spider(date="2026-07-31")
    listing = read(
        spider,
        response("listing-2026-07-31.html", "http://127.0.0.1:9/papers/date/2026-07-31"),
        D(2026, 7, 31),
    )
    assert (listing.day, listing.outcome, listing.reason) == (D(2026, 7, 31), "served", None)
    assert len(listing.papers) == 30
    assert {p["listing_date"] for p in listing.papers} == {D(2026, 7, 31)}
    assert listing.papers[0]["arxiv_id"] == "2607.23193"
    assert listing.papers[0]["url"] == "http://127.0.0.1:9/papers/2607.23193"
    assert listing.papers[0]["scraped_at"].tzinfo is dt.UTC
    assert stats(spider) == {"pages": 1, "papers_seen": 30}


def test_redirected_day_files_nothing_and_says_what_was_served(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    spider = make_spider(date="2026-03-08")
    page = response(
        "listing-2026-07-31.html",
        "http://127.0.0.1:9/papers/date/2026-07-31",
        requested_url="http://127.0.0.1:9/papers/date/2026-03-08",
    )
    listing = read(spider, page, D(2026, 3, 8))
    assert (listing.outcome, listing.papers) == ("no_digest", [])
    assert listing.reason == "the site served the day of 2026-07-31"
    assert stats(spider)["no_digest_days"] == 1
    assert "No digest for 2026-03-08: the site served the day of 2026-07-31" in caplog.text


def test_other_date_served_in_place_files_nothing() -> None:
    spider = make_spider(date="2026-08-01")
    page = response("listing-2026-07-31.html", "http://127.0.0.1:9/papers/date/2026-08-01")
    assert read(spider, page, D(2026, 8, 1)).outcome == "no_digest"
    assert stats(spider)["no_digest_days"] == 1


def test_fallback_page_is_warned_about_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    spider = make_spider(date="2026-03-11")
    page = response(
        "listing-2026-03-11-no-hydration.html", "http://127.0.0.1:9/papers/date/2026-03-11"
    )
    listing = read(spider, page, D(2026, 3, 11))
    assert len(listing.papers) == 20 and all("abstract" not in p for p in listing.papers)
    assert stats(spider)["fallback_pages"] == 1
    assert (
        "no DailyPapers hydration element; read 20 papers from the page's cards instead"
        in caplog.text
    )


def test_page_of_unknown_date_files_nothing() -> None:
    spider = make_spider(date="2026-03-12")
    # The no-hydration page says "Mar 11": served at the 03-12 URL, its day cannot be told.
    page = response(
        "listing-2026-03-11-no-hydration.html", "http://127.0.0.1:9/papers/date/2026-03-12"
    )
    listing = read(spider, page, D(2026, 3, 12))
    assert (listing.outcome, listing.reason) == ("failed", "cannot tell which day the page shows")
    assert stats(spider)["undated_pages"] == 1


def test_non_text_answer_is_counted_not_parsed() -> None:
    spider = make_spider(date="2026-03-12")
    binary = __import__("scrapy").http.Response(
        url="http://127.0.0.1:9/papers/date/2026-03-12", body=b"\x89PNG"
    )
    assert read(spider, binary, D(2026, 3, 12)).outcome == "failed"
    assert stats(spider)["unreadable_pages"] == 1


def test_empty_listing_is_warned_about() -> None:
    spider = make_spider(date="2026-03-12")
    page = TextResponse(
        url="http://127.0.0.1:9/papers/date/2026-03-12",
        encoding="utf-8",
        body=b'<div data-target="DailyPapers" data-props="{&quot;dateString&quot;:&quot;2026-03-12&quot;,&quot;dailyPapers&quot;:[]}"></div>',
    )
    listing = read(spider, page, D(2026, 3, 12))
    assert (listing.outcome, listing.papers) == ("served", [])
    assert stats(spider)["empty_pages"] == 1


async def _requests(spider: DailySpider) -> list[Request]:
    return [request async for request in spider.start()]


def test_start_requests_the_day_from_the_base_url() -> None:
    import asyncio

    spider = make_spider(date="2026-03-09")
    (request,) = asyncio.run(_requests(spider))
    assert request.url == "http://127.0.0.1:9/papers/date/2026-03-09"
    assert request.cb_kwargs == {"requested": Period("day", D(2026, 3, 9))}


def test_default_day_is_today_in_utc() -> None:
    today = dt.datetime.now(dt.UTC).date()
    assert DailyArguments.parse({"date": str(today)}).days_to_crawl() == [today]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"date": "2026-02-30"},
            "argument date: '2026-02-30' is not a valid date (day is out of range for month)",
        ),
        ({"date": "yesterday"}, "argument date: 'yesterday' is not a date (expected YYYY-MM-DD)"),
        ({"date": "2999-01-01"}, "argument date: 2999-01-01 is in the future"),
        (
            {"datum": "2026-01-01"},
            "unknown argument 'datum' (known: date, start, end, days, refresh, refresh_days, week, month, period, source)",
        ),
    ],
)
def test_bad_arguments_raise_one_line_errors(arguments: dict[str, str], message: str) -> None:
    with pytest.raises(ArgumentError) as caught:
        make_spider(**arguments)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_scrapyd_job_argument_is_accepted() -> None:
    assert make_spider(_job="abc", date="2026-03-09").arguments.date == D(2026, 3, 9)


def test_days_the_ledger_says_are_done_are_not_requested() -> None:
    import asyncio

    spider = make_spider(start="2026-03-01", end="2026-03-03")
    spider.done.update({D(2026, 3, 1), D(2026, 3, 2)})  # what the storage pipeline puts there
    (request,) = asyncio.run(_requests(spider))
    assert request.url == "http://127.0.0.1:9/papers/date/2026-03-03"
    assert stats(spider)["days_requested"] == 3 and stats(spider)["days_to_fetch"] == 1


def test_a_callback_error_fails_its_day_and_the_next_day_is_still_requested(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio

    spider = make_spider(start="2026-03-01", end="2026-03-02")
    (first,) = asyncio.run(_requests(spider))

    def broken(*args: Any) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("digest_crawler.spiders.daily.parse_listing", broken)
    page = response("listing-2026-07-31.html", first.url)
    listing, following = spider.parse(page, requested=D(2026, 3, 1))
    assert (listing.outcome, listing.reason) == (
        "failed",
        "RecursionError: maximum recursion depth exceeded",
    )
    assert following.url == "http://127.0.0.1:9/papers/date/2026-03-02"
    assert stats(spider)["parse_errors"] == 1


def test_one_unreadable_value_costs_only_that_value() -> None:
    """A link no URL parser reads, a count of 5,000 digits: the listing keeps
    all its papers; validation judges what the loader made of them."""
    text = (FIXTURES / "listing-2026-07-31.html").read_text(encoding="utf-8")
    text = text.replace("https://github.com/bingyan4science/askchem", "http://[::1", 1).replace(
        "&quot;numComments&quot;:2,", f"&quot;numComments&quot;:&quot;{'9' * 5000}&quot;,", 1
    )
    spider = make_spider(date="2026-07-31")
    page = HtmlResponse(
        url="http://127.0.0.1:9/papers/date/2026-07-31", body=text.encode(), encoding="utf-8"
    )
    listing = read(spider, page, D(2026, 7, 31))
    assert listing.outcome == "served" and len(listing.papers) == 30
    askchem = next(p for p in listing.papers if p["arxiv_id"] == "2607.28618")
    assert "github_repo" not in askchem and askchem["upvotes"] == 292
    assert any(p.get("num_comments") == "9" * 5000 for p in listing.papers)
