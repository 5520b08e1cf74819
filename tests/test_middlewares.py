"""The rate-limit middleware alone: what it asks of the downloader and of AutoThrottle."""

from __future__ import annotations

import logging
import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadFailedError
from scrapy.http import Response
from scrapy.settings import Settings
from service_identity import VerificationError
from service_identity.exceptions import DNSMismatch
from service_identity.hazmat import DNS_ID
from twisted.python.failure import Failure
from twisted.web.client import ResponseNeverReceived

from digest_crawler.middlewares import (
    AbsurdHeader,
    HubTokenMiddleware,
    RateLimited,
    RateLimitMiddleware,
    TlsMiddleware,
    parse_policy,
    parse_ratelimit,
    parse_retry_after,
)
from digest_crawler.spiders.daily import DailySpider
from tests.support.crawler import make_crawler, project_settings, run_async

POLICY = {"RateLimit-Policy": '"fixed window";"pages";q=100;w=300'}


def middleware() -> RateLimitMiddleware:
    return RateLimitMiddleware.from_crawler(make_crawler())


def test_a_published_policy_sets_the_pace_and_autothrottle_leaves_that_host_alone() -> None:
    limits = middleware()
    first = Request("https://huggingface.co/robots.txt")
    run_async(limits.process_request(first))
    assert "autothrottle_dont_adjust_delay" not in first.meta  # no policy known yet
    limits.response_downloaded(Response(first.url, headers=POLICY), first)
    assert limits.paces == {"huggingface.co": 300 / 100 * 1.02}
    page = Request("https://huggingface.co/papers/date/2026-07-31")
    run_async(limits.process_request(page))
    assert page.meta["autothrottle_dont_adjust_delay"] is True
    other = Request("https://example.org/papers/date/2026-07-31")
    run_async(limits.process_request(other))
    assert "autothrottle_dont_adjust_delay" not in other.meta  # another host: its own pace


def test_a_spent_budget_pauses_the_host_until_the_window_resets() -> None:
    limits = middleware()
    request = Request("https://huggingface.co/papers/date/2026-07-31")
    spent = Response(request.url, headers={"RateLimit": '"pages";r=0;t=42'})
    assert limits.process_response(request, spent) is spent
    assert limits.stats.get_value("digest/ratelimit_budget_spent") == 1
    assert 41 < limits.paused_until["huggingface.co"] - time.monotonic() <= 42


def test_a_429_waits_what_retry_after_says() -> None:
    limits = middleware()
    request = Request("https://huggingface.co/papers/date/2026-07-31")
    limited = Response(request.url, status=429, headers={"Retry-After": "300"})
    assert limits.process_response(request, limited) is limited  # retried by Scrapy
    wait = limits.paused_until["huggingface.co"] - time.monotonic()
    assert 299 < wait <= 300
    assert limits.stats.get_value("digest/ratelimit_status/429") == 1


@pytest.mark.parametrize(
    ("status", "headers", "asked"),
    [
        (429, {"Retry-After": "3600"}, "HTTP 429, and the site asks for a pause of 1 h 0 min"),
        (503, {"RateLimit": '"pages";r=0;t=999999'}, "a pause of 277 h 46 min"),
        (200, {"RateLimit": '"pages";r=0;t=301'}, "the RateLimit budget is spent, and"),
    ],
)
def test_a_pause_longer_than_any_run_waits_asks_that_bucket_no_more(
    status: int, headers: dict[str, str], asked: str
) -> None:
    """Capped at DIGEST_RATELIMIT_MAX_WAIT, a hostile Retry-After: 999999 kept
    a run going for days, one request (and its retries) every 300 s."""
    limits = middleware()
    request = Request("https://huggingface.co/papers/date/2026-07-31")
    answer = Response(request.url, status=status, headers=headers)
    if status == 200:  # an answer read, the budget spent: this one is read
        assert limits.process_response(request, answer) is answer
    else:  # an answer to retry: it is not
        with pytest.raises(RateLimited, match=re.escape(asked)):
            limits.process_response(request, answer)
    assert asked in limits.refused["huggingface.co"]
    assert limits.stats.get_value("digest/ratelimit_refused") == 1
    later = Request("https://huggingface.co/papers/date/2026-08-01")
    with pytest.raises(RateLimited, match=r"nothing more is asked of huggingface\.co in this run"):
        run_async(limits.process_request(later))
    # The API's calls are a bucket of their own: still asked.
    call = Request("https://huggingface.co/api/papers/2607.28618")
    assert run_async(limits.process_request(call)) is None


API_POLICY = {"RateLimit-Policy": '"fixed window";"api";q=500;w=300'}


