"""The spider's callback on saved pages, and its arguments."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request, TextResponse

from digest_crawler.arguments import ArgumentError, DailyArguments
from digest_crawler.items import Listing
from digest_crawler.periods import Period
from digest_crawler.spiders.daily import DailySpider
from tests.conftest import FIXTURES
from tests.support.crawler import make_spider, run_async

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

    spider = make_spider(date="2026-03-09")
    (request,) = _requests_of(spider)
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

    spider = make_spider(start="2026-03-01", end="2026-03-03")
    spider.done.update({D(2026, 3, 1), D(2026, 3, 2)})  # what the storage pipeline puts there
    (request,) = _requests_of(spider)
    assert request.url == "http://127.0.0.1:9/papers/date/2026-03-03"
    assert stats(spider)["days_requested"] == 3 and stats(spider)["days_to_fetch"] == 1


def test_a_callback_error_fails_its_day_and_the_next_day_is_still_requested(
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    spider = make_spider(start="2026-03-01", end="2026-03-02")
    (first,) = _requests_of(spider)

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


# -- the API door and the week and month lists --------------------------------


def api_response(url: str, entries: Any) -> TextResponse:
    return TextResponse(
        url=url,
        body=json.dumps(entries).encode(),
        encoding="utf-8",
        headers={"Content-Type": "application/json"},
        request=Request(url),
    )


def entries_of(day: dt.date, count: int) -> list[dict[str, Any]]:
    from tests.support.sitegen import many_entries

    return many_entries(day, count)


def test_the_api_door_follows_the_pages_until_a_short_one_and_keeps_the_order() -> None:
    spider = make_spider(date="2026-03-09", source="api")
    entries = entries_of(D(2026, 3, 9), 130)
    base = "http://127.0.0.1:9/api/daily_papers?date=2026-03-09&limit=100"
    (following,) = spider.parse(api_response(f"{base}&p=0", entries[:100]), **_first(spider))
    assert following.url == f"{base}&p=1"
    (listing,) = spider.parse(api_response(following.url, entries[100:]), **following.cb_kwargs)
    assert (listing.outcome, listing.day, listing.period) == ("served", D(2026, 3, 9), "day")
    assert [p["arxiv_id"] for p in listing.papers] == [e["paper"]["id"] for e in entries]
    assert {p["listing_date"] for p in listing.papers} == {D(2026, 3, 9)}
    assert stats(spider)["api_answers"] == 2 and stats(spider)["papers_seen"] == 130


def test_an_empty_api_list_is_no_digest() -> None:
    spider = make_spider(date="2026-03-08", source="api")
    url = "http://127.0.0.1:9/api/daily_papers?date=2026-03-08&limit=100&p=0"
    (listing,) = spider.parse(api_response(url, []), **_first(spider))
    assert (listing.outcome, listing.reason) == ("no_digest", "the API lists no papers for it")


def test_an_api_answer_of_other_days_files_nothing_and_a_stray_paper_is_kept_aside() -> None:
    spider = make_spider(date="2026-03-09", source="api")
    url = "http://127.0.0.1:9/api/daily_papers?date=2026-03-09&limit=100&p=0"
    # A mirror that ignores date= answers with the newest day's papers.
    (listing,) = spider.parse(api_response(url, entries_of(D(2026, 7, 31), 3)), **_first(spider))
    assert (listing.outcome, listing.reason, listing.papers) == (
        "no_digest",
        "the API answered with papers of 2026-07-31",
        [],
    )
    mixed = entries_of(D(2026, 3, 9), 3)
    mixed[1] = entries_of(D(2026, 3, 6), 2)[1]
    (listing,) = spider.parse(api_response(url, mixed), **_first(spider))
    assert listing.outcome == "served"
    assert [p and p["arxiv_id"] for p in listing.papers] == ["2603.00001", None, "2603.00003"]
    (kept,) = listing.rejected
    assert kept.reason == "paper '2603.00002' entered the digest on 2026-03-06, not in 2026-03-09"
    assert stats(spider)["rejected_items"] == 1


def test_an_api_list_without_end_fails_its_listing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("digest_crawler.spiders.daily.MAX_PAGES", 2)
    spider = make_spider(date="2026-03-09", source="api")
    base = "http://127.0.0.1:9/api/daily_papers?date=2026-03-09&limit=100"
    full = entries_of(D(2026, 3, 9), 100)
    (following,) = spider.parse(api_response(f"{base}&p=0", full), **_first(spider))
    (listing,) = spider.parse(api_response(following.url, full), **following.cb_kwargs)
    assert (listing.outcome, listing.reason) == (
        "failed",
        "the API's list goes on past 2 pages of 100",
    )


def test_an_api_answer_that_is_no_list_fails_its_listing() -> None:
    spider = make_spider(date="2026-03-09", source="api")
    url = "http://127.0.0.1:9/api/daily_papers?date=2026-03-09&limit=100&p=0"
    (listing,) = spider.parse(api_response(url, {"error": "Invalid date"}), **_first(spider))
    assert listing.outcome == "failed" and "not a JSON list" in listing.reason
    assert stats(spider)["unreadable_pages"] == 1


@pytest.mark.parametrize("source", ["html", "api"])
def test_a_week_list_files_each_paper_under_its_own_day(source: str) -> None:
    from tests.support.site import period_routes

    spider = make_spider(week="2026-W31", source=source)
    (request,) = _requests_of(spider)
    answer = period_routes()[request.url.removeprefix("http://127.0.0.1:9")]
    page = TextResponse(url=request.url, body=answer.body, encoding="utf-8", request=request)
    (listing,) = spider.parse(page, **request.cb_kwargs)
    assert (listing.outcome, listing.period, listing.day, listing.name) == (
        "served",
        "week",
        D(2026, 7, 27),
        "2026-W31",
    )
    assert len(listing.papers) == 30 and {p["listing_date"] for p in listing.papers} == {
        D(2026, 7, 31)
    }
    upvotes = [p["upvotes"] for p in listing.papers]
    assert upvotes == sorted(upvotes, reverse=True)  # the week's order, not the day's


def test_a_page_of_another_period_is_no_digest_and_cards_cannot_make_a_week() -> None:
    from tests.support.sitegen import api_entries, render_listing

    spider = make_spider(week="2026-W31")
    url = "http://127.0.0.1:9/papers/week/2026-W31"
    day_page = HtmlResponse(url=url, body=render_listing(api_entries(), D(2026, 7, 31)).encode())
    (listing,) = spider.parse(day_page, requested=Period.parse("week", "2026-W31"))
    assert (listing.outcome, listing.reason) == (
        "no_digest",
        "the site served the day of 2026-07-31",
    )
    cards = render_listing(api_entries(), D(2026, 7, 31), hydration=False)
    (listing,) = spider.parse(
        HtmlResponse(url=url, body=cards.encode()), requested=Period.parse("week", "2026-W31")
    )
    assert listing.outcome == "failed" and "cards of a week's list say no listing days" in (
        listing.reason
    )


@pytest.mark.parametrize(
    ("arguments", "weeks"),
    [
        ({"week": "2026-W31"}, ["2026-W31"]),
        ({"period": "week", "start": "2026-07-26", "end": "2026-07-31"}, ["2026-W30", "2026-W31"]),
        ({"period": "month", "days": "3"}, ["2026-07"]),
    ],
)
def test_week_and_month_arguments_name_their_lists(
    arguments: dict[str, str], weeks: list[str]
) -> None:
    parsed = DailyArguments.parse(arguments, today=D(2026, 7, 31))
    assert [p.key for p in parsed.listings_to_crawl()] == weeks


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"week": "2026-W54"}, "argument week: '2026-W54' is not a week (2026 has 53 ISO weeks)"),
        ({"month": "2026-13"}, "argument month: '2026-13' is not a month (expected YYYY-MM)"),
        (
            {"week": "2026-W32"},
            "argument week: 2026-W32 is in the future (today is 2026-07-31 UTC)",
        ),
        ({"month": "2023-04"}, "argument month: 2023-04 is before the first digest (2023-05-01)"),
        ({"week": "2026-W31", "month": "2026-07"}, "argument week: give either week, or month"),
        ({"week": "2026-W31", "date": "2026-07-31"}, "argument week: give either week, or month"),
        ({"period": "week"}, "argument period: give start/end or days too"),
        (
            {"period": "year", "days": "3"},
            "argument period: Input should be 'day', 'week' or 'month'",
        ),
        ({"source": "rss"}, "argument source: Input should be 'html' or 'api'"),
        ({"week": "2026-W31", "refresh": "0,1"}, "argument refresh: only for the daily run"),
    ],
)
def test_bad_week_month_and_source_arguments_are_one_line_errors(
    arguments: dict[str, str], message: str
) -> None:
    with pytest.raises(ArgumentError) as caught:
        DailyArguments.parse(arguments, today=D(2026, 7, 31))
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def _requests_of(spider: DailySpider) -> list[Any]:
    return run_async(_requests(spider))


def _first(spider: DailySpider) -> dict[str, Any]:
    """The callback arguments of the spider's first request."""
    return dict(_requests_of(spider)[0].cb_kwargs)


