"""A stand-in for the site on 127.0.0.1, in a process of its own.

Serves ``--days`` generated listing days from ``--first`` on
(``/papers/date/YYYY-MM-DD``): full-size pages of 50 papers each in the real
2026 markup, papers drawn from the seed with ids unique per day; and the same
entries through the API (``/api/daily_papers?date=YYYY-MM-DD&limit=..&p=..``).
With ``--quota Q --window W`` it enforces a fixed-window rate limit on pages
the way the site does: every answer carries ``RateLimit: "pages";r=..;t=..``
and ``RateLimit-Policy: "fixed window";"pages";q=Q;w=W``; over the quota the
answer is 429 with ``Retry-After``. ``--api-quota`` does the same for API
calls, in a bucket of their own (``"api"``): the listings' and the papers'
(``/api/papers/{id}``: the numbers of models, datasets and Spaces that cite
a paper of a served day; 404 for any other). ``/__stats`` reports what it served.

    python -m benchmarks.localsite --days 500 [--quota 20 --api-quota 100 --window 10]
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.seed import seed_papers
from tests.support.sitegen import render_listing, seed_entries

PAPERS_PER_DAY = 50


def entries(day: dt.date) -> list[dict[str, Any]]:
    papers = seed_papers()
    ordinal = day.toordinal()
    chosen = [papers[(ordinal * 7 + n) % len(papers)] for n in range(PAPERS_PER_DAY)]
    found = seed_entries(day, chosen)
    for n, entry in enumerate(found):
        arxiv_id = f"{day:%y%m}.{day.day:02d}{n:03d}"
        entry["paper"]["id"] = arxiv_id
        entry["paper"]["upvotes"] = (ordinal + 13 * n) % 300
    return found


@functools.lru_cache(maxsize=32)
def listing(day: dt.date) -> bytes:
    return render_listing(entries(day), day, prev_date=day - dt.timedelta(days=1)).encode()


@functools.lru_cache(maxsize=32)
def api_answer(day: dt.date, limit: int, page: int) -> bytes:
    return json.dumps(entries(day)[page * limit : (page + 1) * limit]).encode()


class RateLimit:
    """A fixed-window counter of page requests."""

    def __init__(self, quota: int, window: float) -> None:
        self.quota, self.window = quota, window
        self.started = time.monotonic()
        self.lock = threading.Lock()
        self.current, self.count = 0, 0

    def take(self) -> tuple[bool, int, float]:
        """(allowed, remaining after this one, seconds to the window's reset)."""
        with self.lock:
            elapsed = time.monotonic() - self.started
            window = int(elapsed // self.window)
            if window != self.current:
                self.current, self.count = window, 0
            reset = (window + 1) * self.window - elapsed
            self.count += 1
            allowed = self.count <= self.quota
            return allowed, max(0, self.quota - self.count), reset


def make_server(
    first: dt.date,
    days: int,
    limit: RateLimit | None,
    port: int = 0,
    api_limit: RateLimit | None = None,
) -> ThreadingHTTPServer:
    last = first + dt.timedelta(days=days - 1)
    stats: dict[str, float] = {
        "pages": 0,
        "api_calls": 0,
        "robots": 0,
        "too_many_requests": 0,
        "not_found": 0,
        "adoption_calls": 0,
    }

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if self.path == "/__stats":
                return self._send(200, json.dumps(stats).encode(), "application/json")
            headers: dict[str, str] = {}
            api = self.path.startswith("/api/")
            bucket, counter = ("api", api_limit) if api else ("pages", limit)
            if counter is not None:
                allowed, remaining, reset = counter.take()
                headers["RateLimit"] = f'"{bucket}";r={remaining};t={math.ceil(reset)}'
                headers["RateLimit-Policy"] = (
                    f'"fixed window";"{bucket}";q={counter.quota};w={counter.window:g}'
                )
                if not allowed:
                    stats["too_many_requests"] += 1
                    headers["Retry-After"] = str(math.ceil(reset))
                    return self._send(429, b"Too Many Requests", "text/plain", headers)
            if self.path == "/robots.txt":
                stats["robots"] += 1
                return self._send(200, b"User-agent: *\nAllow: /\n", "text/plain", headers)
            if api:
                return self._api(headers)
            day = _day(self.path)
            if day is None or not first <= day <= last:
                stats["not_found"] += 1
                return self._send(404, b"Not found", "text/plain", headers)
            stats["pages"] += 1
            # When the first and the last page were asked for (monotonic seconds).
            stats.setdefault("first_page_at", time.monotonic())
            stats["last_page_at"] = time.monotonic()
            self._send(200, listing(day), "text/html; charset=utf-8", headers)

        def _api(self, headers: dict[str, str]) -> None:
            # Every call counts in the API's bucket, from the first to the last.
            stats.setdefault("first_api_call_at", time.monotonic())
            stats["last_api_call_at"] = time.monotonic()
            if self.path.startswith("/api/papers/"):
                return self._paper(self.path.removeprefix("/api/papers/"), headers)
            query = parse_qs(urlsplit(self.path).query)
            try:
                day = dt.date.fromisoformat(query["date"][0])
                limit, page = int(query["limit"][0]), int(query["p"][0])
            except (KeyError, ValueError):
                stats["not_found"] += 1
                return self._send(400, b'{"error": "bad query"}', "application/json", headers)
            stats["api_calls"] += 1
            stats.setdefault("first_call_at", time.monotonic())
            stats["last_call_at"] = time.monotonic()
            # No digest outside the served days: an empty list, as the API answers.
            body = api_answer(day, limit, page) if first <= day <= last else b"[]"
            self._send(200, body, "application/json", headers)

        def _paper(self, arxiv_id: str, headers: dict[str, str]) -> None:
            stats["adoption_calls"] += 1
            day = _paper_day(arxiv_id)
            if day is None or not first <= day <= last:
                return self._send(404, b'{"error":"Paper not found"}', "application/json", headers)
            (entry,) = [e for e in entries(day) if e["paper"]["id"] == arxiv_id]
            number = int(arxiv_id[-3:])
            answer = {
                **entry["paper"],
                "numTotalModels": number % 7,
                "numTotalDatasets": number % 3,
                "numTotalSpaces": number % 5,
            }
            self._send(200, json.dumps(answer).encode(), "application/json", headers)

        def _send(
            self, status: int, body: bytes, kind: str, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server


def _day(path: str) -> dt.date | None:
    prefix = "/papers/date/"
    if not path.startswith(prefix):
        return None
    try:
        return dt.date.fromisoformat(path[len(prefix) :])
    except ValueError:
        return None


def _paper_day(arxiv_id: str) -> dt.date | None:
    """The served day of a paper id ``entries`` made (``YYMM.DDnnn``)."""
    try:
        year_month, rest = arxiv_id.split(".")
        return dt.date(2000 + int(year_month[:2]), int(year_month[2:]), int(rest[:2]))
    except ValueError:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first", type=dt.date.fromisoformat, default=dt.date(2024, 1, 1))
    parser.add_argument("--days", type=int, default=500)
    parser.add_argument("--quota", type=int)
    parser.add_argument("--api-quota", type=int)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--port", type=int, default=0)
    options = parser.parse_args()
    limit = RateLimit(options.quota, options.window) if options.quota else None
    api_limit = RateLimit(options.api_quota, options.window) if options.api_quota else None
    server = make_server(options.first, options.days, limit, options.port, api_limit)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
