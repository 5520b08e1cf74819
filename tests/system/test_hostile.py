"""A hostile site, a broken mirror, a careless operator: the real commands
refuse, reject and never lose (loopback addresses only; 127.0.0.2 is another host)."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from digest_crawler.periods import Period
from digest_crawler.site.urls import MAX_PAGES, PAGE_SIZE
from tests.support.cli import (
    CrawledArchive,
    copy_archive,
    crawl,
    crawl_command,
    crawl_env,
    export,
    feed_lines,
    listings_per_day,
    scrapy,
    table,
)
from tests.support.report import RELIABILITY
from tests.support.seed import seed_papers
from tests.support.site import Answer, Answers, LocalSite, json_answer, redirect, serve
from tests.support.sitegen import many_entries, props_json, render_listing, seed_entries

pytestmark = pytest.mark.system  # the real commands, in subprocesses

DAY = dt.date(2026, 3, 2)


def page(day: dt.date = DAY, count: int = 6, change: Any = None, **props: Any) -> bytes:
    """A listing of ``count`` seed papers; ``change(entries)`` edits them,
    ``props`` replace top-level props (e.g. ``periodType``)."""
    entries = seed_entries(day, seed_papers()[:count])
    if change is not None:
        change(entries)
    document = json.loads(props_json(entries, day, day - dt.timedelta(days=1)))
    document.update(props)
    return render_listing(entries, day, props=json.dumps(document)).encode()


def attack(site: LocalSite, tmp_path: Path, *arguments: str, **kwargs: Any) -> Any:
    RELIABILITY["faults injected"] += 1
    return crawl(site.url, tmp_path, "-a", f"date={DAY}", *arguments, **kwargs)


# -- the crawler follows and stores what it should not ---------------------------


@pytest.mark.parametrize("where", ["another host", "file:///dev/zero", "file:///etc/passwd"])
def test_a_redirect_off_the_site_fails_the_day_and_is_not_followed(
    site: LocalSite, tmp_path: Path, where: str
) -> None:
    with serve(host="127.0.0.2") as other:
        other.routes[f"/papers/date/{DAY}"] = Answer(body=page())
        target = f"{other.url}/papers/date/{DAY}" if where == "another host" else where
        site.routes[f"/papers/date/{DAY}"] = redirect(target)
        result = attack(site, tmp_path, feed=None, timeout=60)
        assert other.requests == []
    assert result.returncode == 1, result.stderr[-3000:]
    (day,) = table(tmp_path / "papers.sqlite", "crawl_listings")
    assert day["outcome"] == "failed" and day["reason"] == f"redirected off the site to {target!r}"
    assert table(tmp_path / "papers.sqlite") == []


@pytest.mark.parametrize(
    "answer", [redirect(f"/papers/date/{DAY}"), Answer(status=302)], ids=["loop", "no-Location"]
)
def test_a_redirect_loop_or_a_3xx_without_location_fails_the_run(
    site: LocalSite, tmp_path: Path, answer: Answer
) -> None:
    site.routes[f"/papers/date/{DAY}"] = answer
    result = attack(site, tmp_path, feed=None)
    assert result.returncode == 1, result.stderr[-3000:]
    (day,) = table(tmp_path / "papers.sqlite", "crawl_listings")
    assert day["outcome"] == "failed"
    assert day["reason"] in ("too many redirects", "HTTP 302 without a Location")


def test_a_redirect_to_a_url_too_long_for_scrapy_fails_its_day_and_the_run_goes_on(
    site: LocalSite, tmp_path: Path
) -> None:
    """Scrapy drops a request over URLLENGTH_LIMIT without a word: the day
    was neither read nor failed, and every later day of the run was left."""
    after = DAY + dt.timedelta(days=1)
    site.routes[f"/papers/date/{DAY}"] = redirect(f"/papers/date/{DAY}?q={'x' * 3000}")
    site.routes[f"/papers/date/{after}"] = Answer(body=page(after))
    RELIABILITY["faults injected"] += 1
    result = crawl(site.url, tmp_path, "-a", f"start={DAY}", "-a", f"end={after}", feed=None)
    assert result.returncode == 1, result.stderr[-3000:]
    assert site.page_requests() == [f"/papers/date/{DAY}", f"/papers/date/{after}"]
    first, second = table(tmp_path / "papers.sqlite", "crawl_listings")
    assert (first["outcome"], second["outcome"]) == ("failed", "stored")
    assert first["reason"].startswith("redirected to a URL that is 3,0")
    assert "first failure 2026-03-02: redirected to a URL" in result.stderr.splitlines()[-1]
    assert "Ignoring link" not in result.stderr


def test_links_that_are_not_http_are_dropped_and_counted_and_the_paper_kept(
    site: LocalSite, tmp_path: Path
) -> None:
    bad = [
        "javascript:alert(document.cookie)",
        "data:text/html,<script>x</script>",
        "file:///etc/passwd",
    ]

    def poison(entries: list[dict[str, Any]]) -> None:
        for entry, link in zip(entries, bad, strict=False):
            entry["paper"]["githubRepo"] = link
            entry["paper"]["projectPage"] = link

    site.routes[f"/papers/date/{DAY}"] = Answer(body=page(change=poison))
    result = attack(site, tmp_path, feed="crawl.jsonl")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "'digest/links_dropped': 6" in result.stderr
    rows = table(tmp_path / "papers.sqlite")
    assert len(rows) == 6
    links = {value for r in rows for value in (r["github_repo"], r["project_page"]) if value}
    assert all(link.startswith(("http://", "https://")) for link in links)
    for record in feed_lines(tmp_path / "crawl.jsonl"):
        assert not str(record["github_repo"] or "").startswith(("javascript", "data", "file"))


def test_page_text_cannot_forge_a_log_line(site: LocalSite, tmp_path: Path) -> None:
    forged = "day\n2026-01-01 00:00:00 [daily] INFO: All good, nothing to see"
    site.routes[f"/papers/date/{DAY}"] = Answer(body=page(periodType=forged))
    result = attack(site, tmp_path, feed=None)
    assert result.returncode == 0, result.stderr[-3000:]
    assert not any(line.startswith("2026-01-01 00:00:00") for line in result.stderr.splitlines())
    (day,) = table(tmp_path / "papers.sqlite", "crawl_listings")
    assert day["outcome"] == "no_digest" and "\n" not in day["reason"]
    assert repr(forged) in day["reason"]


def test_ids_in_other_scripts_digits_are_rejected_and_a_padded_id_is_trimmed_in_its_url(
    site: LocalSite, tmp_path: Path
) -> None:
    def edit(entries: list[dict[str, Any]]) -> None:
        entries[0]["paper"]["id"] = "\u0662\u0664\u0660\u0661.\u0660\u0660\u0660\u0660\u0661"
        entries[1]["paper"]["id"] = " 2401.00002 "

    site.routes[f"/papers/date/{DAY}"] = Answer(body=page(change=edit))
    result = attack(site, tmp_path, feed=None)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {r["arxiv_id"]: r for r in table(tmp_path / "papers.sqlite")}
    assert "\u0662\u0664\u0660\u0661.\u0660\u0660\u0660\u0660\u0661" not in rows and len(rows) == 5
    assert rows["2401.00002"]["url"] == f"{site.url}/papers/2401.00002"
    (rejected,) = table(tmp_path / "papers.sqlite", "rejected_items")
    assert "arxiv_id" in rejected["reason"]


def test_a_base_url_with_a_path_keeps_it_in_the_stored_urls(
    site: LocalSite, tmp_path: Path
) -> None:
    site.routes[f"/mirror/papers/date/{DAY}"] = Answer(body=page())
    result = crawl(f"{site.url}/mirror/", tmp_path, "-a", f"date={DAY}", feed=None)
    assert result.returncode == 0, result.stderr[-3000:]
    urls = [r["url"] for r in table(tmp_path / "papers.sqlite")]
    assert len(urls) == 6 and all(url.startswith(f"{site.url}/mirror/papers/") for url in urls)


def test_a_mirror_at_an_ipv6_address_is_crawled(tmp_path: Path) -> None:
    """Scrapy's default DNS resolver knows IPv4 only: every request to
    ``http://[::1]:PORT`` failed as a host name that does not resolve."""
    import socket

    try:
        socket.create_server(("::1", 0), family=socket.AF_INET6).close()
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback here: {exc}")
    with serve(host="::1") as site:
        site.routes[f"/papers/date/{DAY}"] = Answer(body=page())
        result = attack(site, tmp_path, feed=None)
    assert result.returncode == 0, result.stderr[-3000:]
    assert site.page_requests() == [f"/papers/date/{DAY}"]
    urls = [r["url"] for r in table(tmp_path / "papers.sqlite")]
    assert len(urls) == 6 and all(url.startswith(f"{site.url}/papers/") for url in urls)


