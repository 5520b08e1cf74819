"""Both doors, the listing pages and the API, through the real ``scrapy crawl``
against a local server: the same listings give the same records."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path
from typing import Any

import pytest

from digest_crawler.periods import Period
from tests.support.cli import crawl, db_rows, feed_lines
from tests.support.site import Answer, Answers, LocalSite, json_answer
from tests.support.sitegen import many_entries

pytestmark = pytest.mark.system  # the real commands, in subprocesses

#: Columns that say when a row was read, not what the site said.
MOMENTS = ("scraped_at", "first_seen_at", "last_seen_at", "changed_at")
#: The fixture days: a Sunday without a digest, a seed day, hostile text,
#: the two days of the real API captures.
RUNS = (
    ("-a", "start=2026-03-08", "-a", "end=2026-03-10"),
    ("-a", "date=2026-07-13"),
    ("-a", "date=2026-07-31"),
)


def archive(site: LocalSite, workdir: Path, source: str, *runs: tuple[str, ...]) -> Path:
    workdir.mkdir()
    for run in runs:
        result = crawl(site.url, workdir, "-a", f"source={source}", *run, feed=f"{len(runs)}.jsonl")
        assert result.returncode == 0, result.stderr
    return workdir / "papers.sqlite"


def without_moments(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k not in MOMENTS} for row in rows]


def test_the_same_days_through_both_doors_store_identical_records(
    site: LocalSite, tmp_path: Path
) -> None:
    pages = archive(site, tmp_path / "html", "html", *RUNS)
    api = archive(site, tmp_path / "api", "api", *RUNS)
    papers = "SELECT * FROM papers ORDER BY arxiv_id"
    assert len(db_rows(pages, papers)) == 55 + 14 + 30
    assert without_moments(db_rows(api, papers)) == without_moments(db_rows(pages, papers))
    ranks = "SELECT listing_date, arxiv_id, rank FROM listings ORDER BY 1, 2"
    assert db_rows(api, ranks) == db_rows(pages, ranks)
    outcomes = "SELECT listing, outcome, papers FROM crawl_listings ORDER BY listing"
    assert db_rows(api, outcomes) == db_rows(pages, outcomes)
    # The Sunday: nothing filed under it through either door.
    assert db_rows(api, outcomes)[0] == {
        "listing": "2026-03-08",
        "outcome": "no_digest",
        "papers": 0,
    }
    assert without_moments(feed_lines(tmp_path / "api" / "3.jsonl")) == without_moments(
        feed_lines(tmp_path / "html" / "3.jsonl")
    )
    calls = [path for path in site.requests if path.startswith("/api/")]
    assert len(calls) == 5 and all(path.endswith("&limit=100&p=0") for path in calls)


def test_a_day_of_more_than_100_entries_comes_through_the_api_pages_complete(
    site: LocalSite, tmp_path: Path
) -> None:
    entries = many_entries(dt.date(2026, 3, 11), 130)
    site.add_api(Period.parse("day", "2026-03-11"), entries)
    database = archive(site, tmp_path / "api", "api", ("-a", "date=2026-03-11"))
    stored = db_rows(database, "SELECT arxiv_id, rank FROM listings ORDER BY rank")
    assert [row["arxiv_id"] for row in stored] == [e["paper"]["id"] for e in entries]
    assert [row["rank"] for row in stored] == list(range(1, 131))
    assert [path[-3:] for path in site.page_requests()] == ["p=0", "p=1"]


@pytest.mark.parametrize(
    ("arguments", "period"),
    [
        (("-a", "week=2026-W31"), "week"),
        (("-a", "month=2026-07"), "month"),
        # As README shows it: every week touching the range (here one).
        (("-a", "period=week", "-a", "start=2026-07-27", "-a", "end=2026-07-31"), "week"),
    ],
)
def test_a_week_and_a_month_list_keep_their_ranks_through_either_door(
    site: LocalSite, tmp_path: Path, arguments: tuple[str, ...], period: str
) -> None:
    found = {}
    for source in ("html", "api"):
        database = archive(site, tmp_path / source, source, arguments)
        found[source] = db_rows(
            database,
            "SELECT period, period_start, arxiv_id, rank, upvotes, listing_date"
            " FROM period_listings JOIN papers USING (arxiv_id) ORDER BY rank",
        )
        days = db_rows(database, "SELECT DISTINCT listing_date FROM listings")
        assert days == []  # a week's list says nothing of a day's ranks
        (run,) = db_rows(database, "SELECT period, complete FROM crawl_runs")
        assert run == {"period": period, "complete": 1}
    assert found["api"] == found["html"]
    ranks = found["api"]
    assert [row["rank"] for row in ranks] == list(range(1, len(ranks) + 1))
    assert len(ranks) == (30 if period == "week" else 44)
    assert [row["upvotes"] for row in ranks] == sorted(
        (row["upvotes"] for row in ranks), reverse=True
    )
    # Each paper under the day it entered the digest.
    assert {row["listing_date"] for row in ranks} == (
        {"2026-07-31"} if period == "week" else {"2026-07-13", "2026-07-31"}
    )


def test_a_429_from_the_api_is_waited_out(site: LocalSite, tmp_path: Path) -> None:
    path = "/api/daily_papers?date=2026-07-31&limit=100&p=0"
    limited = Answer(
        status=429,
        body=b'{"error": "rate limited"}',
        headers={
            "Content-Type": "application/json",
            "Retry-After": "2",
            "RateLimit": '"api";r=0;t=2',
            "RateLimit-Policy": '"fixed window";"api";q=500;w=300',
        },
    )
    site.routes[path] = Answers(limited, json_answer(site.routes[path].body))  # type: ignore[union-attr]
    database = archive(site, tmp_path / "api", "api", ("-a", "date=2026-07-31"))
    assert len(db_rows(database, "SELECT * FROM listings")) == 30
    first, second = [moment for p, moment in site.times if p == path]
    assert second - first >= 1.9  # what Retry-After asked, not Scrapy's immediate retry


def test_the_token_never_reaches_a_mirror_nor_the_log_nor_the_archive(
    site: LocalSite, tmp_path: Path
) -> None:
    workdir = tmp_path / "mirror"
    workdir.mkdir()
    result = crawl(
        site.url,
        workdir,
        "-a",
        "source=api",
        "-a",
        "date=2026-07-31",
        "-s",
        "DIGEST_HF_TOKEN=hf_settingsecret0123456789",
        "-s",
        "LOG_LEVEL=DEBUG",
        environment={"HF_TOKEN": "hf_envsecret0123456789"},
    )
    assert result.returncode == 0, result.stderr
    assert site.headers and not any("Authorization" in headers for headers in site.headers)
    for secret in ("hf_envsecret", "hf_settingsecret"):
        assert secret not in result.stderr + result.stdout
        # Every file, the raw answers kept (compressed WARC) read whole.
        for path in (path for path in workdir.rglob("*") if path.is_file()):
            data = path.read_bytes()
            data = gzip.decompress(data) if path.suffix == ".gz" else data
            assert secret.encode() not in data, path


def test_a_crawled_week_list_exports_in_its_rank_order(site: LocalSite, tmp_path: Path) -> None:
    """The crawl's ranks are export's order: ``--week`` after ``-a week=``,
    with a filter, and a list never crawled is an empty export."""
    from tests.support.cli import export

    database = archive(site, tmp_path / "api", "api", ("-a", "week=2026-W31"))
    workdir = database.parent
    result = export(workdir, "--week", "2026-W31", "--min-upvotes", "10", "-o", "week.jsonl")
    assert result.returncode == 0, result.stderr
    records = feed_lines(workdir / "week.jsonl")
    stored = db_rows(
        database,
        "SELECT arxiv_id, rank FROM period_listings JOIN papers USING (arxiv_id)"
        " WHERE upvotes >= 10 ORDER BY rank",
    )
    assert [(r["arxiv_id"], r["rank"]) for r in records] == [
        (row["arxiv_id"], row["rank"]) for row in stored
    ]
    assert 0 < len(records) < 30
    empty = export(workdir, "--week", "2026-W30", "-o", "empty.jsonl")
    assert empty.returncode == 0 and (workdir / "empty.jsonl").read_text() == ""
    assert "2026-W30" in empty.stderr
