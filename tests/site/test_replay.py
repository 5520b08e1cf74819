"""Replaying kept answers into reads (``site/replay.py``): each listing as
the crawl read it, one run's file at a time however their answers interleave."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path

from digest_crawler.raw import Kept
from digest_crawler.site.replay import AdoptionRead, Read, Replayed, replay
from tests.conftest import FIXTURES

BASE = "https://huggingface.co"
T0 = dt.datetime(2026, 7, 31, 21, 30, tzinfo=dt.UTC)
HTML = [("Content-Type", "text/html; charset=utf-8")]
JSON = [("Content-Type", "application/json; charset=utf-8")]


def kept(path: str, body: bytes, file: str, second: int, status: int = 200, **extra: str) -> Kept:
    headers = (JSON if path.startswith("/api/") else HTML) + list(extra.items())
    return Kept(
        url=BASE + path,
        status=status,
        headers=headers,
        body=body,
        received_at=T0 + dt.timedelta(seconds=second),
        file=Path(file),
        offset=second,
        today=dt.date(2026, 8, 14),
    )


def listings(reads: object) -> list[Read]:
    """The listing reads of a replay (``reads``), in order."""
    assert isinstance(reads, Iterable)
    return [read for read in reads if isinstance(read, Read)]


PAGE = (FIXTURES / "listing-2026-07-31.html").read_bytes()
API = (FIXTURES / "sources" / "api-daily-papers-2026-07-31.json").read_bytes()


def test_each_read_comes_back_at_its_moment_with_its_run_s_today() -> None:
    reads = listings(
        replay(
            [
                kept("/robots.txt", b"User-agent: *", "a", 0),
                kept("/papers/date/2026-07-31", PAGE, "a", 1),
                kept("/api/daily_papers?date=2026-07-31&limit=100&p=0", API, "a", 2),
            ]
        )
    )
    assert [(r.listing.outcome, len(r.listing.papers), r.listing.read_at) for r in reads] == [
        ("served", 30, T0 + dt.timedelta(seconds=1)),
        ("served", 30, T0 + dt.timedelta(seconds=2)),
    ]
    assert {r.today for r in reads} == {dt.date(2026, 8, 14)}
    assert reads[0].listing.papers[0]["scraped_at"] == T0 + dt.timedelta(seconds=1)  # type: ignore[index]


def test_two_runs_at_once_a_redirect_followed_and_a_failed_answer() -> None:
    """Run a follows a redirect to the listing's page; run b's answers come
    in between; run c's answer failed (a 500 after retries)."""
    replayed = Replayed()
    reads = listings(
        replay(
            [
                kept(
                    "/papers/date/2026-07-31",
                    b"",
                    "a",
                    0,
                    status=301,
                    Location="/papers/date/2026-07-31/",
                ),
                kept(
                    "/papers/date/2026-03-08",
                    b"",
                    "b",
                    1,
                    status=302,
                    Location="/papers/date/2026-07-31",
                ),
                kept("/papers/date/2026-07-31/", PAGE, "a", 2),
                kept("/papers/date/2026-07-13", b"oops", "c", 3, status=500),
                # An API page whose first page was not kept, and a read never finished.
                kept("/api/daily_papers?date=2026-07-13&limit=100&p=1", API, "d", 4),
                kept(
                    "/papers/date/2026-07-30",
                    b"",
                    "e",
                    5,
                    status=302,
                    Location="/papers/date/2026-07-30/",
                ),
            ],
            replayed=replayed,
        )
    )
    assert [(r.listing.name, r.listing.outcome) for r in reads] == [
        ("2026-03-08", "no_digest"),
        ("2026-07-31", "served"),
        ("2026-07-13", "failed"),
    ]
    assert reads[2].listing.reason == "HTTP 500"
    assert reads[2].listing.read_at == T0 + dt.timedelta(seconds=3)
    assert (replayed.stray, replayed.unfinished) == (1, 1)


def test_a_paper_s_hub_answer_between_a_listing_s_pages_costs_it_nothing() -> None:
    """The crawl asks what cites a paper beside its listings: a Hub answer
    kept between a redirect and its target is read on its own, and the
    listing's read goes on."""
    paper = json.loads(API)[0]["paper"]
    answer = json.dumps({**paper, "numTotalModels": 4, "numTotalDatasets": 0}).encode()
    found = list(
        replay(
            [
                kept("/papers/date/2026-07-31", b"", "a", 0, status=301,
                     Location="/papers/date/2026-07-31/"),
                kept(f"/api/papers/{paper['id']}", answer, "a", 1),
                kept("/api/papers/2607.00001", b'{"error":"Paper not found"}', "a", 2, status=404),
                kept("/api/papers/2607.00002", b"oops", "a", 3, status=500),
                kept("/papers/date/2026-07-31/", PAGE, "a", 4),
            ]
        )
    )  # fmt: skip
    adoption = [read.adoption for read in found if isinstance(read, AdoptionRead)]
    assert [(a.arxiv_id, a.outcome, a.counts.get("linked_models")) for a in adoption] == [
        (paper["id"], "read", 4),
        ("2607.00001", "not_indexed", None),
    ]
    assert adoption[0].read_at == T0 + dt.timedelta(seconds=1)
    (read,) = listings(found)
    assert (read.listing.outcome, len(read.listing.papers)) == ("served", 30)