# -- settings and arguments refused before anything happens ------------------------


@pytest.mark.parametrize("feed", ["papers.sqlite:jsonl", "raw/kept.jsonl"])
def test_a_crawl_feed_that_is_the_archive_s_own_file_is_refused_before_any_request(
    site: LocalSite, tmp_path: Path, feed: str
) -> None:
    """-O papers.sqlite:jsonl truncated the archive at the first item."""
    site.routes[f"/papers/date/{DAY}"] = Answer(body=page())
    assert attack(site, tmp_path, feed=None).returncode == 0
    stored = (tmp_path / "papers.sqlite").read_bytes()
    assert (tmp_path / "raw").is_dir()
    site.requests.clear()
    result = attack(site, tmp_path, feed=feed)
    assert result.returncode == 2, result.stderr[-2000:]
    (line,) = result.stderr.strip().splitlines()
    what = "is the archive itself" if feed.startswith("papers") else "is the raw answers' index"
    assert line.startswith(
        f"scrapy crawl daily: error: option -O/-o: {feed.split(':')[0]!r} {what}"
    )
    assert site.requests == [] and (tmp_path / "papers.sqlite").read_bytes() == stored


@pytest.mark.parametrize("feed", ["/proc/papers.jsonl", f"{'a' * 300}.jsonl"])
def test_a_feed_that_cannot_be_written_is_refused_before_any_request(
    site: LocalSite, tmp_path: Path, feed: str
) -> None:
    """It was a traceback in the log, and the run passed for done (exit 0)
    without its feed."""
    RELIABILITY["faults injected"] += 1
    result = attack(site, tmp_path, feed=feed)
    assert result.returncode == 2, result.stderr[-2000:]
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("scrapy crawl daily: error: option -O/-o: cannot write '")
    assert site.requests == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("DIGEST_BASE_URL=http://alice:s3cret@127.0.0.1:9", "holds a user name or password"),
        ("DIGEST_BASE_URL=http://127.0.0.1:9/?x=1", "has a query or fragment"),
        ("DIGEST_BASE_URL=http://127.0.0.1:9/#top", "has a query or fragment"),
        ("DIGEST_BASE_URL=http://127.0.0.1:99999", "has a port out of range"),
        ("DIGEST_DATABASE_URL=sqlite:///", "is an in-memory database"),
        ("DIGEST_DATABASE_URL=sqlite://", "is an in-memory database"),
        ("DIGEST_DATABASE_URL=mysql://a@127.0.0.1/x", "mysql is not supported"),
        ("DIGEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:1/x", "cannot connect"),
        ("DIGEST_BATCH_SIZE=0", "setting DIGEST_BATCH_SIZE: '0' is not a number of rows"),
        ("DIGEST_BATCH_SIZE=-5", "setting DIGEST_BATCH_SIZE: '-5' is not a number of rows"),
        ("DIGEST_BATCH_SIZE=many", "setting DIGEST_BATCH_SIZE: 'many' is not a number of rows"),
        ("DIGEST_PROGRESS_INTERVAL=abc", "setting DIGEST_PROGRESS_INTERVAL: 'abc' is not a number"),
        ("DIGEST_PROGRESS_INTERVAL=0.0001", "would flood the log"),
        ("DIGEST_RATELIMIT_MAX_WAIT=-5", "setting DIGEST_RATELIMIT_MAX_WAIT: '-5' is not a number"),
        ("DIGEST_RATELIMIT_MARGIN=abc", "setting DIGEST_RATELIMIT_MARGIN: 'abc' is not a number"),
        ("DIGEST_RATELIMIT_STATUSES=abc", "is not a list of HTTP statuses"),
        ("DIGEST_REFRESH=a,b", "setting DIGEST_REFRESH: 'a,b' is not a list of days"),
        ("DIGEST_REFRESH=0,3000000", "setting DIGEST_REFRESH: '0,3000000' is not a list of days"),
        ("DIGEST_TODAY=2020-01-01", "setting DIGEST_TODAY: 2020-01-01 is before the first digest"),
        ("DIGEST_STALE_DAYS=-1", "setting DIGEST_STALE_DAYS: '-1' is not a number of days"),
        ("DIGEST_TODAY=tomorrow", "setting DIGEST_TODAY: 'tomorrow' is not a date"),
        ("DIGEST_BASE_URL=http://[::1", "setting DIGEST_BASE_URL: 'http://[::1' is not a URL"),
        ("DIGEST_BASE_URL=http://127.0.0.1:0", "has a port out of range"),
        ("DIGEST_CA_BUNDLE=/nonexistent/ca.pem", "setting DIGEST_CA_BUNDLE: '/nonexistent"),
        ("DIGEST_CA_BUNDLE=/etc/passwd", "holds no PEM certificate"),
        ("LOG_FILE=/nonexistent/dir/crawl.log", "setting LOG_FILE: no directory"),
        ("LOG_FILE=/", "setting LOG_FILE: '/' is a directory"),
        ("DOWNLOAD_DELAY=abc", "setting DOWNLOAD_DELAY: 'abc' is not a number of seconds"),
        ("DOWNLOAD_DELAY=inf", "setting DOWNLOAD_DELAY: 'inf' is not a number of seconds"),
        ("DOWNLOAD_DELAY=-1", "setting DOWNLOAD_DELAY: '-1' is not a number of seconds"),
        ("CONCURRENT_REQUESTS=0", "setting CONCURRENT_REQUESTS: '0' is not a number of requests"),
        (
            "AUTOTHROTTLE_ENABLED=maybe",
            "setting AUTOTHROTTLE_ENABLED: 'maybe' is not True or False",
        ),
        (f"LOG_FILE={'a' * 300}.log", "setting LOG_FILE: cannot write 'aaa"),
        (f"DIGEST_DATABASE_URL=sqlite:///{'a' * 300}", "File name too long"),
        ("JOBDIR=/proc/nope/job", "setting JOBDIR: cannot make"),
        (
            "DIGEST_DATABASE_URL=sqlite:////nonexistentdir/papers.sqlite",
            "no directory '/nonexistentdir'",
        ),
    ],
)
def test_bad_settings_are_refused_before_any_request_or_file(
    site: LocalSite, tmp_path: Path, setting: str, message: str
) -> None:
    command = [*crawl_command(site.url, "-a", f"date={DAY}", feed=None), "-s", setting]
    result = subprocess.run(
        command, cwd=tmp_path, env=crawl_env(), capture_output=True, text=True, timeout=60
    )
    RELIABILITY["faults injected"] += 1
    assert result.returncode == 2, result.stderr[-2000:]
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("scrapy crawl daily: error: setting ") and message in line
    assert "s3cret" not in result.stderr
    assert site.requests == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("days=" + "1" * 20, "argument days: 111111111111... days reach before the first digest"),
        (
            "refresh_days=99999999",
            "argument refresh_days: 99999999 days reach before the first digest (2023-05-01)",
        ),
        ("start=0001-01-01", "argument start: 0001-01-01 is before the first digest (2023-05-01)"),
        (
            "date=\u0662\u0660\u0662\u0666-\u0660\u0663-\u0660\u0662",
            "argument date: '\u0662\u0660\u0662\u0666-\u0660\u0663-\u0660\u0662' is not a date (expected YYYY-MM-DD)",
        ),
        ("days=\u0663", "argument days: '\u0663' is not a whole number of days"),
    ],
)
def test_arguments_beyond_the_digest_are_refused_before_anything(
    site: LocalSite, tmp_path: Path, argument: str, message: str
) -> None:
    result = crawl(site.url, tmp_path, "-a", argument, feed=None)
    RELIABILITY["faults injected"] += 1
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line == f"scrapy crawl daily: error: {message}" or line.startswith(
        f"scrapy crawl daily: error: {message}"
    )
    assert site.requests == [] and list(tmp_path.iterdir()) == []


