"""The fault suite: bad networks, bad pages, killed processes, two writers: nothing lost."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from digest_crawler.raw import kept_files, read_kept
from tests.support.cli import (
    crawl,
    db_rows,
    listings_per_day,
    span,
    start_crawl,
    stored_days,
    table,
    wait_for_days,
)
from tests.support.report import RELIABILITY
from tests.support.site import Answer, Answers, LocalSite, redirect, serve
from tests.support.sitegen import day_page

pytestmark = pytest.mark.system  # the real commands, in subprocesses

D = dt.date
FIRST = D(2025, 1, 1)


def days_from(first: dt.date, count: int) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range(count)]


def good(day: dt.date, n: int) -> Answer:
    return Answer(body=day_page(day, count=6, offset=5 * n).encode())


def serve_good(site: LocalSite, days: list[dt.date]) -> None:
    for n, day in enumerate(days):
        site.routes[f"/papers/date/{day}"] = good(day, n)


def account(expected: dict[str, int], database: Path) -> None:
    """Count rows lost or doubled against what the site served."""
    stored = listings_per_day(database)
    RELIABILITY["rows lost"] += sum(max(0, n - stored.get(day, 0)) for day, n in expected.items())
    RELIABILITY["rows doubled"] += sum(
        max(0, stored.get(day, 0) - n) for day, n in expected.items()
    )
    papers = db_rows(
        database, "SELECT arxiv_id, count(*) AS n FROM papers GROUP BY arxiv_id HAVING n > 1"
    )
    RELIABILITY["rows doubled"] += len(papers)


def test_transient_faults_end_with_every_day_stored_once(site: LocalSite, tmp_path: Path) -> None:
    days = days_from(FIRST, 7)
    serve_good(site, days)
    soon = email.utils.format_datetime(
        dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2), usegmt=True
    )
    faults = [
        [Answer(status=500, body=b"oops"), Answer(status=502, body=b"bad gateway")],
        [Answer(status=503, body=b"busy", headers={"Retry-After": "1"})],
        [Answer(status=429, body=b"slow down", headers={"Retry-After": soon})],
        [Answer(body=good(days[3], 3).body, fault="reset")],
        [Answer(body=good(days[4], 4).body, delay=3)],  # longer than DOWNLOAD_TIMEOUT
        [Answer(body=good(days[5], 5).body, fault="short")],
    ]
    for day, broken in zip(days, faults, strict=False):
        path = f"/papers/date/{day}"
        site.routes[path] = Answers(*broken, site.routes[path])  # type: ignore[arg-type]
    result = crawl(
        site.url,
        tmp_path,
        *span(days[0], days[-1]),
        "-s",
        "DOWNLOAD_TIMEOUT=1",
        "-s",
        "RETRY_TIMES=3",
        feed=None,
        timeout=180,
    )
    RELIABILITY["faults injected"] += site.faults + 1  # + the answer slower than the timeout
    assert result.returncode == 0, result.stderr[-3000:]
    database = tmp_path / "papers.sqlite"
    assert listings_per_day(database) == {str(day): 6 for day in days}
    assert {r["outcome"] for r in table(database, "crawl_listings")} == {"stored"}
    assert site.faults == 6  # 500, 502, 503, 429, reset, short body
    account({str(day): 6 for day in days}, database)


def test_permanent_faults_are_recorded_and_a_second_run_fetches_only_them(
    site: LocalSite, tmp_path: Path
) -> None:
    days = days_from(FIRST, 8)
    serve_good(site, days)
    broken = {
        days[1]: Answer(status=500, body=b"down for good"),
        days[2]: Answer(body=b""),  # an empty 200
        days[3]: Answer(
            body=json.dumps({"error": "no"}).encode(), headers={"Content-Type": "application/json"}
        ),
        days[4]: Answer(
            body=bytes(range(256)) * 40, headers={"Content-Type": "application/octet-stream"}
        ),
        days[5]: Answer(body=day_page(days[5], count=55).encode()),  # over DOWNLOAD_MAXSIZE below
        days[6]: redirect(f"/papers/date/{days[6]}"),  # a redirect loop
    }
    for day, answer in broken.items():
        site.routes[f"/papers/date/{day}"] = answer
    arguments = (
        *span(days[0], days[-1]),
        "-s",
        "RETRY_TIMES=1",
        "-s",
        "DOWNLOAD_MAXSIZE=200000",
    )
    result = crawl(site.url, tmp_path, *arguments, feed=None)
    RELIABILITY["faults injected"] += site.faults + 3  # empty, JSON and oversize answers are 200s
    assert result.returncode == 1, result.stderr[-3000:]
    database = tmp_path / "papers.sqlite"
    outcomes = {
        r["listing"]: (r["outcome"], r["reason"]) for r in table(database, "crawl_listings")
    }
    assert {day for day, (outcome, _) in outcomes.items() if outcome == "stored"} == {
        str(days[0]),
        str(days[7]),
    }
    reasons = {day: outcomes[str(day)][1] for day in broken}
    assert all(outcomes[str(day)][0] == "failed" for day in broken)
    assert reasons[days[1]] == "HTTP 500 after retries"
    assert reasons[days[2]] == reasons[days[3]] == "cannot tell which day the page shows"
    assert reasons[days[4]].startswith("not a text page")
    assert "Cancelled" in reasons[days[5]] or "max" in reasons[days[5]].lower()
    assert reasons[days[6]] == "too many redirects"
    (run,) = table(database, "crawl_runs")
    assert (run["listings_failed"], run["listings_served"], run["complete"]) == (6, 2, 0)

    serve_good(site, days)  # the site recovers
    site.requests.clear()
    result = crawl(site.url, tmp_path, *arguments, feed=None)
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(site.page_requests()) == sorted(f"/papers/date/{day}" for day in broken)
    assert listings_per_day(database) == {str(day): 6 for day in days}
    account({str(day): 6 for day in days}, database)


def _comparable(database: Path) -> dict[str, list[tuple[Any, ...]]]:
    """The archive without the moments that differ from run to run."""
    connection = sqlite3.connect(database)
    try:
        return {
            "papers": connection.execute(
                "SELECT arxiv_id, url, title, abstract, authors, author_count, organization, organization_id,"
                " published_at, listing_date, submitted_at, upvotes, num_comments, github_repo, github_stars,"
                " project_page, submitted_by FROM papers ORDER BY arxiv_id"
            ).fetchall(),
            "listings": connection.execute(
                "SELECT listing_date, arxiv_id, rank FROM listings ORDER BY listing_date, arxiv_id"
            ).fetchall(),
            "upvote_snapshots": connection.execute(
                "SELECT arxiv_id, upvotes, num_comments, github_stars FROM upvote_snapshots"
                " ORDER BY arxiv_id, id"
            ).fetchall(),
        }
    finally:
        connection.close()


@pytest.mark.parametrize("jobdir", [False, True], ids=["database-only", "with-JOBDIR"])
def test_kill_9_at_three_points_of_a_200_day_backfill(tmp_path: Path, jobdir: bool) -> None:
    days = days_from(FIRST, 200)
    arguments: tuple[str, ...] = span(days[0], days[-1])
    with serve() as site:
        serve_good(site, days)
        reference = tmp_path / "reference"
        reference.mkdir()
        assert crawl(site.url, reference, *arguments, feed=None, timeout=300).returncode == 0
        expected = _comparable(reference / "papers.sqlite")

        workdir = tmp_path / "killed"
        workdir.mkdir()
        if jobdir:
            arguments += ("-s", f"JOBDIR={workdir / 'job'}")
        database = workdir / "papers.sqlite"
        for point in (50, 100, 150):
            process = start_crawl(site.url, workdir, *arguments)
            wait_for_days(database, point, process)
            process.send_signal(signal.SIGKILL)
            process.wait()
            RELIABILITY["faults injected"] += 1
            stored = stored_days(database)
            assert point <= stored < 200, f"killed at {stored} days"
            per_day = listings_per_day(database)
            assert set(per_day.values()) <= {6}, "a day was half-written"
        site.requests.clear()
        result = crawl(site.url, workdir, *arguments, feed=None, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
        fetched = set(site.page_requests())
        assert len(fetched) <= 200 - 150  # only what the killed runs had not stored
    assert _comparable(database) == expected
    # The raw answers: a file per run, each read back to its last whole
    # record (a record cut short is noted, never read); every day is there.
    damaged: list[str] = []
    kept = [k for k in read_kept(workdir / "raw", damaged) if k.status == 200]
    assert {k.url.removeprefix(site.url) for k in kept} >= {f"/papers/date/{d}" for d in days}
    assert len(damaged) <= 3 and all("cut short" in line for line in damaged)
    assert len(kept_files(workdir / "raw")) == 4
    account({str(day): 6 for day in days}, database)


def test_two_crawls_of_overlapping_ranges_share_one_sqlite_file(
    site: LocalSite, tmp_path: Path
) -> None:
    days = days_from(FIRST, 45)
    serve_good(site, days)
    first = span(days[0], days[29])
    second = span(days[14], days[44])
    processes = [
        start_crawl(site.url, tmp_path, *arguments, stderr=subprocess.PIPE)
        for arguments in (first, second)
    ]
    outputs = [process.communicate(timeout=180)[1] for process in processes]
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output[-3000:]
        assert "database is locked" not in output
    database = tmp_path / "papers.sqlite"
    assert listings_per_day(database) == {str(day): 6 for day in days}
    assert len(table(database, "crawl_runs")) == 2
    account({str(day): 6 for day in days}, database)


HOSTILE = [
    "'); DROP TABLE papers;--",
    "<script>alert('x')</script> & <b>bold</b> &amp; &lt;",
    "\u200fRTL mark \u202eoverride\u202c and \u05e2\u05d1\u05e8\u05d9\u05ea",
    "emoji 🤗👍🏽🧑‍🔬 and combining e\u0301 a\u0308",
    "quotes \" ' ` “ ” and \\ backslashes \\n",
    "nul\x00byte",
]


def hostile_page(day: dt.date) -> bytes:
    from tests.support.seed import seed_papers
    from tests.support.sitegen import render_listing, seed_entries

    entries = seed_entries(day, seed_papers()[: len(HOSTILE) + 1])
    for entry, text in zip(entries, HOSTILE, strict=False):
        paper = entry["paper"]
        paper["title"] = entry["title"] = f"Title {text}"
        paper["summary"] = entry["summary"] = f"Abstract {text}"
        paper["authors"][0]["name"] = f"Author {text}"
        paper["organization"] = entry["organization"] = {
            "_id": "x" * 24,
            "name": "lab",
            "fullname": f"Lab {text}",
        }
        paper["githubRepo"] = "https://github.com/example/" + text.split()[0].encode("utf-8").hex()
        entry["submittedBy"] = {"name": f"user {text}"}
    entries[-1]["paper"]["title"] = entries[-1]["title"] = "T" * 100_000  # a 100 KB title
    return render_listing(entries, day).encode()


def expected_text(value: str) -> str:
    """The documented rule: whitespace runs become one space, NUL is dropped."""
    return " ".join(value.replace("\x00", "").split())


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_hostile_text_is_stored_and_exported_exactly(
    site: LocalSite, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    from tests.support.cli import export, feed_lines

    url = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    day = D(2025, 6, 1)
    site.routes[f"/papers/date/{day}"] = Answer(body=hostile_page(day))
    settings = ("-s", f"DIGEST_DATABASE_URL={url}") if url else ()
    result = crawl(site.url, tmp_path, "-a", f"date={day}", *settings, feed="crawl.jsonl")
    assert result.returncode == 0, result.stderr[-3000:]
    result = export(tmp_path, "-o", "export.jsonl", database_url=url)
    assert result.returncode == 0, result.stderr
    for name in ("crawl.jsonl", "export.jsonl"):
        records = sorted(feed_lines(tmp_path / name), key=lambda r: r["title"])
        by_title = {r["title"]: r for r in records}
        for text in HOSTILE:
            record = by_title[expected_text(f"Title {text}")]
            assert record["abstract"] == expected_text(f"Abstract {text}")
            assert record["authors"][0] == expected_text(f"Author {text}")
            assert record["organization"] == expected_text(f"Lab {text}")
            assert record["submitted_by"] == expected_text(f"user {text}")
        assert "T" * 100_000 in by_title
    if backend == "sqlite":
        titles = {
            r["title"] for r in db_rows(tmp_path / "papers.sqlite", "SELECT title FROM papers")
        }
        assert expected_text(f"Title {HOSTILE[0]}") in titles
        assert len(db_rows(tmp_path / "papers.sqlite", "SELECT * FROM papers")) == len(HOSTILE) + 1


def test_read_only_database_stops_the_crawl_and_keeps_what_was_stored(
    site: LocalSite, tmp_path: Path
) -> None:
    days = days_from(FIRST, 3)
    serve_good(site, days)
    assert crawl(site.url, tmp_path, "-a", f"date={days[0]}", feed=None).returncode == 0
    before = _comparable(tmp_path / "papers.sqlite")
    read_only = f"sqlite:///file:{tmp_path / 'papers.sqlite'}?mode=ro&uri=true"
    site.requests.clear()
    result = crawl(
        site.url,
        tmp_path,
        *span(days[1], days[2]),
        "-s",
        f"DIGEST_DATABASE_URL={read_only}",
        feed=None,
    )
    RELIABILITY["faults injected"] += 1
    assert result.returncode == 1
    assert (
        "Could not store the run record: (sqlite3.OperationalError) attempt to write a readonly database"
        in result.stderr
    )
    assert site.page_requests() == []  # it stops before fetching pages it cannot store
    assert _comparable(tmp_path / "papers.sqlite") == before


def test_full_disk_stops_the_crawl_and_keeps_what_was_stored(
    site: LocalSite, tmp_path: Path
) -> None:
    mount = tmp_path / "tiny"
    mount.mkdir()
    if (
        subprocess.run(
            # An empty archive of 16 KB pages and its write-ahead log take half of it.
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
            capture_output=True,
        ).returncode
        != 0
    ):
        pytest.skip("cannot mount a small tmpfs here to fill up")
    try:
        days = days_from(FIRST, 40)
        serve_good(site, days)
        url = f"sqlite:///{mount / 'papers.sqlite'}"
        assert (
            crawl(
                site.url,
                tmp_path,
                "-a",
                f"date={days[0]}",
                "-s",
                f"DIGEST_DATABASE_URL={url}",
                feed=None,
            ).returncode
            == 0
        )
        before = listings_per_day(mount / "papers.sqlite")
        result = crawl(
            site.url,
            tmp_path,
            *span(days[1], days[-1]),
            "-s",
            f"DIGEST_DATABASE_URL={url}",
            feed=None,
        )
        RELIABILITY["faults injected"] += 1
        assert result.returncode == 1, result.stderr[-2000:]
        assert "database or disk is full" in result.stderr
        after = listings_per_day(mount / "papers.sqlite")
        assert {day: n for day, n in after.items() if day in before} == before
        assert set(after.values()) == {6}  # whole days only
        assert len(after) < 40
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_sigterm_finishes_the_day_in_hand_and_resumes_later(
    site: LocalSite, tmp_path: Path
) -> None:
    days = days_from(FIRST, 30)
    for n, day in enumerate(days):
        site.routes[f"/papers/date/{day}"] = Answer(body=good(day, n).body, delay=0.1)
    arguments = span(days[0], days[-1])
    process = start_crawl(site.url, tmp_path, *arguments, stderr=subprocess.PIPE)
    wait_for_days(tmp_path / "papers.sqlite", 5, process, timeout=60)
    process.send_signal(signal.SIGINT)  # Ctrl-C
    _, output = process.communicate(timeout=60)
    RELIABILITY["faults injected"] += 1
    assert process.returncode == 1, output[-2000:]  # stopped early: a person may want to know
    (run,) = table(tmp_path / "papers.sqlite", "crawl_runs")
    assert run["finish_reason"] == "shutdown" and run["complete"] == 0
    result = crawl(site.url, tmp_path, *arguments, feed=None)
    assert result.returncode == 0, result.stderr[-2000:]
    assert listings_per_day(tmp_path / "papers.sqlite") == {str(day): 6 for day in days}
    account({str(day): 6 for day in days}, tmp_path / "papers.sqlite")


def _hold_the_archive(
    database: Path, site: LocalSite, process: subprocess.Popen[str]
) -> tuple[sqlite3.Connection, int]:
    """Another writer takes the archive while the crawl stores listing after
    listing: the crawl's next store waits for it (SQLite's busy timeout,
    30 s). Returns that writer's connection and the listings stored, once
    the crawl has read one listing ahead of the waiting one."""
    wait_for_days(database, 3, process, timeout=60)
    holder = sqlite3.connect(database, isolation_level=None, timeout=30)
    holder.execute("BEGIN IMMEDIATE")
    stored = stored_days(database)
    deadline = time.monotonic() + 30
    while len(site.page_requests()) < stored + 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(1)
    # The listing waiting for the archive, and the one read ahead: no more.
    assert len(site.page_requests()) == stored + 2
    return holder, stored


def _requested_days(site: LocalSite) -> list[str]:
    return sorted(path.rsplit("/", 1)[1] for path in site.page_requests())


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["Ctrl-C", "SIGTERM"])
def test_a_stop_while_a_listing_waits_for_the_archive_stores_every_listing_read(
    site: LocalSite, tmp_path: Path, stop: signal.Signals
) -> None:
    """The next listing is fetched while the last is stored. Stopped while
    one waits for a locked archive, the crawl stores it and the one it read
    ahead when the archive frees up, closes the run as stopped and says so
    in its summary; the next run fetches only the rest."""
    days = days_from(FIRST, 30)
    serve_good(site, days)
    database = tmp_path / "papers.sqlite"
    arguments = span(days[0], days[-1])
    process = start_crawl(site.url, tmp_path, *arguments, stderr=subprocess.PIPE)
    holder, _ = _hold_the_archive(database, site, process)
    process.send_signal(stop)
    time.sleep(0.5)
    holder.execute("ROLLBACK")
    holder.close()
    _, output = process.communicate(timeout=60)
    RELIABILITY["faults injected"] += 1
    assert process.returncode == 1, output[-2000:]
    read = _requested_days(site)
    assert listings_per_day(database) == {day: 6 for day in read}  # each whole, none lost
    (run,) = table(database, "crawl_runs")
    assert (run["finish_reason"], run["complete"], run["listings_served"]) == (
        "shutdown",
        0,
        len(read),
    )
    summary = output.strip().splitlines()[-1]
    assert f": {len(read)} of 30 days stored ({6 * len(read)} papers," in summary
    assert "stopped early (shutdown)" in summary and f"{30 - len(read)} left" in summary
    site.requests.clear()
    result = crawl(site.url, tmp_path, *arguments, feed=None)
    assert result.returncode == 0, result.stderr[-2000:]
    assert _requested_days(site) == sorted(str(day) for day in days if str(day) not in read)
    assert listings_per_day(database) == {str(day): 6 for day in days}
    account({str(day): 6 for day in days}, database)


def test_a_forced_stop_while_a_listing_waits_for_the_archive_keeps_what_was_read(
    site: LocalSite, tmp_path: Path
) -> None:
    """Ctrl-C twice (a forced stop) while a listing waits for a locked
    archive: the process ends without closing the run, but not before the
    writer has stored the listings it was given, each whole."""
    days = days_from(FIRST, 30)
    serve_good(site, days)
    database = tmp_path / "papers.sqlite"
    arguments = span(days[0], days[-1])
    process = start_crawl(site.url, tmp_path, *arguments, stderr=subprocess.PIPE)
    holder, stored = _hold_the_archive(database, site, process)
    process.send_signal(signal.SIGINT)
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    time.sleep(0.5)
    holder.execute("ROLLBACK")
    holder.close()
    _, output = process.communicate(timeout=60)
    RELIABILITY["faults injected"] += 1
    assert process.returncode == 1, output[-2000:]
    assert "forcing unclean shutdown" in output
    read, kept = _requested_days(site), sorted(listings_per_day(database))
    # The waiting listing and the one read ahead are stored; at most a last
    # request the forced stop cut short is not.
    assert len(kept) >= stored + 2 and set(kept) <= set(read) and len(read) - len(kept) <= 1
    assert set(listings_per_day(database).values()) == {6}
    (run,) = table(database, "crawl_runs")
    assert run["finished_at"] is None  # never closed
    site.requests.clear()
    result = crawl(site.url, tmp_path, *arguments, feed=None)
    assert result.returncode == 0, result.stderr[-2000:]
    assert _requested_days(site) == sorted(str(day) for day in days if str(day) not in kept)
    assert listings_per_day(database) == {str(day): 6 for day in days}
    account({str(day): 6 for day in days}, database)