# -- what a hostile review found ------------------------------------------------


def test_a_page_redirected_to_the_api_follows_the_api_pages_to_their_end() -> None:
    spider = make_spider(date="2026-03-11")  # the pages door
    page_url = "http://127.0.0.1:9/papers/date/2026-03-11"
    api_url = "http://127.0.0.1:9/api/daily_papers?date=2026-03-11&limit=100"
    redirect = HtmlResponse(
        url=page_url, status=302, headers={"Location": f"{api_url}&p=0"}, request=Request(page_url)
    )
    (follow,) = spider.parse(redirect, **_first(spider))
    entries = entries_of(D(2026, 3, 11), 130)
    (following,) = spider.parse(api_response(follow.url, entries[:100]), **follow.cb_kwargs)
    assert following.url == f"{api_url}&p=1" and following.cb_kwargs["page"] == 1
    (listing,) = spider.parse(api_response(following.url, entries[100:]), **following.cb_kwargs)
    assert (listing.outcome, len(listing.papers)) == ("served", 130)


def test_a_later_api_page_redirected_to_another_day_fails_the_listing() -> None:
    spider = make_spider(date="2026-03-09", source="api")
    base = "http://127.0.0.1:9/api/daily_papers?date=2026-03-09&limit=100"
    (following,) = spider.parse(
        api_response(f"{base}&p=0", entries_of(D(2026, 3, 9), 100)), **_first(spider)
    )
    away = TextResponse(
        url=following.url,
        status=302,
        headers={"Location": "/api/daily_papers?date=2026-03-10&limit=100&p=1"},
        request=following,
    )
    (listing,) = spider.parse(away, **following.cb_kwargs)
    assert (listing.outcome, listing.reason) == (
        "failed",
        "page 1 of the list redirects to 2026-03-10",
    )


