"""The spider as a coordinator: which listings it asks for and in what
order, what it makes of a fetch that failed, and where the reading's counts
and log lines go. The reading rules are tested in tests/site/test_reading.py."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from digest_crawler.items import Listing
from digest_crawler.spiders.daily import DailySpider
from tests.conftest import FIXTURES
from tests.support.crawler import make_crawler, make_spider, run_async

D = dt.date
BASE = "http://127.0.0.1:9"


def stats(spider: DailySpider) -> dict[str, Any]:
    assert spider.crawler.stats is not None
    return {
        k.removeprefix("digest/"): v
        for k, v in spider.crawler.stats.get_stats().items()
        if k.startswith("digest/")
    }


async def _requests(spider: DailySpider) -> list[Any]:
    return [request async for request in spider.start()]


def requests_of(spider: DailySpider) -> list[Any]:
    return run_async(_requests(spider))


def answer(request: Request, fixture: str) -> HtmlResponse:
    return HtmlResponse(
        url=request.url,
        body=(FIXTURES / fixture).read_bytes(),
        encoding="utf-8",
        request=request,
    )


def test_start_requests_the_first_listing_from_the_base_url() -> None:
    spider = make_spider(date="2026-03-09")
    (request,) = requests_of(spider)
    assert request.url == f"{BASE}/papers/date/2026-03-09"
    assert request.cb_kwargs["reader"].period.key == "2026-03-09"
    assert request.dont_filter and request.meta["dont_redirect"]
    assert stats(spider) == {"listings_requested": 1, "listings_to_fetch": 1}


def test_the_api_door_asks_the_api() -> None:
    (request,) = requests_of(make_spider(week="2026-W31", source="api"))
    assert request.url == f"{BASE}/api/daily_papers?week=2026-W31&limit=100&p=0"


def test_days_the_ledger_says_are_done_are_not_requested() -> None:
    spider = make_spider(start="2026-03-01", end="2026-03-03")
    spider.done.update({D(2026, 3, 1), D(2026, 3, 2)})  # what the storage pipeline puts there
    (request,) = requests_of(spider)
    assert request.url == f"{BASE}/papers/date/2026-03-03"
    assert stats(spider)["listings_requested"] == 3 and stats(spider)["listings_to_fetch"] == 1


def test_each_listing_is_asked_for_when_the_one_before_is_read(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    spider = make_spider(start="2026-07-30", end="2026-07-31")
    (first,) = requests_of(spider)
    listing, following = spider.parse(answer(first, "listing-2026-07-31.html"), **first.cb_kwargs)
    assert isinstance(listing, Listing) and listing.outcome == "no_digest"
    assert following.url == f"{BASE}/papers/date/2026-07-31"
    listing, asked = spider.parse(
        answer(following, "listing-2026-07-31.html"), **following.cb_kwargs
    )
    assert (listing.outcome, len(listing.papers)) == ("served", 30)
    # Then what cites its papers, one call at a time (no listing is left to ask).
    assert asked.url == f"{BASE}/api/papers/{listing.papers[0]['arxiv_id']}"
    # The reading's counts are the crawl's stats, its lines the spider's log.
    assert stats(spider)["no_digest_listings"] == 1 and stats(spider)["papers_seen"] == 30
    assert "No digest for 2026-07-30: the site served the day of 2026-07-31" in caplog.text
    assert spider.newest == D(2026, 7, 31)


def test_a_callback_error_fails_its_listing_and_the_next_is_still_requested(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spider = make_spider(start="2026-03-01", end="2026-03-02")
    (first,) = requests_of(spider)

    def broken(*args: Any) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("digest_crawler.site.reading.parse_listing", broken)
    listing, following = spider.parse(answer(first, "listing-2026-07-31.html"), **first.cb_kwargs)
    assert (listing.outcome, listing.reason) == (
        "failed",
        "RecursionError: maximum recursion depth exceeded",
    )
    assert following.url == f"{BASE}/papers/date/2026-03-02"
    assert stats(spider)["parse_errors"] == 1
    assert stats(spider)["first_failure"] == (
        "2026-03-01: RecursionError: maximum recursion depth exceeded"
    )


def test_a_followed_redirect_carries_its_mark_and_the_same_reader() -> None:
    spider = make_spider(date="2026-03-09")
    (first,) = requests_of(spider)
    moved = HtmlResponse(
        url=first.url,
        status=301,
        headers={"Location": "/mirror/papers/date/2026-03-09"},
        request=first,
    )
    (follow,) = spider.parse(moved, **first.cb_kwargs)
    assert follow.url == f"{BASE}/mirror/papers/date/2026-03-09"
    assert follow.meta["digest_redirects"] == 1
    assert follow.cb_kwargs["reader"] is first.cb_kwargs["reader"]


def test_a_redirect_to_a_url_scrapy_would_drop_for_its_length_fails_its_listing() -> None:
    """Scrapy's UrlLengthMiddleware drops a request over URLLENGTH_LIMIT
    (2,083 characters) without a word: the listing would be neither read
    nor failed, and no later listing of the run asked for."""
    spider = make_spider(start="2026-03-01", end="2026-03-02")
    (first,) = requests_of(spider)
    location = "/papers/date/2026-03-01?" + "x" * 3000
    moved = HtmlResponse(url=first.url, status=302, headers={"Location": location}, request=first)
    listing, following = spider.parse(moved, **first.cb_kwargs)
    assert (listing.outcome, listing.url) == ("failed", first.url)
    assert (listing.reason or "").startswith(
        "redirected to a URL that is 3,042 characters long, more than URLLENGTH_LIMIT (2,083):"
        " 'http://127.0.0.1:9/papers/date/2026-03-01?xxx"
    )
    assert len(listing.reason or "") < 400  # the URL quoted short
    assert following.url == f"{BASE}/papers/date/2026-03-02"


def test_a_base_url_too_long_for_scrapy_fails_each_listing_and_asks_for_none() -> None:
    crawler = make_crawler(DIGEST_BASE_URL=f"{BASE}/{'m' * 2100}")
    spider = DailySpider.from_crawler(crawler, start="2026-03-01", end="2026-03-03")
    found = requests_of(spider)
    assert [type(item) for item in found] == [Listing] * 3
    assert all(item.outcome == "failed" for item in found if isinstance(item, Listing))
    assert stats(spider)["first_failure"].startswith(
        "2026-03-01: the URL to ask is 2,142 characters long, more than URLLENGTH_LIMIT (2,083)"
    )


@pytest.mark.parametrize(("status", "reason"), [(500, "HTTP 500 after retries"), (404, "HTTP 404")])
def test_a_fetch_that_failed_fails_its_listing_and_the_next_is_still_requested(
    status: int, reason: str
) -> None:
    spider = make_spider(start="2026-03-01", end="2026-03-02")
    (first,) = requests_of(spider)
    failure = Failure(HttpError(TextResponse(url=first.url, status=status, request=first)))
    failure.request = first  # type: ignore[attr-defined]
    listing, following = spider.failed(failure)
    assert (listing.outcome, listing.reason) == ("failed", reason)
    assert following.url == f"{BASE}/papers/date/2026-03-02"
    assert stats(spider)["failed_pages"] == 1


def test_scrapy_parse_reads_the_listing_its_url_names() -> None:
    spider = make_spider(date="2026-03-09")
    url = f"{BASE}/papers/date/2026-07-31"
    (listing,) = spider.parse(answer(Request(url), "listing-2026-07-31.html"))
    assert (listing.outcome, listing.day) == ("served", D(2026, 7, 31))
    with pytest.raises(ValueError, match="names no listing"):
        list(spider.parse(answer(Request(f"{BASE}/papers"), "listing-2026-07-31.html")))


@pytest.mark.parametrize(("today", "stale"), [("2026-08-05", True), ("2026-08-04", False)])
def test_a_run_that_reads_today_notices_a_stalled_site(
    today: str, stale: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """Today's listing answered with the digest of 2026-07-31: 5 days old is
    more than DIGEST_STALE_DAYS (4), 4 days is not."""
    crawler = make_crawler(DIGEST_BASE_URL=BASE, DIGEST_TODAY=today)
    spider = DailySpider.from_crawler(crawler, refresh="0")
    (request,) = requests_of(spider)  # the run's own plan: today's listing
    listing, *_ = request.callback(answer(request, "listing-2026-07-31.html"), **request.cb_kwargs)
    assert listing.outcome == "no_digest" and spider.newest == D(2026, 7, 31)
    spider.closed("finished")
    assert ("stale_days" in stats(spider)) is stale
    assert ("has served nothing new since 2026-07-31" in caplog.text) is stale


@pytest.mark.parametrize("stop", ["before today", "today failed"])
def test_a_run_that_did_not_read_today_judges_no_staleness(
    stop: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A backfill stopped (Ctrl-C) after its old days, or whose read of
    today failed, said "nothing new from the site for 130 days" of the days
    it never read."""
    crawler = make_crawler(DIGEST_BASE_URL=BASE, DIGEST_TODAY="2026-08-05")
    spider = DailySpider.from_crawler(crawler, refresh="0,5")
    (first,) = requests_of(spider)
    listing, today, *_ = first.callback(answer(first, "listing-2026-07-31.html"), **first.cb_kwargs)
    assert listing.outcome == "served" and spider.newest == D(2026, 7, 31)
    assert today.url == f"{BASE}/papers/date/2026-08-05"
    if stop == "today failed":
        failure = Failure(HttpError(TextResponse(url=today.url, status=404, request=today)))
        failure.request = today  # type: ignore[attr-defined]
        (failed, *_) = spider.failed(failure)
        assert failed.outcome == "failed"
    spider.closed("shutdown" if stop == "before today" else "finished")
    assert "stale_days" not in stats(spider) and "served nothing new" not in caplog.text