def test_two_crawls_at_once_on_an_empty_postgresql_database(
    site: LocalSite, tmp_path: Path, postgres_url: str
) -> None:
    from tests.support.cli import start_crawl

    site.routes[f"/papers/date/{DAY}"] = Answer(body=page())
    processes = [
        start_crawl(
            site.url,
            tmp_path,
            "-a",
            f"date={DAY}",
            "-s",
            f"DIGEST_DATABASE_URL={postgres_url}",
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120)[1] for process in processes]
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output[-3000:]


# -- the export command ---------------------------------------------------------------


@pytest.fixture
def archive(crawled_archive: CrawledArchive, tmp_path: Path) -> Path:
    """The test's own copy (in its ``tmp_path``) of an archive of 30 papers
    on DAY, crawled once for the module (conftest.py)."""
    routes: dict[str, Answer | Answers] = {f"/papers/date/{DAY}": Answer(body=page(count=30))}
    return copy_archive(crawled_archive([str(DAY)], routes), tmp_path)


def test_export_to_a_closed_pipe_is_a_normal_end(archive: Path) -> None:
    command = f"{sys.executable} -m scrapy export -o - | head -n 1"
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=archive,
        env=crawl_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["arxiv_id"] and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "scrapy export: stopped: standard output was closed by its reader"
    )


