"""A local stand-in for the site, serving the fixtures on 127.0.0.1.

Routes map a path (with its query) to an answer; tests may change them
between crawls (e.g. serve a page with new upvote counts) and read the
request log to count what the crawler fetched.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import BaseServer
from typing import Any

from digest_crawler.periods import Period

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(
        default_factory=lambda: {"Content-Type": "text/html; charset=utf-8"}
    )
    delay: float = 0.0  # seconds before answering
    # "reset": half the body, then a TCP reset; "short": a body shorter
    # than its Content-Length, then the connection closes.
    fault: str | None = None


class Answers:
    """Answers given in turn for one route; the last one repeats."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)

    def next(self) -> Answer:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def page(name: str) -> Answer:
    return Answer(body=(FIXTURES / name).read_bytes())


def redirect(location: str, status: int = 302) -> Answer:
    return Answer(status=status, headers={"Location": location})


def json_answer(body: bytes) -> Answer:
    return Answer(body=body, headers={"Content-Type": "application/json; charset=utf-8"})


def api_routes(period: Period, entries: Any, limit: int | None = None) -> dict[str, Answer]:
    """The API's answers for ``period``'s list of ``entries`` (paged by ``limit``)."""
    from digest_crawler.site.urls import PAGE_SIZE
    from tests.support.sitegen import api_answers

    answers = api_answers(period, entries, limit or PAGE_SIZE)
    return {path: json_answer(body) for path, body in answers.items()}


def period_routes() -> dict[str, Answer]:
    """The API's answers for the fixture days, and a week's and a month's
    list through both doors (generated from the same real entries)."""
    from tests.support import sitegen

    july13, july31 = sitegen.api_entries_with_ai_fields(), sitegen.api_entries()
    week, month = Period.parse("week", "2026-W31"), Period.parse("month", "2026-07")
    week_list = sitegen.ranked_by_upvotes(july31)
    month_list = sitegen.ranked_by_upvotes(july13 + july31)
    routes = {
        # The real answer the 2026-07-31 page was built from, as captured.
        "/api/daily_papers?date=2026-07-31&limit=100&p=0": json_answer(
            (FIXTURES / "sources" / "api-daily-papers-2026-07-31.json").read_bytes()
        ),
        **api_routes(Period.parse("day", "2026-07-13"), july13),
        **api_routes(
            Period.parse("day", "2026-03-09"), sitegen.seed_entries(sitegen.D(2026, 3, 9))
        ),
        **api_routes(Period.parse("day", "2026-03-10"), sitegen.hostile_entries()),
        # A Sunday without a digest: the API lists nothing for it.
        **api_routes(Period.parse("day", "2026-03-08"), []),
        **api_routes(week, week_list),
        **api_routes(month, month_list),
    }
    for period, entries in ((week, week_list), (month, month_list)):
        page = sitegen.render_listing(entries, period.start, period=period)
        routes[f"/papers/{period.kind}/{period.key}"] = Answer(body=page.encode())
    return routes


def default_routes() -> dict[str, Answer | Answers]:
    """The fixtures as the site would serve them."""
    return {
        **period_routes(),
        "/robots.txt": Answer(
            body=b"User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"}
        ),
        "/papers/date/2024-08-01": page("listing-2024-08-01.html"),
        "/papers/date/2026-03-09": page("listing-2026-03-09.html"),
        "/papers/date/2026-03-10": page("listing-2026-03-10-hostile-text.html"),
        "/papers/date/2026-03-11": page("listing-2026-03-11-no-hydration.html"),
        "/papers/date/2026-03-12": page("listing-2026-03-12-broken-json.html"),
        "/papers/date/2026-07-31": page("listing-2026-07-31.html"),
        "/papers/date/2026-07-13": page("listing-2026-07-13.html"),
        # A Sunday without a digest: the site redirects to its latest day.
        "/papers/date/2026-03-08": redirect("/papers/date/2026-07-31"),
        # A day answered in place with another day's page (other dateString).
        "/papers/date/2026-08-01": page("listing-2026-07-31.html"),
    }


class _TlsServer(ThreadingHTTPServer):
    """Serves HTTPS: each connection's handshake in its own thread, so a
    client that fails it (or never starts it) holds up no other."""

    context: ssl.SSLContext

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        return self.context.wrap_socket(
            connection, server_side=True, do_handshake_on_connect=False
        ), address

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a refused handshake is what the TLS tests expect


