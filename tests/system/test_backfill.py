"""Backfills, resumption, history and rate limits, with the real command against a local site."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import signal
from pathlib import Path

import pytest
import sqlalchemy as sa

from digest_crawler import storage
from tests.support.cli import (
    crawl,
    db_rows,
    export,
    listings_per_day,
    span,
    start_crawl,
    table,
    wait_for_days,
)
from tests.support.site import Answer, Answers, LocalSite, redirect
from tests.support.sitegen import day_page

pytestmark = pytest.mark.system  # the real commands, in subprocesses

D = dt.date
FIRST = D(2026, 3, 1)  # a Sunday
TEN_DAYS = [FIRST + dt.timedelta(days=n) for n in range(10)]
SATURDAY = D(2026, 3, 7)


def serve_days(
    site: LocalSite,
    days: list[dt.date],
    *,
    no_digest: frozenset[dt.date] | set[dt.date] = frozenset(),
    delay: float = 0.0,
    **changes: object,
) -> None:
    """Six seed papers a day, consecutive days sharing one paper; a day
    without a digest redirects to the last day."""
    for n, day in enumerate(days):
        path = f"/papers/date/{day}"
        if day in no_digest:
            site.routes[path] = redirect(f"/papers/date/{days[-1]}")
        else:
            site.routes[path] = Answer(
                body=day_page(day, count=6, offset=5 * n, **changes).encode(), delay=delay
            )


def test_ten_day_range_oldest_first_with_a_redirected_weekend_day(
    site: LocalSite, tmp_path: Path
) -> None:
    serve_days(site, TEN_DAYS, no_digest={SATURDAY})
    result = crawl(site.url, tmp_path, *span(TEN_DAYS[0], TEN_DAYS[-1]))
    assert result.returncode == 0, result.stderr[-3000:]
    # One request per day, oldest first, plus robots.txt.
    assert site.page_requests() == [f"/papers/date/{day}" for day in TEN_DAYS]
    assert site.requests.count("/robots.txt") == 1

    database = tmp_path / "papers.sqlite"
    listings = db_rows(
        database, "SELECT listing_date, arxiv_id, rank FROM listings ORDER BY listing_date, rank"
    )
    served = [day for day in TEN_DAYS if day != SATURDAY]
    assert sorted({row["listing_date"] for row in listings}) == [str(day) for day in served]
    assert all(sum(r["listing_date"] == str(day) for r in listings) == 6 for day in served)
    assert [r["rank"] for r in listings if r["listing_date"] == str(FIRST)] == [1, 2, 3, 4, 5, 6]
    # A paper listed on two days: two listings, one paper filed under the earlier day.
    twice = db_rows(database, "SELECT arxiv_id FROM listings GROUP BY arxiv_id HAVING count(*) = 2")
    assert twice
    paper = db_rows(
        database, f"SELECT listing_date FROM papers WHERE arxiv_id = '{twice[0]['arxiv_id']}'"
    )
    first_listing = min(
        r["listing_date"] for r in listings if r["arxiv_id"] == twice[0]["arxiv_id"]
    )
    assert paper == [{"listing_date": first_listing}]
    assert len(table(database)) == len({r["arxiv_id"] for r in listings})

    (run,) = table(database, "crawl_runs")
    assert (
        run["listings_requested"],
        run["listings_served"],
        run["listings_no_digest"],
        run["listings_failed"],
    ) == (10, 9, 1, 0)
    assert run["finish_reason"] == "finished" and run["complete"] == 1
    assert run["items_stored"] == 54 and run["papers_new"] == len(table(database))
    assert json.loads(run["arguments"]) == {"start": str(TEN_DAYS[0]), "end": str(TEN_DAYS[-1])}
    days = {r["listing"]: r for r in table(database, "crawl_listings")}
    assert days[str(SATURDAY)]["outcome"] == "no_digest"
    assert days[str(SATURDAY)]["reason"] == f"the site redirects to {TEN_DAYS[-1]}"
    assert "No digest for 2026-03-07: the site redirects to 2026-03-10" in result.stderr


def test_recrawl_adds_snapshots_only_for_changed_papers(site: LocalSite, tmp_path: Path) -> None:
    days = TEN_DAYS[:2]
    serve_days(site, days)
    args = span(days[0], days[1])
    assert crawl(site.url, tmp_path, *args).returncode == 0
    database = tmp_path / "papers.sqlite"
    before = table(database, "upvote_snapshots")
    assert len(before) == len(table(database)) == 11  # one first snapshot per paper

    # Day two's page now shows +5 upvotes on its third paper.
    page = day_page(days[1], count=6, offset=5)
    paper_id = db_rows(
        database, f"SELECT arxiv_id FROM listings WHERE listing_date = '{days[1]}' AND rank = 3"
    )[0]["arxiv_id"]
    old = db_rows(database, f"SELECT upvotes FROM papers WHERE arxiv_id = '{paper_id}'")[0][
        "upvotes"
    ]
    entry = f"&quot;id&quot;:&quot;{paper_id}&quot;"
    head, tail = page.split(entry, 1)
    tail = tail.replace(f"&quot;upvotes&quot;:{old},", f"&quot;upvotes&quot;:{old + 5},", 1)
    site.routes[f"/papers/date/{days[1]}"] = Answer(body=(head + entry + tail).encode())

    result = crawl(site.url, tmp_path, *args)
    assert result.returncode == 0, result.stderr[-3000:]
    after = table(database, "upvote_snapshots")
    assert len(after) == len(before) + 1
    assert (after[-1]["arxiv_id"], after[-1]["upvotes"]) == (paper_id, old + 5)
    assert len(table(database, "crawl_runs")) == 2  # the first run was complete: all fetched again
    assert len(site.page_requests()) == 4


def test_429_with_retry_after_is_waited_out_and_nothing_is_lost(
    site: LocalSite, tmp_path: Path
) -> None:
    days = TEN_DAYS[:3]
    serve_days(site, days)
    limited = Answer(
        status=429,
        body=b"Too Many Requests",
        headers={
            "Retry-After": "2",
            "RateLimit": '"pages";r=0;t=2',
            "RateLimit-Policy": '"fixed window";"pages";q=100;w=300',
        },
    )
    path = f"/papers/date/{days[1]}"
    site.routes[path] = Answers(limited, site.answer(path))
    result = crawl(site.url, tmp_path, *span(days[0], days[-1]))
    assert result.returncode == 0, result.stderr[-3000:]
    times = [(p, t) for p, t in site.times if p.startswith("/papers/")]
    assert [p for p, _ in times] == [
        f"/papers/date/{days[0]}",
        path,
        path,
        f"/papers/date/{days[2]}",
    ]
    assert times[2][1] - times[1][1] >= 2.0  # the retry waited what Retry-After said
    assert len(db_rows(tmp_path / "papers.sqlite", "SELECT * FROM listings")) == 18
    assert (
        "HTTP 429 for" in result.stderr
        and "pausing requests to 127.0.0.1 for 2.0 s" in result.stderr
    )


def test_spent_ratelimit_budget_pauses_before_the_next_request(
    site: LocalSite, tmp_path: Path
) -> None:
    days = TEN_DAYS[:2]
    serve_days(site, days)
    first = site.answer(f"/papers/date/{days[0]}")
    first.headers["RateLimit"] = '"pages";r=0;t=1'
    result = crawl(site.url, tmp_path, *span(days[0], days[1]))
    assert result.returncode == 0, result.stderr[-3000:]
    times = [t for p, t in site.times if p.startswith("/papers/")]
    assert len(times) == 2 and times[1] - times[0] >= 1.0
    assert site.requests.count(f"/papers/date/{days[1]}") == 1  # no 429 drawn, no retry


@pytest.mark.parametrize("jobdir", [False, True], ids=["database-only", "with-JOBDIR"])
def test_killed_backfill_resumes_where_it_stopped(
    site: LocalSite, tmp_path: Path, jobdir: bool
) -> None:
    days = [FIRST + dt.timedelta(days=n) for n in range(12)]
    serve_days(site, days, delay=0.15)
    arguments: tuple[str, ...] = span(days[0], days[-1])
    if jobdir:
        arguments += ("-s", f"JOBDIR={tmp_path / 'job'}")
    process = start_crawl(site.url, tmp_path, *arguments)
    try:
        wait_for_days(tmp_path / "papers.sqlite", 4, process)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    database = tmp_path / "papers.sqlite"
    done_before = {
        r["listing"]
        for r in db_rows(database, "SELECT listing FROM crawl_listings WHERE outcome = 'stored'")
    }
    assert 4 <= len(done_before) < 12
    # No day is half-written: a stored day has all six listings, other days none.
    assert listings_per_day(database) == {day: 6 for day in done_before}

    site.requests.clear()
    result = crawl(site.url, tmp_path, *arguments, feed=None)
    assert result.returncode == 0, result.stderr[-3000:]
    fetched = [p.rsplit("/", 1)[1] for p in site.page_requests()]
    missing = [str(day) for day in days if str(day) not in done_before]
    if jobdir:  # a request Scrapy had queued on disk may come once more
        assert sorted(set(fetched)) == missing
    else:
        assert fetched == missing  # only what was missing, oldest first
    assert listings_per_day(database) == {str(day): 6 for day in days}
    runs = table(database, "crawl_runs")
    assert len(runs) == 2 and runs[0]["resumed_by"] == runs[1]["id"]
    assert runs[0]["finished_at"] is None  # killed: never closed
    assert runs[1]["complete"] == 1 and runs[1]["listings_served"] == 12
    assert f"({len(done_before)} already done by an interrupted run)" in result.stderr

    # A third run over the same, now complete, days fetches them all again.
    site.requests.clear()
    assert crawl(site.url, tmp_path, *arguments, feed=None).returncode == 0
    assert len(site.page_requests()) == 12


TODAY = D(2026, 3, 20)  # the scheduled runs' fixed "today" (DIGEST_TODAY)


def test_the_daily_run_reads_exactly_the_refresh_schedule(site: LocalSite, tmp_path: Path) -> None:
    scheduled = [TODAY - dt.timedelta(days=n) for n in (14, 7, 3, 2, 1, 0)]
    serve_days(site, [TODAY - dt.timedelta(days=n) for n in range(20, -1, -1)])
    result = crawl(site.url, tmp_path, "-s", f"DIGEST_TODAY={TODAY}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert site.page_requests() == [f"/papers/date/{day}" for day in scheduled]
    assert site.requests.count("/robots.txt") == 1
    (run,) = table(tmp_path / "papers.sqlite", "crawl_runs")
    assert (run["listings_requested"], run["listings_served"], run["complete"]) == (6, 6, 1)


@pytest.mark.parametrize(
    ("argument", "back"),
    [("refresh=0,2,5", (5, 2, 0)), ("refresh_days=2", (2, 1, 0))],
)
def test_the_schedule_is_one_argument_and_refresh_days_means_every_day_back(
    site: LocalSite, tmp_path: Path, argument: str, back: tuple[int, ...]
) -> None:
    serve_days(site, [TODAY - dt.timedelta(days=n) for n in range(6, -1, -1)])
    result = crawl(site.url, tmp_path, "-a", argument, "-s", f"DIGEST_TODAY={TODAY}", feed=None)
    assert result.returncode == 0, result.stderr[-3000:]
    assert site.page_requests() == [f"/papers/date/{TODAY - dt.timedelta(days=n)}" for n in back]


def test_progress_is_logged_during_a_backfill(site: LocalSite, tmp_path: Path) -> None:
    days = TEN_DAYS[:6]
    serve_days(site, days, delay=0.2)
    result = crawl(
        site.url,
        tmp_path,
        *span(days[0], days[-1]),
        "-s",
        "DIGEST_PROGRESS_INTERVAL=0.3",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line for line in result.stderr.splitlines() if "Progress: " in line]
    assert lines, result.stderr[-2000:]
    assert "/6 days, " in lines[-1] and " papers stored, about " in lines[-1]


def test_failed_day_is_recorded_and_refetched_by_the_next_run(
    site: LocalSite, tmp_path: Path
) -> None:
    days = TEN_DAYS[:3]
    serve_days(site, days)
    good = site.routes[f"/papers/date/{days[1]}"]
    site.routes[f"/papers/date/{days[1]}"] = Answer(status=500, body=b"down")
    arguments = (*span(days[0], days[-1]), "-s", "RETRY_TIMES=0")
    result = crawl(site.url, tmp_path, *arguments)
    assert result.returncode == 1  # a person should look
    database = tmp_path / "papers.sqlite"
    failed = db_rows(
        database, "SELECT listing, reason FROM crawl_listings WHERE outcome = 'failed'"
    )
    assert [r["listing"] for r in failed] == [str(days[1])] and "500" in failed[0]["reason"]
    assert table(database, "crawl_runs")[0]["listings_failed"] == 1

    site.routes[f"/papers/date/{days[1]}"] = good
    site.requests.clear()
    result = crawl(site.url, tmp_path, *arguments)
    assert result.returncode == 0, result.stderr[-3000:]
    assert site.page_requests() == [f"/papers/date/{days[1]}"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["start=2026-03-10", "end=2026-03-01"],
            "argument start: 2026-03-10 is after end 2026-03-01",
        ),
        (
            ["date=2026-03-01", "start=2026-03-01"],
            "argument date: give either date, or start/end, or days",
        ),
        (["start=2026-03-01", "end=2999-01-01"], "argument end: 2999-01-01 is in the future"),
        (["end=2026-03-01"], "argument end: give start too"),
        (["days=0"], "argument days: 0 is not a number of days"),
        (["days=two"], "argument days: 'two' is not a whole number of days"),
        (["start=2026-3-1"], "argument start: '2026-3-1' is not a date (expected YYYY-MM-DD)"),
    ],
)
def test_bad_backfill_arguments(
    site: LocalSite, tmp_path: Path, arguments: list[str], message: str
) -> None:
    result = crawl(site.url, tmp_path, *[part for a in arguments for part in ("-a", a)])
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"scrapy crawl daily: error: {message}")
    assert site.requests == [] and not (tmp_path / "papers.sqlite").exists()


def test_small_backfill_on_postgresql(site: LocalSite, tmp_path: Path, postgres_url: str) -> None:
    days = TEN_DAYS[:4]
    serve_days(site, days, no_digest={days[2]})
    arguments = (
        *span(days[0], days[-1]),
        "-s",
        f"DIGEST_DATABASE_URL={postgres_url}",
    )
    result = crawl(site.url, tmp_path, *arguments)
    assert result.returncode == 0, result.stderr[-3000:]
    engine = storage.make_engine(postgres_url)
    try:
        with engine.connect() as connection:
            listings = connection.execute(sa.select(storage.listings)).all()
            run = connection.execute(sa.select(storage.crawl_runs)).one()
            snapshots = connection.execute(
                sa.select(sa.func.count()).select_from(storage.upvote_snapshots)
            ).scalar()
            papers = connection.execute(
                sa.select(sa.func.count()).select_from(storage.papers)
            ).scalar()
    finally:
        engine.dispose()
    assert len(listings) == 18 and {row.listing_date for row in listings} == {
        days[0],
        days[1],
        days[3],
    }
    assert (run.listings_served, run.listings_no_digest, run.complete) == (3, 1, True)
    assert snapshots == papers
    assert not (tmp_path / "papers.sqlite").exists()


def test_published_ratelimit_policy_sets_the_pace(site: LocalSite, tmp_path: Path) -> None:
    days = TEN_DAYS[:5]
    serve_days(site, days)
    policy = '"fixed window";"pages";q=10;w=3'  # 0.3 s a page, plus 2%
    site.answer("/robots.txt").headers["RateLimit-Policy"] = policy
    for day in days:
        site.answer(f"/papers/date/{day}").headers["RateLimit-Policy"] = policy
    result = crawl(site.url, tmp_path, *span(days[0], days[-1]))  # DOWNLOAD_DELAY=0 here
    assert result.returncode == 0, result.stderr[-3000:]
    assert "'digest/ratelimit_pace': 0.306" in result.stderr
    # The site's rule, seen from the site: no 3 s window holds more than 10
    # requests, robots.txt included; and once robots.txt (the first request,
    # which opens the connection and so may arrive late) has been read, the
    # listing requests arrive a pace apart on average (one may arrive a few
    # ms late on a loaded machine and the next gap be as much shorter).
    times = [t for _, t in site.times]
    assert [path for path, _ in site.times] == ["/robots.txt"] + [f"/papers/date/{d}" for d in days]
    assert all(sum(t <= s < t + 3 for s in times) <= 10 for t in times)
    gaps = [later - earlier for earlier, later in itertools.pairwise(times[1:])]
    assert len(gaps) == 4 and min(gaps) >= 0.306 * 0.8 and max(gaps) < 1.5, gaps
    assert (times[-1] - times[1]) / 4 >= 0.306 * 0.98, gaps


@pytest.mark.parametrize(("newest", "stale"), [(6, True), (2, False), (3, False)])
def test_a_stalled_site_fails_the_daily_run_with_one_line(
    site: LocalSite, tmp_path: Path, newest: int, stale: bool
) -> None:
    """The site's newest day is ``newest`` days before today; the days after
    it have no digest (the site redirects them to its newest day)."""
    last = TODAY - dt.timedelta(days=newest)
    days = [TODAY - dt.timedelta(days=n) for n in range(20, -1, -1)]
    serve_days(site, [day for day in days if day <= last])
    for day in days:
        if day > last:
            site.routes[f"/papers/date/{day}"] = redirect(f"/papers/date/{last}")
    result = crawl(site.url, tmp_path, "-s", f"DIGEST_TODAY={TODAY}", feed=None)
    errors = [line for line in result.stderr.splitlines() if " ERROR: " in line]
    if stale:
        assert result.returncode == 1, result.stderr[-3000:]
        (line,) = errors
        assert line.endswith(
            f"The site has served nothing new since {last}: {newest} days before today"
            f" ({TODAY}), more than DIGEST_STALE_DAYS (4)"
        )
    else:
        assert result.returncode == 0, result.stderr[-3000:]
        assert errors == []


def test_a_day_that_shrinks_keeps_its_papers(site: LocalSite, tmp_path: Path) -> None:
    day = TEN_DAYS[0]
    site.routes[f"/papers/date/{day}"] = Answer(body=day_page(day, count=6).encode())
    assert crawl(site.url, tmp_path, "-a", f"date={day}", feed=None).returncode == 0
    site.routes[f"/papers/date/{day}"] = Answer(body=day_page(day, count=2).encode())
    result = crawl(site.url, tmp_path, "-a", f"date={day}", feed=None)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "'digest/papers_missing_from_reread': 4" in result.stderr
    assert f"4 papers listed on {day} before are not on this read of it" in result.stderr
    assert listings_per_day(tmp_path / "papers.sqlite") == {str(day): 6}


def test_a_day_read_at_0_1_2_3_7_and_14_days_is_settled_after_the_last(
    site: LocalSite, tmp_path: Path
) -> None:
    day = D(2026, 3, 2)
    # The only digest day around: every other day redirects to it.
    others = [day + dt.timedelta(days=n) for n in range(-14, 15) if n]
    serve_days(site, [*others, day], no_digest=set(others))
    database = tmp_path / "papers.sqlite"
    for after in (0, 1, 2, 3, 7, 14):
        today = day + dt.timedelta(days=after)
        settings = ("-s", f"DIGEST_TODAY={today}", "-s", "DIGEST_STALE_DAYS=30")
        result = crawl(site.url, tmp_path, *settings, feed=None)
        assert result.returncode == 0, result.stderr[-3000:]
        (read,) = db_rows(database, f"SELECT * FROM listing_days WHERE listing_date = '{day}'")
        assert (read["settled_at"] is not None) == (after == 14), after
        settled = export(tmp_path, "--settled", "--since", str(day), "--until", str(day))
        assert settled.returncode == 0, settled.stderr
        records = [json.loads(line) for line in settled.stdout.splitlines()]
        assert len(records) == (6 if after == 14 else 0)
        assert all(record["settled"] for record in records)
    first, last = read["first_read_at"], read["last_read_at"]
    assert first < last and read["settled_at"] == last
    # Its papers were seen at every read: an upvote history of six points at most.
    everything = export(tmp_path, "--since", str(day), "--until", str(day), "--with-history")
    for record in map(json.loads, everything.stdout.splitlines()):
        assert record["settled"] is True and 1 <= len(record["upvote_snapshots"]) <= 6