def test_export_writes_a_device_or_a_fifo_in_place(archive: Path) -> None:
    device = archive / "null"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own
    result = export(archive, "-o", str(device))
    assert result.returncode == 0, result.stderr
    assert stat.S_ISCHR(device.stat().st_mode)  # still the device, not a regular file
    fifo = archive / "fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE, text=True)
    assert export(archive, "-o", str(fifo)).returncode == 0
    assert len(reader.communicate(timeout=30)[0].splitlines()) == 30
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_new_feed_file_gets_the_mode_the_umask_gives_and_an_old_one_keeps_its_own(
    archive: Path,
) -> None:
    def run(*arguments: str) -> None:
        result = scrapy(
            archive, "export", *arguments, timeout=60, preexec_fn=lambda: os.umask(0o022)
        )
        assert result.returncode == 0, result.stderr

    run("-o", "new.jsonl")
    assert stat.S_IMODE((archive / "new.jsonl").stat().st_mode) == 0o644
    (archive / "old.jsonl").write_text("old\n")
    (archive / "old.jsonl").chmod(0o640)
    run("-o", "old.jsonl")
    assert stat.S_IMODE((archive / "old.jsonl").stat().st_mode) == 0o640
    assert len(feed_lines(archive / "old.jsonl")) == 30


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["-o", "."], "option --output: '.' is a directory"),
        (
            ["--min-upvotes", "9" * 30],
            "option --min-upvotes: 999999999999... is more than any count",
        ),
        (
            ["--min-upvotes", "3000000000"],
            "option --min-upvotes: Input should be less than or equal to 2147483647",
        ),
        (
            ["--changed-since", "9999-12-31T23:59:59-01:00"],
            "option --changed-since: '9999-12-31T23:59:59-01:00' is not a timestamp",
        ),
    ],
)
def test_export_options_no_archive_can_answer_are_one_line_errors(
    archive: Path, arguments: list[str], message: str
) -> None:
    result = export(archive, *arguments)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"scrapy export: error: {message}")