class _Ipv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class LocalSite:
    def __init__(
        self,
        routes: dict[str, Answer | Answers],
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.routes = routes
        self.requests: list[str] = []
        self.faults = 0  # answers that were errors or broken on purpose
        self.times: list[tuple[str, float]] = []  # (path, time.monotonic()) of each request
        self.headers: list[dict[str, str]] = []  # the headers of each request
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append(self.path)
                site.times.append((self.path, time.monotonic()))
                site.headers.append(dict(self.headers))
                route = site.routes.get(self.path, Answer(status=404, body=b"Not found"))
                answer = route.next() if isinstance(route, Answers) else route
                if answer.delay:
                    time.sleep(answer.delay)
                site.faults += answer.fault is not None or answer.status >= 400
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                length = len(answer.body) + (1000 if answer.fault == "short" else 0)
                self.send_header("Content-Length", str(length))
                self.end_headers()
                if answer.fault == "reset":
                    self.wfile.write(answer.body[: len(answer.body) // 2])
                    self.wfile.flush()
                    # SO_LINGER 0: close() sends a RST instead of a FIN.
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.connection.close()
                    self.close_connection = True
                    return
                self.wfile.write(answer.body)
                if answer.fault == "short":
                    self.close_connection = True

            def log_message(self, format: str, *args: object) -> None:
                pass

        if tls is None:
            self.server = (_Ipv6Server if ":" in host else ThreadingHTTPServer)(
                (host, port), Handler
            )
        else:
            self.server = _TlsServer((host, port), Handler)
            self.server.context = tls
        shown = f"[{host}]" if ":" in host else host
        self.url = f"{'https' if tls else 'http'}://{shown}:{self.server.server_address[1]}"

    @property
    def address(self) -> tuple[str, int]:
        """The (host, port) the server listens on."""
        host, port = self.server.server_address[:2]
        return str(host), int(port)

    def answer(self, path: str) -> Answer:
        """The one answer ``path`` gives (not answers given in turn)."""
        found = self.routes[path]
        assert isinstance(found, Answer), f"{path} gives answers in turn"
        return found

    def add_days(self, pages: dict[str, str]) -> None:
        """Serve generated pages: {"YYYY-MM-DD": page text}."""
        for day, text in pages.items():
            self.routes[f"/papers/date/{day}"] = Answer(body=text.encode())

    def add_api(self, period: Period, entries: Any, limit: int | None = None) -> None:
        """Serve the API's answers for ``period``'s list of ``entries``."""
        self.routes.update(api_routes(period, entries, limit))

    def page_requests(self) -> list[str]:
        return [path for path in self.requests if path != "/robots.txt"]


@contextmanager
def serve(
    routes: dict[str, Answer | Answers] | None = None,
    host: str = "127.0.0.1",
    tls: ssl.SSLContext | None = None,
) -> Iterator[LocalSite]:
    """A local site on ``host`` (a loopback address; 127.0.0.2 plays another
    host, ``::1`` is IPv6's), over HTTPS with the ``tls`` server context."""
    site = LocalSite(routes if routes is not None else default_routes(), host, tls=tls)
    with running(site.server):
        yield site


@contextmanager
def running(server: BaseServer) -> Iterator[None]:
    """``server`` serving on a thread of its own for the ``with`` block, then
    stopped and closed. serve_forever looks for shutdown() every poll
    interval (default 0.5 s): every test that serves would wait a quarter
    of a second on average to stop it."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def main(argv: list[str] | None = None) -> None:
    """python -m tests.support.site [--host H] [--port P]: browse the fixtures."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m tests.support.site",
        description="Serve the fixtures as the Daily Papers site, on a loopback address.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="a loopback address (default 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=0, help="default: any free port")
    options = parser.parse_args(argv)
    site = LocalSite(default_routes(), options.host, options.port)
    thread = threading.Thread(target=site.server.serve_forever, daemon=True)
    thread.start()
    print(f"serving the fixtures at {site.url} (Ctrl-C to stop)", flush=True)
    for path in sorted(site.routes):
        print(f"  {site.url}{path}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        site.server.shutdown()
        site.server.server_close()


if __name__ == "__main__":
    main()