def test_api_calls_are_a_bucket_of_their_own_with_the_api_pace() -> None:
    limits = middleware()
    page = Request("https://huggingface.co/papers/date/2026-07-31")
    call = Request("https://huggingface.co/api/daily_papers?date=2026-07-31&limit=100&p=0")
    run_async(limits.process_request(page))
    run_async(limits.process_request(call))
    assert "download_slot" not in page.meta  # the host's slot, as Scrapy names it
    assert call.meta["download_slot"] == "huggingface.co api"
    # AutoThrottle would hold the API to DOWNLOAD_DELAY, the pages' pace.
    assert call.meta["autothrottle_dont_adjust_delay"] is True
    limits.response_downloaded(Response(call.url, headers=API_POLICY), call)
    assert limits.paces == {"huggingface.co api": 300 / 500 * 1.02}
    # A 429 on the API pauses API calls only.
    limits.process_response(call, Response(call.url, status=429, headers={"Retry-After": "30"}))
    assert set(limits.paused_until) == {"huggingface.co api"}


@pytest.mark.parametrize(
    ("url", "meta", "sent"),
    [
        ("https://huggingface.co/api/daily_papers?date=2026-07-31", {}, True),
        ("https://huggingface.co:443/papers/date/2026-07-31", {}, True),
        ("http://huggingface.co/papers/date/2026-07-31", {}, False),  # plain HTTP
        ("https://huggingface.co.evil.example/papers", {}, False),
        ("https://mirror.example/api/daily_papers", {}, False),
        ("http://127.0.0.1:8080/api/daily_papers", {}, False),
        ("https://huggingface.co:8443/papers", {}, False),
        ("https://huggingface.co/papers/date/2026-07-30", {"digest_redirects": 1}, False),
        ("https://huggingface.co/robots.txt", {"dont_obey_robotstxt": True}, False),
        # A redirect Scrapy's own redirect middleware followed (robots.txt's).
        ("https://huggingface.co/x", {"redirect_urls": ["https://huggingface.co/y"]}, False),
    ],
)
def test_the_token_goes_to_the_site_s_own_host_first_hand_only(
    url: str, meta: dict[str, object], sent: bool
) -> None:
    tokens = HubTokenMiddleware("hf_secret")
    # A request built from another (a followed redirect) carries its headers.
    request = Request(url, meta=meta, headers={"Authorization": "Bearer hf_secret"})
    tokens.process_request(request)
    assert (request.headers.get("Authorization") == b"Bearer hf_secret") is sent


def test_the_token_is_the_setting_or_else_hf_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "from-env")
    assert HubTokenMiddleware.from_crawler(make_crawler()).token == "from-env"
    assert (
        HubTokenMiddleware.from_crawler(make_crawler(DIGEST_HF_TOKEN="from-setting")).token
        == "from-setting"
    )
    monkeypatch.delenv("HF_TOKEN")
    quiet = HubTokenMiddleware.from_crawler(make_crawler())
    request = Request("https://huggingface.co/papers/date/2026-07-31")
    quiet.process_request(request)
    assert quiet.token == "" and "Authorization" not in request.headers


def test_a_429_slows_the_api_for_its_retry_not_for_the_run() -> None:
    from types import SimpleNamespace

    from scrapy.core.downloader import Slot

    crawler = make_crawler()
    limits = RateLimitMiddleware.from_crawler(crawler)
    slot = Slot(1, 0.62, 0)
    crawler.crawling = True
    crawler.engine = SimpleNamespace(  # type: ignore[assignment]
        downloader=SimpleNamespace(slots={"huggingface.co api": slot}, per_slot_settings={})
    )
    call = Request("https://huggingface.co/api/daily_papers?date=2026-07-31&limit=100&p=0")
    run_async(limits.process_request(call))
    limits.process_response(call, Response(call.url, status=429))
    assert slot.delay == 1.24
    limits.process_response(call, Response(call.url, status=200))
    assert slot.delay == 0.62  # DIGEST_API_DELAY: no policy was published


def test_the_token_leaves_the_request_before_the_cache_or_a_retry_sees_it() -> None:
    """Placed after HttpCacheMiddleware (900), the header is on the request
    only while it is sent: the answer and the error coming back find it gone."""
    order = project_settings()["DOWNLOADER_MIDDLEWARES"]
    assert order["digest_crawler.middlewares.HubTokenMiddleware"] > 900  # HttpCacheMiddleware
    tokens = HubTokenMiddleware("hf_secret")
    for comes_back in (
        lambda request: tokens.process_response(request, Response(request.url)),
        lambda request: tokens.process_exception(request, TimeoutError()),
    ):
        request = Request("https://huggingface.co/papers/date/2026-07-31")
        tokens.process_request(request)
        assert request.headers["Authorization"] == b"Bearer hf_secret"
        comes_back(request)
        assert "Authorization" not in request.headers