@pytest.mark.parametrize(
    ("command", "output", "message"),
    [
        ("export", "papers.sqlite", "is the archive itself (setting DIGEST_DATABASE_URL)"),
        ("export", "papers.sqlite-wal", "is the archive itself"),
        ("export", "link.jsonl", "is the archive itself"),
        ("export", "raw/kept.jsonl", "is the raw answers' index (setting DIGEST_RAW_DIR)"),
        ("export", "raw/digest-1.warc.gz", "is a file of raw answers (setting DIGEST_RAW_DIR)"),
        ("report", "papers.sqlite", "is the archive itself"),
    ],
)
def test_an_output_that_is_the_archive_s_own_file_is_refused_and_the_archive_kept(
    archive: Path, command: str, output: str, message: str
) -> None:
    (archive / "link.jsonl").symlink_to(archive / "papers.sqlite")
    (archive / "raw").mkdir()
    (archive / "raw" / "kept.jsonl").write_text("the raw answers' own\n")
    (archive / "raw" / "notes.jsonl").write_text("a person's own file\n")
    stored = (archive / "papers.sqlite").read_bytes()
    given = ["--format", "jsonl"] if command == "export" else []
    result = scrapy(archive, command, *given, "-o", output)
    RELIABILITY["faults injected"] += 1
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"scrapy {command}: error: option --output: {output!r} {message}")
    assert (archive / "papers.sqlite").read_bytes() == stored
    assert (archive / "raw" / "kept.jsonl").read_text() == "the raw answers' own\n"
    assert export(archive, "-o", "elsewhere.jsonl").returncode == 0  # the archive still reads
    assert len(feed_lines(archive / "elsewhere.jsonl")) == 30
    # The raw answers' folder may hold a person's own files: those are theirs.
    assert export(archive, "-o", "raw/notes.jsonl").returncode == 0
    assert len(feed_lines(archive / "raw" / "notes.jsonl")) == 30


@pytest.mark.parametrize("trouble", ["read-only directory", "full disk"])
def test_export_that_cannot_write_says_so_and_leaves_the_old_file(
    archive: Path, tmp_path: Path, trouble: str
) -> None:
    mount = tmp_path / "out"
    mount.mkdir()
    size = "64k" if trouble == "full disk" else "1m"
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)]
    ).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        (mount / "feed.jsonl").write_text("old feed\n")
        if trouble == "read-only directory":
            assert subprocess.run(["mount", "-o", "remount,ro", str(mount)]).returncode == 0
        else:  # 30 papers of about 2 KB do not fit beside the old feed
            (mount / "filler").write_bytes(b"x" * 20_000)
        result = export(archive, "-o", str(mount / "feed.jsonl"))
        RELIABILITY["faults injected"] += 1
        assert result.returncode == 2, result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith(
            "scrapy export: error: option --output: cannot write"
        ) or line.startswith("scrapy export: error: option --output")
        assert (mount / "feed.jsonl").read_text() == "old feed\n"
        assert sorted(p.name for p in mount.iterdir() if p.name.startswith(".")) == []
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_crawl_whose_feed_fills_the_disk_exits_1_and_says_so(
    site: LocalSite, tmp_path: Path
) -> None:
    """Scrapy logs that it could not store the feed, and the run passed for
    done (exit 0) with half a feed."""
    mount = tmp_path / "out"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(mount)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        site.routes[f"/papers/date/{DAY}"] = Answer(body=page(count=30))
        result = attack(site, tmp_path, feed=str(mount / "papers.jsonl"))
    finally:
        subprocess.run(["umount", str(mount)], check=False)
    assert result.returncode == 1, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("scrapy crawl daily: FAILED: 1 of 1 day stored (30 papers")
    assert last.endswith("; 1 feed (-O/-o) could not be written")


# -- found by a second round of attacks --------------------------------------------


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.2:{other}\\@127.0.0.1:{port}/papers/date/2026-03-02",
        "http://admin:hunter2@127.0.0.1:{port}/papers/date/2026-03-02",
    ],
    ids=["backslash", "credentials"],
)
def test_a_redirect_that_parsers_read_differently_or_that_carries_credentials_fails_the_day(
    site: LocalSite, tmp_path: Path, location: str
) -> None:
    with serve(host="127.0.0.2") as other:
        other.routes[f"/papers/date/{DAY}"] = Answer(body=page())
        port = site.url.rsplit(":", 1)[1]
        target = location.format(other=other.url.rsplit(":", 1)[1], port=port)
        site.routes[f"/papers/date/{DAY}"] = Answer(status=302, headers={"Location": target})
        result = attack(site, tmp_path, feed=None)
        assert other.requests == []
    assert result.returncode == 1, result.stderr[-3000:]
    (day,) = table(tmp_path / "papers.sqlite", "crawl_listings")
    assert day["outcome"] == "failed" and day["reason"].startswith("redirected off the site to")
    assert "hunter2" not in result.stderr and "hunter2" not in json.dumps(day)
    assert table(tmp_path / "papers.sqlite") == []


