"""Downloader middleware that keeps the crawl inside the site's rate limit.

The site counts page requests in fixed windows and answers over-limit
requests with 429, ``Retry-After`` and ``RateLimit: "pages";r=<remaining>;
t=<seconds to reset>``. Scrapy's retry middleware retries a 429 at once and
reads neither header. This one, placed before it:

- on 429/503 waits what ``Retry-After`` (seconds or an HTTP date) or
  ``RateLimit``'s ``t`` says before any further request to that host (the
  retry included), and doubles the host's download delay (AutoThrottle
  brings it back down);
- a pause asked longer than ``DIGEST_RATELIMIT_MAX_WAIT`` is one no run
  waits out: ``RateLimited`` for that request (not retried) and every
  later one to its bucket in the run;
- on any answer whose ``RateLimit`` says the budget is spent (``r=0``),
  pauses the host until the window resets instead of drawing a 429;
- when the site publishes its policy (``RateLimit-Policy: "fixed window";
  "pages";q=<quota>;w=<window seconds>``), paces requests to that host at
  the published rate (``w/q``, plus ``DIGEST_RATELIMIT_MARGIN``), in place
  of ``DOWNLOAD_DELAY`` and AutoThrottle's guess: never faster than the site
  allows, and no slower than it needs to be.

The site counts API calls (``/api/...``) in a bucket of their own (500 per
window, five times the pages'): they go through a download slot of their
own (``<host> api``), paced at ``DIGEST_API_DELAY`` until an answer
publishes the API's policy, and paused and slowed apart from the pages.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import logging
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.statscollectors import StatsCollector
from scrapy.utils.httpobj import urlparse_cached

from digest_crawler.addon import api_slot
from digest_crawler.config import Config
from digest_crawler.tls import tls_failure
from digest_crawler.words import duration

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: ``;name=value`` parameters of a structured header (RFC 8941 items).
_PARAMETER = re.compile(r";\s*([A-Za-z][A-Za-z0-9_.*-]*)\s*=\s*([^;,]*)")
#: A number a header may hold: whole, ASCII, at most 9 digits (under 32
#: years in seconds). More is absurd, as are a sign, a fraction or a digit
#: of another script ("²", "٣"): such a header is ignored.
_WHOLE = re.compile(r"[0-9]{1,9}")


class RateLimited(IgnoreRequest):
    """The site asked for a pause longer than ``DIGEST_RATELIMIT_MAX_WAIT``:
    no more requests go to that bucket in this run (what is left is the
    next run's); the request that met it is not retried."""


class AbsurdHeader(ValueError):
    """A rate-limit header that holds what no site means: it is ignored
    (``digest/ratelimit_ignored``), never an error of the crawl."""


def _whole(name: str, value: str) -> int:
    value = value.strip()
    if not _WHOLE.fullmatch(value):
        shown = value if len(value) <= 20 else f"{value[:20]}... ({len(value)} characters)"
        raise AbsurdHeader(f"{name}={shown!r} is not a whole number of at most 9 digits")
    return int(value)


def _parameters(value: str, names: str) -> dict[str, int]:
    """The ``names`` parameters of a structured header, as numbers (a
    repeated one: its last value, as RFC 8941 reads it).

    >>> _parameters('"pages";r=0;t=42', "rt")
    {'r': 0, 't': 42}
    >>> _parameters('"pages";r=1;r=0', "rt")
    {'r': 0}
    >>> _parameters('"pages";r=0;t=' + "9" * 5000, "rt")
    Traceback (most recent call last):
    digest_crawler.middlewares.AbsurdHeader: t='99999999999999999999... (5000 characters)' is not a whole number of at most 9 digits
    """
    return {
        name: _whole(name, found)
        for name, found in _PARAMETER.findall(value)
        if name in names and len(name) == 1
    }


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (seconds or an HTTP
    date; a date past is no wait); ``AbsurdHeader`` for anything else.

    >>> parse_retry_after("2")
    2.0
    >>> parse_retry_after("Thu, 26 Nov 2026 06:00:30 GMT",
    ...                   now=dt.datetime(2026, 11, 26, 6, 0, tzinfo=dt.UTC))
    30.0
    >>> parse_retry_after("soon")
    Traceback (most recent call last):
    digest_crawler.middlewares.AbsurdHeader: Retry-After: 'soon' is neither seconds nor an HTTP date
    """
    if not value or not value.strip():
        return None
    value = value.strip()
    if value[:1].isdigit() or value[:1] in "+-.":
        return float(_whole("Retry-After", value))  # not "²": isdigit() alone takes it
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        shown = value if len(value) <= 40 else f"{value[:40]}..."
        raise AbsurdHeader(f"Retry-After: {shown!r} is neither seconds nor an HTTP date") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        wait = (moment - (now or dt.datetime.now(dt.UTC))).total_seconds()
    except OverflowError:  # a date no calendar arithmetic reaches
        raise AbsurdHeader(f"Retry-After: {value[:40]!r} is out of range") from None
    return max(0.0, wait)


def parse_policy(value: str | None) -> tuple[int, float] | None:
    """(quota, window seconds) from a ``RateLimit-Policy`` header; ``None``
    when it names no quota; ``AbsurdHeader`` when a number is absurd.

    >>> parse_policy('"fixed window";"pages";q=100;w=300')
    (100, 300.0)
    >>> parse_policy('"fixed window";"pages"') is None
    True
    """
    if not value:
        return None
    parameters = _parameters(value, "qw")
    if "q" not in parameters or "w" not in parameters or parameters["q"] == 0:
        return None
    return parameters["q"], float(parameters["w"])


def parse_ratelimit(value: str | None) -> tuple[int | None, float | None]:
    """(remaining, seconds to reset) from a ``RateLimit`` header;
    ``AbsurdHeader`` when a number is absurd.

    >>> parse_ratelimit('"pages";r=0;t=42')
    (0, 42.0)
    >>> parse_ratelimit(None)
    (None, None)
    """
    if not value:
        return None, None
    parameters = _parameters(value, "rt")
    reset = parameters.get("t")
    return parameters.get("r"), float(reset) if reset is not None else None


class RateLimitMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        assert crawler.stats is not None
        self.crawler = crawler
        self.stats: StatsCollector = crawler.stats
        config = Config.from_settings(crawler.settings)
        self.max_wait = config.ratelimit_max_wait
        self.statuses = config.ratelimit_statuses
        self.margin = config.ratelimit_margin
        self.api_delay = config.api_delay
        self.max_delay = crawler.settings.getfloat("AUTOTHROTTLE_MAX_DELAY")
        # Keyed by bucket (a host's pages, or "<host> api": its API calls):
        # time.monotonic() before which nothing is sent to it
        self.paused_until: dict[str, float] = {}
        # seconds between requests, from its published RateLimit-Policy
        self.paces: dict[str, float] = {}
        # headers found absurd once: said once a run
        self.ignored: set[str] = set()
        # buckets the site asked to leave alone longer than max_wait: why
        self.refused: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RateLimitMiddleware:
        middleware = cls(crawler)
        # The pace is set as soon as an answer arrives, before the next
        # request enters the slot: robots.txt's answer already sets it.
        crawler.signals.connect(middleware.response_downloaded, signal=signals.response_downloaded)
        return middleware

    def response_downloaded(self, response: Response, request: Request, spider: Any = None) -> None:
        policy = self._read(parse_policy, response, "RateLimit-Policy")
        if policy is not None:
            self._pace(request, policy)

    async def process_request(self, request: Request, spider: Any = None) -> None:
        bucket = _bucket(request)
        if bucket in self.refused:
            raise RateLimited(self.refused[bucket])
        if _api_call(request):
            # An API call: a download slot of its own (its delay is
            # DIGEST_API_DELAY: DOWNLOAD_SLOTS, from the add-on), paced at the
            # API's budget (AutoThrottle would hold it to DOWNLOAD_DELAY, the pages').
            request.meta.setdefault("download_slot", bucket)
            request.meta["autothrottle_dont_adjust_delay"] = True
        if bucket in self.paces:
            # The site's published pace sets this slot's delay: AutoThrottle
            # leaves it alone (its documented per-request switch).
            request.meta["autothrottle_dont_adjust_delay"] = True
        wait = self.paused_until.get(bucket, 0.0) - time.monotonic()
        if wait > 0:
            self.stats.inc_value("digest/ratelimit_waits")
            await asyncio.sleep(wait)

    def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Response:
        remaining, reset = self._read(parse_ratelimit, response, "RateLimit") or (None, None)
        if response.status in self.statuses:
            wait = self._read(parse_retry_after, response, "Retry-After")
            if wait is None:
                wait = reset
            self.stats.inc_value(f"digest/ratelimit_status/{response.status}")
            self._slow_down(request)
            if wait is not None and wait > self.max_wait:
                raise self._refuse(request, wait, f"HTTP {response.status}")
            if wait is not None:
                self._pause(request, wait, f"HTTP {response.status}")
        else:
            if remaining == 0 and reset is not None:
                self.stats.inc_value("digest/ratelimit_budget_spent")
                if reset > self.max_wait:  # (this answer is read; no other is asked)
                    self._refuse(request, reset, "the RateLimit budget is spent")
                else:
                    self._pause(request, reset, "the RateLimit budget is spent")
            self._recover(request)
        return response

    def _refuse(self, request: Request, seconds: float, why: str) -> RateLimited:
        """The bucket of ``request`` is asked no more this run: the site
        wants a pause longer than any run waits (a hostile mirror's
        ``Retry-After: 999999`` kept a run going for days, a request every
        ``max_wait``). Logged and counted once a bucket."""
        bucket = _bucket(request)
        if bucket not in self.refused:
            self.refused[bucket] = (
                f"{why}, and the site asks for a pause of {duration(seconds)}, longer than"
                f" DIGEST_RATELIMIT_MAX_WAIT ({self.max_wait:g} s): nothing more is asked"
                f" of {bucket} in this run"
            )
            self.stats.inc_value("digest/ratelimit_refused")
            logger.error("%s (at %s)", self.refused[bucket], request.url)
        return RateLimited(self.refused[bucket])

    def _read(self, parse: Callable[[str | None], T], response: Response, name: str) -> T | None:
        """What ``parse`` reads from the ``name`` header; ``None`` for an
        absurd one, which is counted and said once a run (a hostile mirror
        may send it on every answer)."""
        try:
            return parse(_header(response, name))
        except AbsurdHeader as exc:
            self.stats.inc_value("digest/ratelimit_ignored")
            level = logging.DEBUG if name in self.ignored else logging.WARNING
            self.ignored.add(name)
            logger.log(level, "Ignored the %s header of %s: %s", name, response.url, exc)
            return None

    def _pace(self, request: Request, policy: tuple[int, float]) -> None:
        quota, window = policy
        pace = window / quota * (1 + self.margin)
        if not pace <= self.max_wait:  # an absurd policy (or NaN) must not stall the crawl
            logger.warning(
                "RateLimit-Policy for %s asks for %.3g s between requests; pacing at"
                " DIGEST_RATELIMIT_MAX_WAIT (%.1f s)",
                _bucket(request),
                pace,
                self.max_wait,
            )
            pace = self.max_wait
        self.paces[_bucket(request)] = pace
        slot = self._slot(request)
        if slot is not None:
            slot.delay = pace
        self.stats.set_value("digest/ratelimit_pace", round(pace, 3))

    def _pause(self, request: Request, seconds: float, why: str) -> None:
        """(``seconds`` is at most ``max_wait``: a longer pause is ``_refuse``'s.)"""
        bucket = _bucket(request)
        until = time.monotonic() + seconds
        if until > self.paused_until.get(bucket, 0.0):
            self.paused_until[bucket] = until
            logger.warning(
                "%s for %s: pausing requests to %s for %.1f s", why, request.url, bucket, seconds
            )

    def _recover(self, request: Request) -> None:
        """After an answer that is not over the limit, a bucket AutoThrottle
        leaves alone (the API's, or one with a published policy) goes back
        to its pace: a 429 slows it down for the retry, not for the run."""
        bucket = _bucket(request)
        pace = self.paces.get(bucket, self.api_delay if _api_call(request) else None)
        slot = self._slot(request)
        if pace is not None and slot is not None and slot.delay > pace:
            slot.delay = pace

    def _slow_down(self, request: Request) -> None:
        slot = self._slot(request)
        if slot is not None:
            slot.delay = min(max(slot.delay * 2, 1.0), self.max_delay)

    def _slot(self, request: Request) -> Any:
        downloader = self._downloader()
        return downloader.slots.get(request.meta.get("download_slot", "")) if downloader else None

    def _downloader(self) -> Any:
        return self.crawler.engine.downloader if self.crawler.crawling else None


class TlsMiddleware:
    """A certificate that fails its check (``digest_crawler.tls``) is not
    retried: it would fail again, and each retry costs the whole backoff.
    Counted in ``digest/tls_errors``; the listing fails with the reason
    (``tls.tls_failure``). Placed after RetryMiddleware (550), so that it
    sees the error first."""

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TlsMiddleware:
        assert crawler.stats is not None
        if not crawler.settings.getbool("DOWNLOAD_VERIFY_CERTIFICATES"):
            logger.warning(
                "DOWNLOAD_VERIFY_CERTIFICATES is off: the certificates of https answers"
                " are not checked, and no token is sent"
            )
        return cls(crawler.stats)

    def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> None:
        if tls_failure(exception) is not None:
            self.stats.inc_value("digest/tls_errors")
            request.meta["dont_retry"] = True


#: The site whose own host gets the token (never a mirror's).
HUB_HOST = "huggingface.co"


class HubTokenMiddleware:
    """Sends a Hugging Face token, which raises the site's budgets (a free
    account: 200 pages and 1,000 API calls per window), as ``Authorization:
    Bearer`` to the site's own host only.

    The token is ``DIGEST_HF_TOKEN``, or else the ``HF_TOKEN`` environment
    variable. It goes only to ``https://huggingface.co`` (never to a mirror
    named by ``DIGEST_BASE_URL`` on another host, never over plain HTTP),
    never with a request that follows a redirect, nor robots.txt's, nor when
    certificates are not checked (``DOWNLOAD_VERIFY_CERTIFICATES`` off); it
    is neither logged nor stored.

    It is placed after HttpCacheMiddleware (900): the header is added to the
    request last, just before it is sent, and taken off it again first,
    when its answer (or its error) comes back, before the cache stores the
    request's headers with the answer (or the retry middleware copies it).
    The pacing follows the budget the answers publish (``RateLimitMiddleware``).
    """

    def __init__(self, token: str) -> None:
        self.token = token

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HubTokenMiddleware:
        token = Config.from_settings(crawler.settings).hf_token.get_secret_value().strip()
        if (
            token
            and crawler.settings.getpriority("DIGEST_HF_TOKEN") == SETTINGS_PRIORITIES["cmdline"]
        ):
            # Scrapyd passes its setting= fields on the command line too.
            logger.warning(
                "DIGEST_HF_TOKEN was given on the command line: it shows in the process"
                " list (ps) and in a scheduler's log; set HF_TOKEN in the crawl's"
                " environment instead"
            )
        if not crawler.settings.getbool("DOWNLOAD_VERIFY_CERTIFICATES"):
            token = ""  # whoever answers for huggingface.co would get it
        return cls(token)

    def process_request(self, request: Request, spider: Any = None) -> None:
        if self.token and self.goes_to_hub(request):
            request.headers["Authorization"] = f"Bearer {self.token}"
        else:
            # A request built from another (a followed redirect) keeps its headers.
            request.headers.pop("Authorization", None)

    def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Response:
        request.headers.pop("Authorization", None)
        return response

    def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> None:
        request.headers.pop("Authorization", None)

    @staticmethod
    def goes_to_hub(request: Request) -> bool:
        """Is ``request`` for the site's own host, first-hand?"""
        parts = urlparse_cached(request)
        try:
            port = parts.port
        except ValueError:
            return False
        return (
            parts.scheme == "https"
            and parts.hostname == HUB_HOST
            and port in (None, 443)
            and "@" not in parts.netloc
            and not request.meta.get("digest_redirects")
            and not request.meta.get("redirect_urls")  # one Scrapy's redirect middleware followed
            and not request.meta.get("dont_obey_robotstxt")  # robots.txt's own request
        )


def _host(request: Request) -> str:
    return urlparse_cached(request).hostname or ""


def _api_call(request: Request) -> bool:
    return "/api/" in urlparse_cached(request).path


def _bucket(request: Request) -> str:
    """What the site counts ``request`` against: its host's pages, or
    (``<host> api``) its host's API calls."""
    return api_slot(_host(request)) if _api_call(request) else _host(request)


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value is not None else None
