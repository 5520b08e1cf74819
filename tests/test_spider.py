"""The spider's callback on saved pages, and its arguments."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request, TextResponse
from scrapy.utils.test import get_crawler

from digest_crawler.arguments import ArgumentError, DailyArguments
from digest_crawler.items import PaperItem
from digest_crawler.spiders.daily import DailySpider
from tests.conftest import FIXTURES

D = dt.date


def make_spider(**arguments: Any) -> DailySpider:
    crawler = get_crawler(DailySpider, {"DIGEST_BASE_URL": "http://127.0.0.1:9"})
    crawler.stats.open_spider()
    return DailySpider.from_crawler(crawler, **arguments)


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


def test_listing_page_gives_one_item_per_paper_filed_under_the_served_day() -> None:
    spider = make_spider(date="2026-07-31")
    items = list(
        spider.parse(
            response("listing-2026-07-31.html", "http://127.0.0.1:9/papers/date/2026-07-31"),
            requested=D(2026, 7, 31),
        )
    )
    assert len(items) == 30 and all(isinstance(i, PaperItem) for i in items)
    assert {i.listing_date for i in items} == {D(2026, 7, 31)}
    assert items[0].url == "http://127.0.0.1:9/papers/2607.23193"
    assert items[0].scraped_at.tzinfo is dt.UTC
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
    assert list(spider.parse(page, requested=D(2026, 3, 8))) == []
    assert stats(spider)["no_digest_days"] == 1
    assert "No digest for 2026-03-08: the site served the day of 2026-07-31" in caplog.text


def test_other_date_served_in_place_files_nothing() -> None:
    spider = make_spider(date="2026-08-01")
    page = response("listing-2026-07-31.html", "http://127.0.0.1:9/papers/date/2026-08-01")
    assert list(spider.parse(page, requested=D(2026, 8, 1))) == []
    assert stats(spider)["no_digest_days"] == 1


def test_fallback_page_is_warned_about_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    spider = make_spider(date="2026-03-11")
    page = response(
        "listing-2026-03-11-no-hydration.html", "http://127.0.0.1:9/papers/date/2026-03-11"
    )
    items = list(spider.parse(page, requested=D(2026, 3, 11)))
    assert len(items) == 20 and all(i.abstract is None for i in items)
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
    assert list(spider.parse(page, requested=D(2026, 3, 12))) == []
    assert stats(spider)["undated_pages"] == 1


def test_non_text_answer_is_counted_not_parsed() -> None:
    spider = make_spider()
    binary = __import__("scrapy").http.Response(
        url="http://127.0.0.1:9/papers/date/2026-03-12", body=b"\x89PNG"
    )
    assert list(spider.parse(binary, requested=D(2026, 3, 12))) == []
    assert stats(spider)["unreadable_pages"] == 1


def test_empty_listing_is_warned_about() -> None:
    spider = make_spider()
    page = TextResponse(
        url="http://127.0.0.1:9/papers/date/2026-03-12",
        encoding="utf-8",
        body=b'<div data-target="DailyPapers" data-props="{&quot;dateString&quot;:&quot;2026-03-12&quot;,&quot;dailyPapers&quot;:[]}"></div>',
    )
    assert list(spider.parse(page, requested=D(2026, 3, 12))) == []
    assert stats(spider)["empty_pages"] == 1


async def _requests(spider: DailySpider) -> list[Request]:
    return [request async for request in spider.start()]


def test_start_requests_the_day_from_the_base_url() -> None:
    import asyncio

    spider = make_spider(date="2026-03-09")
    (request,) = asyncio.run(_requests(spider))
    assert request.url == "http://127.0.0.1:9/papers/date/2026-03-09"
    assert request.cb_kwargs == {"requested": D(2026, 3, 9)}


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
            "unknown argument 'datum' (known: date, start, end, days, refresh_days)",
        ),
    ],
)
def test_bad_arguments_raise_one_line_errors(arguments: dict[str, str], message: str) -> None:
    with pytest.raises(ArgumentError) as caught:
        make_spider(**arguments)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_scrapyd_job_argument_is_accepted() -> None:
    assert make_spider(_job="abc", date="2026-03-09").arguments.date == D(2026, 3, 9)