def test_robots_txt_redirected_to_another_host_is_not_followed(
    site: LocalSite, tmp_path: Path
) -> None:
    with serve(host="127.0.0.2") as other:
        site.routes["/robots.txt"] = redirect(f"{other.url}/robots.txt")
        site.routes[f"/papers/date/{DAY}"] = Answer(body=page())
        result = attack(site, tmp_path, feed=None)
        assert other.requests == []
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(table(tmp_path / "papers.sqlite")) == 6


def test_an_absurd_published_pace_is_capped_and_the_crawl_goes_on(
    site: LocalSite, tmp_path: Path
) -> None:
    policy = '"fixed window";"pages";q=1;w=999999999'  # 31 years between requests
    site.answer("/robots.txt").headers["RateLimit-Policy"] = policy
    site.routes[f"/papers/date/{DAY}"] = Answer(body=page())
    result = attack(site, tmp_path, "-s", "DIGEST_RATELIMIT_MAX_WAIT=1", feed=None, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "pacing at DIGEST_RATELIMIT_MAX_WAIT (1.0 s)" in result.stderr
    assert len(table(tmp_path / "papers.sqlite")) == 6


def test_a_pause_longer_than_any_run_waits_stops_the_run_and_the_next_resumes(
    site: LocalSite, tmp_path: Path
) -> None:
    """Capped at DIGEST_RATELIMIT_MAX_WAIT, a Retry-After of 277 hours kept a
    backfill going for days (each day: 5 requests 300 s apart). Now the
    first such answer stops the run (no retry): the days left are the next
    run's, and the closing line says why."""
    days = [DAY + dt.timedelta(days=n) for n in range(3)]
    refused = Answer(status=429, body=b"go away", headers={"Retry-After": "999999"})
    site.routes[f"/papers/date/{days[0]}"] = Answer(body=page(days[0]))
    site.routes[f"/papers/date/{days[1]}"] = refused
    site.routes[f"/papers/date/{days[2]}"] = Answer(body=page(days[2]))
    arguments = ("-a", f"start={days[0]}", "-a", f"end={days[-1]}", "-s", "DIGEST_TODAY=2026-08-10")
    result = crawl(site.url, tmp_path, *arguments, "-s", "DIGEST_STALE_DAYS=30", feed=None)
    RELIABILITY["faults injected"] += 1
    assert result.returncode == 1, result.stderr[-3000:]
    assert site.page_requests() == [f"/papers/date/{day}" for day in days[:2]]  # no retry
    summary = result.stderr.strip().splitlines()[-1]
    assert summary.startswith("scrapy crawl daily: FAILED: 1 of 3 days stored"), summary
    assert "stopped early (rate_limited); 2 left for the next run" in summary
    assert (
        f"first failure {days[1]}: HTTP 429, and the site asks for a pause of 277 h 46 min, longer"
        " than DIGEST_RATELIMIT_MAX_WAIT (300 s)"
    ) in summary
    site.routes[f"/papers/date/{days[1]}"] = Answer(body=page(days[1]))
    site.requests.clear()
    again = crawl(site.url, tmp_path, *arguments, "-s", "DIGEST_STALE_DAYS=30", feed=None)
    assert again.returncode == 0, again.stderr[-3000:]
    assert site.page_requests() == [f"/papers/date/{day}" for day in days[1:]]
    assert listings_per_day(tmp_path / "papers.sqlite") == {str(day): 6 for day in days}


@pytest.mark.parametrize(
    "absurd",
    ["9" * 5000, "-1", "1.5", "\u00b2", "\u0663", "", "0x10", "1e9"],
    ids=[
        "5000 digits",
        "negative",
        "a fraction",
        "superscript two",
        "arabic-indic three",
        "empty",
        "hexadecimal",
        "an exponent",
    ],
)
def test_absurd_rate_limit_headers_are_ignored_and_counted_never_a_failure(
    site: LocalSite, tmp_path: Path, absurd: str
) -> None:
    """The numbers of RateLimit, RateLimit-Policy and Retry-After (on a 429
    that a retry gets past), each absurd: the day is stored, exit status 0,
    one warning a header, no traceback."""
    absurd = absurd.encode().decode("latin-1")  # sent as its UTF-8 bytes
    site.answer("/robots.txt").headers["RateLimit-Policy"] = (
        f'"fixed window";"pages";q=100;w={absurd}'
    )
    limited = Answer(
        status=429,
        body=b"slow down",
        headers={"Retry-After": absurd, "RateLimit": f'"pages";r=0;t={absurd}'},
    )
    stored = Answer(body=page(), headers={"RateLimit": f'"pages";r={absurd};t=1'})
    site.routes[f"/papers/date/{DAY}"] = Answers(limited, stored)
    result = attack(site, tmp_path, feed=None, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(table(tmp_path / "papers.sqlite")) == 6
    assert "Traceback" not in result.stderr and "Exceeds the limit" not in result.stderr
    warned = [line for line in result.stderr.splitlines() if "Ignored the" in line]
    if absurd:  # an empty value is no value: nothing to ignore
        assert len(warned) == 3 and all(len(line) < 300 for line in warned)  # once a header
        assert "'digest/ratelimit_ignored': " in result.stderr
    assert site.page_requests() == [f"/papers/date/{DAY}"] * 2


@pytest.mark.parametrize(
    ("door", "entries"),
    [("api", 100_000), ("api", 5_500_000), ("html", 5_001), ("html", 2_000_000)],
    ids=["API 300 KB", "API 16 MB", "page 5,001 entries", "page 6 MB"],
)
def test_an_answer_far_larger_than_asked_fails_its_day_in_bounded_memory(
    site: LocalSite, tmp_path: Path, door: str, entries: int
) -> None:
    """``[{},{},...]`` for a day: 100,000 entries cost 305 MB and 155 MB of
    rejects, 5.5 million (under DOWNLOAD_MAXSIZE) a MemoryError. Now: the
    day fails in one line (``digest/oversized_answers``), nothing of it is
    stored, and the crawl's memory stays near a normal run's."""
    empty = "[" + "{}," * (entries - 1) + "{}]"
    if door == "api":
        site.routes[f"/api/daily_papers?date={DAY}&limit=100&p=0"] = json_answer(empty.encode())
    else:
        props = f'{{"dateString": "{DAY}", "dailyPapers": {empty}}}'
        site.routes[f"/papers/date/{DAY}"] = Answer(
            body=render_listing([], DAY, props=props).encode()
        )
    # The crawl's own peak memory, read by a parent of its own.
    measured = [
        sys.executable,
        "-c",
        "import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]);"
        " print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr);"
        " sys.exit(code)",
        *crawl_command(site.url, "-a", f"date={DAY}", "-a", f"source={door}", feed=None),
    ]
    RELIABILITY["faults injected"] += 1
    result = subprocess.run(
        measured, cwd=tmp_path, env=crawl_env(), capture_output=True, text=True, timeout=120
    )
    *_, summary, peak_kb = result.stderr.strip().splitlines()
    assert result.returncode == 1, result.stderr[-3000:]
    assert "more than" in summary and "first failure 2026-03-02: " in summary
    assert "'digest/oversized_answers': 1" in result.stderr
    assert table(tmp_path / "papers.sqlite", "rejected_items") == []
    assert int(peak_kb) < 300_000  # a normal crawl: about 120 MB
    assert (tmp_path / "papers.sqlite").stat().st_size < 1_000_000
    assert len(result.stderr) < 100_000


def test_a_day_past_the_api_page_cap_keeps_what_was_read_and_is_read_again(
    site: LocalSite, tmp_path: Path
) -> None:
    """5,001 papers through the API (51 pages of 100): the 5,000 read are
    stored, the day stays failed and unsettled, exit status 1, and the next
    run of the same day reads it again (a run never passes for done)."""
    site.add_api(Period.parse("day", str(DAY)), many_entries(DAY, MAX_PAGES * PAGE_SIZE + 1))
    arguments = ("-a", "source=api", "-s", "DIGEST_API_DELAY=0")
    for run in (1, 2):
        result = attack(site, tmp_path, *arguments, feed=None, timeout=300)
        assert result.returncode == 1, result.stderr[-3000:]
        assert result.stderr.strip().splitlines()[-1] == (
            "scrapy crawl daily: FAILED: 0 of 1 day stored (5000 papers, 0 rejected), 0 without"
            " a digest, 1 failed; 1 left for the next run; first failure 2026-03-02: incomplete:"
            " the API's list goes on past 50 pages of 100 (5,000 papers, more than any listing"
            " holds)"
        )
        assert "'digest/listings_incomplete': 1" in result.stderr
        calls = [path for path in site.requests if path.startswith("/api/")]
        assert len(calls) == 50 * run  # never the 51st page
    assert len(table(tmp_path / "papers.sqlite")) == 5000
    ledger = table(tmp_path / "papers.sqlite", "crawl_listings")
    assert [(row["outcome"], row["papers"]) for row in ledger] == [("failed", 5000)] * 2
    assert table(tmp_path / "papers.sqlite", "listing_days") == []  # not settled
    runs = table(tmp_path / "papers.sqlite", "crawl_runs")
    assert [(row["complete"], row["resumed_by"]) for row in runs] == [(0, 2), (0, None)]


def test_export_since_after_until_is_an_error_and_keeps_the_old_feed(archive: Path) -> None:
    (archive / "feed.jsonl").write_text("old feed\n")
    result = export(archive, "--since", "2026-03-05", "--until", "2026-03-01", "-o", "feed.jsonl")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "scrapy export: error: option --since: 2026-03-05 is after --until 2026-03-01"
    )
    assert (archive / "feed.jsonl").read_text() == "old feed\n"


def test_export_organization_names_match_in_any_case_beyond_ascii(archive: Path) -> None:
    import sqlite3

    connection = sqlite3.connect(archive / "papers.sqlite")
    with connection:
        # As the writer stores a name: with its key in (Python's) lower case.
        connection.execute(
            "UPDATE papers SET organization = 'École Polytechnique',"
            " organization_key = 'école polytechnique' WHERE arxiv_id ="
            " (SELECT min(arxiv_id) FROM papers)"
        )
    connection.close()
    for name in ("École Polytechnique", "école polytechnique", "ÉCOLE POLYTECHNIQUE"):
        result = export(archive, "--organization", name, "-o", "-")
        assert result.returncode == 0, result.stderr
        assert [json.loads(line)["organization"] for line in result.stdout.splitlines()] == [
            "École Polytechnique"
        ]


def test_an_unreadable_schema_version_is_one_line(archive: Path) -> None:
    import sqlite3

    connection = sqlite3.connect(archive / "papers.sqlite")
    with connection:
        connection.execute("INSERT INTO alembic_version VALUES ('0002')")
    connection.close()
    result = export(archive, "-o", "-")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "alembic_version holds 2 rows" in line and "an archive has one schema version" in line


def test_a_forced_shutdown_exits_1(site: LocalSite, tmp_path: Path) -> None:
    """Ctrl-C twice while a page is slow: Scrapy stops at once, unclean; the
    run has days left and the exit status says so."""
    import signal
    import time

    from tests.support.cli import start_crawl

    site.routes[f"/papers/date/{DAY}"] = Answer(body=page(), delay=20)
    process = start_crawl(site.url, tmp_path, "-a", f"date={DAY}", stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while f"/papers/date/{DAY}" not in site.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    _, output = process.communicate(timeout=30)
    RELIABILITY["faults injected"] += 1
    assert process.returncode == 1, output[-3000:]
    (run,) = table(tmp_path / "papers.sqlite", "crawl_runs")
    assert run["complete"] == 0


def test_a_night_without_network_fails_fast_in_a_few_lines(tmp_path: Path) -> None:
    """A host name that does not resolve: no retries, no traceback, and the
    last line says what happened (the .invalid name never resolves)."""
    import time

    started = time.monotonic()
    result = crawl(
        "http://digest-crawler-test.invalid", tmp_path, "-s", "DIGEST_TODAY=2026-03-20", feed=None
    )
    RELIABILITY["faults injected"] += 1
    assert result.returncode == 1
    assert time.monotonic() - started < 60
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("scrapy crawl daily: FAILED: 0 of 6 days stored")
    assert "6 failed" in last and "DNS lookup failed" in last
    assert "'retry/count'" not in result.stderr


BLOCK_PSYCOPG = """
import sys


class _NoPsycopg:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("psycopg", "psycopg2"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NoPsycopg())
"""


@pytest.mark.parametrize(
    "command",
    [["export"], ["search", "memory"], ["report"], ["upgrade"], ["crawl", "daily"]],
    ids=["export", "search", "report", "upgrade", "crawl"],
)
@pytest.mark.parametrize(
    ("database_url", "message"),
    [
        (
            "postgresql+psycopg://digest@127.0.0.1/archive",
            "'postgresql+psycopg://digest@127.0.0.1/archive': No module named 'psycopg'"
            " (pip install -e '.[postgresql]')",
        ),
        ("papers.sqlite", "'papers.sqlite' is not a database URL"),
    ],
    ids=["no-driver", "no-url"],
)
def test_a_database_url_no_command_can_use_is_one_line_in_every_command(
    tmp_path: Path, command: list[str], database_url: str, message: str
) -> None:
    """A fresh clone without the postgresql extra (psycopg's import fails,
    as a sitecustomize makes it here), or a path given for a URL: one line
    naming the setting and exit status 2, in the crawl and every reader."""
    (tmp_path / "blocker").mkdir()
    (tmp_path / "blocker" / "sitecustomize.py").write_text(BLOCK_PSYCOPG)
    env = {**crawl_env(), "PYTHONPATH": f"{tmp_path / 'blocker'}:{crawl_env()['PYTHONPATH']}"}
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", *command, "-s", f"DIGEST_DATABASE_URL={database_url}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    RELIABILITY["faults injected"] += 1
    assert result.returncode == 2, result.stderr[-2000:]
    name = " ".join(command[:2]) if command[0] == "crawl" else command[0]
    assert result.stderr == f"scrapy {name}: error: setting DIGEST_DATABASE_URL: {message}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker"]
