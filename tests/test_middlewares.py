"""The rate-limit middleware alone: what it asks of the downloader and of AutoThrottle."""

from __future__ import annotations

import asyncio
import time

from scrapy import Request
from scrapy.http import Response

from digest_crawler.middlewares import RateLimitMiddleware
from tests.support.crawler import make_crawler

POLICY = {"RateLimit-Policy": '"fixed window";"pages";q=100;w=300'}


def middleware() -> RateLimitMiddleware:
    return RateLimitMiddleware.from_crawler(make_crawler())


def test_a_published_policy_sets_the_pace_and_autothrottle_leaves_that_host_alone() -> None:
    limits = middleware()
    first = Request("https://huggingface.co/robots.txt")
    asyncio.run(limits.process_request(first))
    assert "autothrottle_dont_adjust_delay" not in first.meta  # no policy known yet
    limits.response_downloaded(Response(first.url, headers=POLICY), first)
    assert limits.paces == {"huggingface.co": 300 / 100 * 1.02}
    page = Request("https://huggingface.co/papers/date/2026-07-31")
    asyncio.run(limits.process_request(page))
    assert page.meta["autothrottle_dont_adjust_delay"] is True
    other = Request("https://example.org/papers/date/2026-07-31")
    asyncio.run(limits.process_request(other))
    assert "autothrottle_dont_adjust_delay" not in other.meta  # another host: its own pace


def test_a_spent_budget_pauses_the_host_until_the_window_resets() -> None:
    limits = middleware()
    request = Request("https://huggingface.co/papers/date/2026-07-31")
    spent = Response(request.url, headers={"RateLimit": '"pages";r=0;t=42'})
    assert limits.process_response(request, spent) is spent
    assert limits.stats.get_value("digest/ratelimit_budget_spent") == 1
    assert 41 < limits.paused_until["huggingface.co"] - time.monotonic() <= 42


def test_a_429_waits_what_retry_after_says_capped() -> None:
    limits = middleware()
    request = Request("https://huggingface.co/papers/date/2026-07-31")
    limited = Response(request.url, status=429, headers={"Retry-After": "3600"})
    limits.process_response(request, limited)
    wait = limits.paused_until["huggingface.co"] - time.monotonic()
    assert 299 < wait <= 300  # DIGEST_RATELIMIT_MAX_WAIT
    assert limits.stats.get_value("digest/ratelimit_status/429") == 1