def test_no_token_goes_where_certificates_are_not_checked(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    crawler = make_crawler(DOWNLOAD_VERIFY_CERTIFICATES=False)
    assert HubTokenMiddleware.from_crawler(crawler).token == ""
    with caplog.at_level(logging.WARNING):
        TlsMiddleware.from_crawler(crawler)
    assert "DOWNLOAD_VERIFY_CERTIFICATES is off" in caplog.text and "hf_secret" not in caplog.text


def test_a_token_given_on_the_command_line_is_warned_of_and_never_shown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        HubTokenMiddleware.from_crawler(make_crawler(DIGEST_HF_TOKEN="hf_onthecommandline"))
    assert caplog.text == ""  # a project setting (settings.py): no process list shows it
    settings = Settings(project_settings())
    settings.set("DIGEST_HF_TOKEN", "hf_onthecommandline", priority="cmdline")  # -s NAME=VALUE
    crawler = Crawler(DailySpider, settings)
    with caplog.at_level(logging.WARNING):
        assert HubTokenMiddleware.from_crawler(crawler).token == "hf_onthecommandline"
    (record,) = caplog.records
    assert "process list (ps)" in record.getMessage() and "HF_TOKEN" in record.getMessage()
    assert "hf_onthecommandline" not in caplog.text


def test_a_certificate_that_fails_is_counted_and_not_retried() -> None:
    crawler = make_crawler()
    assert crawler.stats is not None
    tls = TlsMiddleware.from_crawler(crawler)
    mismatch = VerificationError(errors=[DNSMismatch(mismatched_id=DNS_ID("huggingface.co"))])
    error = DownloadFailedError("handshake")
    error.__cause__ = ResponseNeverReceived([Failure(mismatch)])
    request = Request("https://huggingface.co/papers/date/2026-07-31")
    tls.process_exception(request, error)  # returns nothing: the retry middleware gets it next
    assert request.meta["dont_retry"] is True
    assert crawler.stats.get_value("digest/tls_errors") == 1
    refused = Request("https://huggingface.co/papers/date/2026-07-31")
    tls.process_exception(refused, DownloadFailedError("Connection was refused"))
    assert "dont_retry" not in refused.meta  # another error: retried as before


@given(st.text(max_size=60) | st.from_regex(r'"pages";r=-?[0-9\u0660-\u0669.²e]{0,30};t=.{0,30}'))
def test_a_rate_limit_header_reads_as_a_bounded_number_or_is_refused(value: str) -> None:
    """Any text: a number of at most 9 digits, or AbsurdHeader (which the
    middleware ignores and counts), never another error."""
    for parse in (parse_ratelimit, parse_policy, parse_retry_after):
        try:
            found = parse(value)
        except AbsurdHeader:
            continue
        numbers = found if isinstance(found, tuple) else (found,)
        assert all(n is None or 0 <= n < 10**9 or parse is parse_retry_after for n in numbers)


@pytest.mark.parametrize(
    "date",
    [
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "Mon, 01 Jan 0001 00:00:00 GMT",
        "Thu, 26 Nov 2026 06:00:30 +9999",
    ],
)
def test_a_retry_after_date_far_off_is_refused_or_ignored(date: str) -> None:
    limits = middleware()
    request = Request("https://huggingface.co/papers/date/2026-07-31")
    try:
        limits.process_response(
            request, Response(request.url, status=429, headers={"Retry-After": date})
        )
    except RateLimited:
        assert "huggingface.co" in limits.refused
    wait = limits.paused_until.get("huggingface.co", time.monotonic()) - time.monotonic()
    assert wait <= 300  # never a wait longer than DIGEST_RATELIMIT_MAX_WAIT


def test_a_5000_digit_rate_limit_is_ignored_and_counted_not_a_failed_day() -> None:
    crawler = make_crawler()
    assert crawler.stats is not None
    limits = RateLimitMiddleware.from_crawler(crawler)
    request = Request("https://huggingface.co/papers/date/2026-07-31")
    huge = "9" * 5000
    answer = Response(
        request.url,
        headers=[
            ("RateLimit", f'"pages";r=0;t={huge}'),
            ("RateLimit-Policy", f'"fixed window";"pages";q={huge};w=300'),
        ],
    )
    assert limits.process_response(request, answer) is answer
    limits.response_downloaded(answer, request)
    assert crawler.stats.get_value("digest/ratelimit_ignored") == 2
    assert limits.paused_until == {} and limits.paces == {}
