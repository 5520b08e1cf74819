"""The site's addresses: the base URL, where a listing is asked for (its page
or an API call), which listing a URL names, and which URLs lie on the site
(the only ones a redirect may lead to)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from w3lib.url import safe_url_string

from digest_crawler.periods import Period

#: Entries per API call: the most the API gives.
PAGE_SIZE = 100
#: Calls for one listing before it is given up: a month has about 1,500
#: papers; an answer that never ends is no listing.
MAX_PAGES = 50
#: The most papers one listing may hold, through either door (``MAX_PAGES``
#: calls of ``PAGE_SIZE``): a day holds fewer than 100, a month about 1,500.
MAX_LISTING = MAX_PAGES * PAGE_SIZE
#: Redirects followed for one answer (on the site only).
MAX_REDIRECTS = 5

_URL_PERIOD = re.compile(r"(?:/papers/|[?&])(date|week|month)[/=]([0-9W-]+)")


def check_base_url(value: str) -> str:
    """``value`` without a trailing slash, or a one-line ``ValueError``.

    A base URL is a scheme (http or https), a host, an optional port and an
    optional path: no user name or password (they would end up in the log
    and the archive), no query or fragment.

    >>> check_base_url("http://127.0.0.1:8080/mirror/")
    'http://127.0.0.1:8080/mirror'
    >>> check_base_url("https://bücher.example/a mirror")
    'https://xn--bcher-kva.example/a%20mirror'
    >>> check_base_url("https://user:secret@example.org")
    Traceback (most recent call last):
    ValueError: 'https://***@example.org' holds a user name or password
    """
    try:
        parts = urlsplit(value)
        shown = without_credentials(value)
    except ValueError as exc:  # "Invalid IPv6 URL"
        raise ValueError(f"{value!r} is not a URL ({exc})") from None
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
        raise ValueError(f"{shown!r} {problem}")
    try:
        # As Scrapy asks for it (a host beyond ASCII in its IDNA form, a
        # space as %20): every URL made of it, and the site's redirects, compare.
        return safe_url_string(value).rstrip("/")
    except (ValueError, UnicodeError) as exc:  # a host IDNA has no form for
        raise ValueError(f"{shown!r} is not a URL ({exc})") from None


def without_credentials(url: str) -> str:
    """
    >>> without_credentials("http://admin:hunter2@127.0.0.1:8/x")
    'http://***@127.0.0.1:8/x'
    """
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return url.replace(parts.netloc.rsplit("@", 1)[0], "***", 1)


def on_site(url: str, base_url: str) -> bool:
    """Does ``url`` lie on the base URL's scheme, host and port?

    >>> on_site("http://127.0.0.1:8/papers/date/2026-07-31", "http://127.0.0.1:8")
    True
    >>> on_site("file:///dev/zero", "http://127.0.0.1:8"), on_site("http://127.0.0.2:8/", "http://127.0.0.1:8")
    (False, False)
    >>> on_site(r"http://127.0.0.2:8\\@127.0.0.1:8/", "http://127.0.0.1:8")
    False
    >>> on_site("http://admin:pw@127.0.0.1:8/", "http://127.0.0.1:8")
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


def page_url(base_url: str, period: Period) -> str:
    """The listing page of ``period``.

    >>> page_url("https://huggingface.co", Period.parse("week", "2026-W31"))
    'https://huggingface.co/papers/week/2026-W31'
    """
    return f"{base_url}/papers/{period.path_name}/{period.key}"


def api_path(period: Period, page: int = 0) -> str:
    """The path and query of one API call for ``period``'s list.

    >>> api_path(Period.parse("week", "2026-W31"), 2)
    '/api/daily_papers?week=2026-W31&limit=100&p=2'
    """
    return f"/api/daily_papers?{period.path_name}={period.key}&limit={PAGE_SIZE}&p={page}"


def api_url(base_url: str, period: Period, page: int = 0) -> str:
    return f"{base_url}{api_path(period, page)}"


def is_api_answer(url: str) -> bool:
    """Is ``url`` an ``/api/daily_papers`` call (not a listing page)?"""
    return urlsplit(url).path.endswith("/api/daily_papers")


def paper_url(base_url: str, arxiv_id: str) -> str:
    """A paper's page, under the base URL's own path (an id the model's
    pattern refuses, say ``../x``, is rejected in validation)."""
    return f"{base_url}/papers/{arxiv_id}"


def period_from_url(url: str) -> Period | None:
    """The listing a page or API URL names, if any.

    >>> period_from_url("https://huggingface.co/papers/week/2026-W31")
    Period(kind='week', start=datetime.date(2026, 7, 27))
    >>> period_from_url("http://127.0.0.1:8/api/daily_papers?month=2026-07&limit=100&p=0").key
    '2026-07'
    >>> period_from_url("https://huggingface.co/papers/date/2026-02-30") is None
    True
    """
    match = _URL_PERIOD.search(url)
    if match is None:
        return None
    kind = {"date": "day", "week": "week", "month": "month"}[match[1]]
    try:
        return Period.parse(kind, match[2])  # type: ignore[arg-type]
    except ValueError:
        return None