def test_a_run_that_does_not_follow_its_plan_judges_no_staleness(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """scrapy parse replaces start() with its one URL: an old day read that
    way said "The site has served nothing new since ..." (and exit 1 in a crawl)."""
    crawler = make_crawler(DIGEST_BASE_URL=BASE, DIGEST_TODAY="2026-07-31")
    spider = DailySpider.from_crawler(crawler, refresh="0")
    (listing,) = spider.parse(
        answer(Request(f"{BASE}/papers/date/2026-03-09"), "listing-2026-03-09.html")
    )
    assert listing.outcome == "served" and spider.newest == D(2026, 3, 9)
    spider.closed("finished")
    assert "stale_days" not in stats(spider) and "served nothing new" not in caplog.text


@pytest.mark.parametrize("stop", ["failures in a row", "rate limited"])
def test_the_hub_s_calls_stop_for_the_run_when_it_refuses_them(stop: str) -> None:
    """Each call may cost minutes of waits and retries: a Hub that fails 3
    in a row, or asks for a pause longer than any run waits, is asked no
    more in this run; the papers left stay due (counted, exit 1)."""
    from digest_crawler.middlewares import RateLimited
    from digest_crawler.spiders.daily import ADOPTION_FAILURES_IN_A_ROW

    spider = make_spider(date="2026-07-31")
    spider.adoption_due = [f"2607.{n:05d}" for n in range(1, 11)]
    _, asked = requests_of(spider)
    failures = ADOPTION_FAILURES_IN_A_ROW if stop == "failures in a row" else 1
    for n in range(failures):
        if stop == "rate limited":
            error: Exception = RateLimited(
                "HTTP 429, and the site asks for a pause of 277 h 46 min"
            )
        else:
            error = HttpError(TextResponse(url=asked.url, status=500, request=asked))
        failure = Failure(error)
        failure.request = asked  # type: ignore[attr-defined]
        read, *following = spider.adoption_failed(failure)
        assert read.outcome == "failed"
        if n < failures - 1:
            (asked,) = following
    assert following == []  # no further call
    assert list(spider._next_adoption()) == []
    spider.closed("finished")
    assert stats(spider)["adoption_failed"] == failures
    assert stats(spider)["adoption_left"] == 10 - failures


def test_a_redirect_from_the_hub_is_rejected_not_followed() -> None:
    """Followed, another port's counts were stored as the paper's."""
    spider = make_spider(date="2026-07-31")
    spider.adoption_due = ["2607.00001"]
    _, due = requests_of(spider)
    moved = TextResponse(
        url=due.url,
        status=302,
        headers={"Location": "http://127.0.0.1:8/api/papers/2607.00001"},
        request=due,
    )
    read, *_ = spider.parse_adoption(moved, **due.cb_kwargs)
    assert (read.outcome, read.reason) == ("rejected", "HTTP 302")


def test_what_cites_each_paper_is_asked_one_call_at_a_time() -> None:
    """A served listing's papers are asked for in list order, each call
    when the one before is answered, a failed call (after retries) as
    much as a read one; the papers due from earlier runs first."""
    from digest_crawler.items import Adoption
    from tests.support.sitegen import api_entries, paper_answer

    spider = make_spider(date="2026-07-31")
    spider.adoption_due = ["2607.00001"]
    first, due = requests_of(spider)
    assert due.url == f"{BASE}/api/papers/2607.00001"
    # A 404 is an answer; so is a redirect, not followed (it is rejected).
    assert due.meta["handle_httpstatus_list"] == [404, 301, 302, 303, 307, 308]
    assert due.meta["dont_redirect"] is True
    listing, *nothing = spider.parse(answer(first, "listing-2026-07-31.html"), **first.cb_kwargs)
    # A call is under way: the listing's papers wait their turn.
    assert isinstance(listing, Listing) and nothing == []
    missing = TextResponse(url=due.url, status=404, body=b"{}", request=due)
    read, asked = spider.parse_adoption(missing, **due.cb_kwargs)
    assert isinstance(read, Adoption) and read.outcome == "not_indexed"
    entries = api_entries()
    assert asked.url == f"{BASE}/api/papers/{entries[0]['paper']['id']}"
    body = paper_answer(entries[0], 3, 1, 0)
    found = TextResponse(url=asked.url, body=body, encoding="utf-8", request=asked)
    read, asked = spider.parse_adoption(found, **asked.cb_kwargs)
    assert (read.outcome, read.counts["linked_models"]) == ("read", 3)
    error = HttpError(TextResponse(url=asked.url, status=500, request=asked))
    failure = Failure(error)
    failure.request = asked  # type: ignore[attr-defined]
    read, asked = spider.adoption_failed(failure)
    assert (read.outcome, read.reason) == ("failed", "HTTP 500 after retries")
    assert asked.url == f"{BASE}/api/papers/{entries[2]['paper']['id']}"
    assert stats(spider)["adoption_failed"] == 1
    assert stats(spider)["adoption_read"] == stats(spider)["adoption_not_indexed"] == 1