def test_a_location_that_is_no_url_fails_the_day_in_one_line() -> None:
    spider = make_spider(date="2026-03-09")
    url = "http://127.0.0.1:9/papers/date/2026-03-09"
    broken = HtmlResponse(
        url=url, status=302, headers={"Location": "http://[::1"}, request=Request(url)
    )
    (listing,) = spider.parse(broken, requested=D(2026, 3, 9))
    assert listing.outcome == "failed" and listing.reason.startswith(
        "redirected to 'http://[::1', which is no URL"
    )
    assert "parse_errors" not in stats(spider)


def test_entries_that_say_no_day_are_the_requested_day_s_or_kept_out_of_a_week() -> None:
    from tests.support.sitegen import api_entries

    undated = api_entries()
    for entry in undated:
        del entry["paper"]["submittedOnDailyAt"]  # entry.publishedAt stays: the arXiv date
    spider = make_spider(date="2026-07-31", source="api")
    url = "http://127.0.0.1:9/api/daily_papers?date=2026-07-31&limit=100&p=0"
    (listing,) = spider.parse(api_response(url, undated), **_first(spider))
    assert listing.outcome == "served" and len(listing.papers) == 30
    assert {p["listing_date"] for p in listing.papers} == {D(2026, 7, 31)}
    assert all("submitted_at" not in p for p in listing.papers)
    spider = make_spider(week="2026-W31", source="api")
    url = "http://127.0.0.1:9/api/daily_papers?week=2026-W31&limit=100&p=0"
    (listing,) = spider.parse(api_response(url, undated), **_first(spider))
    assert listing.papers == [None] * 30 and len(listing.rejected) == 30
    assert listing.rejected[0].reason.endswith("says no day it entered the digest (2026-W31)")


def test_a_list_that_shifts_while_it_is_paged_keeps_each_paper_once_with_dense_ranks() -> None:
    spider = make_spider(date="2026-03-09", source="api")
    entries = entries_of(D(2026, 3, 9), 120)
    base = "http://127.0.0.1:9/api/daily_papers?date=2026-03-09&limit=100"
    (following,) = spider.parse(api_response(f"{base}&p=0", entries[:100]), **_first(spider))
    (listing,) = spider.parse(api_response(following.url, entries[50:]), **following.cb_kwargs)
    assert [p["arxiv_id"] for p in listing.papers] == [e["paper"]["id"] for e in entries]
    assert stats(spider)["api_repeats"] == 50


def test_period_day_is_the_default_and_goes_with_any_days() -> None:
    parsed = DailyArguments.parse({"period": "day", "date": "2026-07-31"}, today=D(2026, 7, 31))
    assert [p.key for p in parsed.listings_to_crawl()] == ["2026-07-31"]
