"""``scrapy export`` after crawling the fixtures with the real command."""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from digest_crawler.outputs.records import (
    HISTORY_FIELDS,
    SCHEMA_VERSION,
    json_schema,
    shipped_schema,
)
from digest_crawler.paper import PAPER_FIELDS
from digest_crawler.storage.migrate import head_version
from tests.conftest import FIXTURES, fixture_text
from tests.support import docs
from tests.support.cli import (
    PROJECT,
    crawl,
    crawl_env,
    db_rows,
    export,
    feed_lines,
    scrapy,
    table,
)
from tests.support.readback import (
    comparable,
    read_atom,
    read_csv,
    read_entries,
    read_jsonfeed,
    read_parquet,
    read_rss,
)
from tests.support.site import Answer, serve
from tests.support.sitegen import day_page

pytestmark = pytest.mark.system  # the real commands, in subprocesses

# Three crawled days (one read from cards) and their crawl feeds: the
# archive and workdir fixtures (conftest.py).
DAYS = ("2026-03-09", "2026-03-11", "2026-07-31")
HEAD = head_version()  # this release's schema version
ARCHIVE_V1 = FIXTURES / "archive-v1.sqlite"  # schema version 1: see fixtures/README.md
HEAD = head_version()


def run(workdir: Path, *arguments: str) -> list[dict[str, Any]]:
    result = export(workdir, "-o", "feed.jsonl", *arguments)
    assert result.returncode == 0, result.stderr
    return feed_lines(workdir / "feed.jsonl")


def test_exports_every_paper_ordered_by_listing_date_then_id(workdir: Path) -> None:
    records = run(workdir)
    papers = db_rows(workdir / "papers.sqlite", "SELECT arxiv_id, listing_date FROM papers")
    assert len(records) == len(papers) == 55 + 30  # 2026-03-11's 20 cards are seed papers of 03-09
    assert [(r["listing_date"], r["arxiv_id"]) for r in records] == sorted(
        (p["listing_date"], p["arxiv_id"]) for p in papers
    )
    for record in records:
        assert list(record) == [*PAPER_FIELDS, "schema_version", "settled", "rank"]
        assert record["rank"] is None  # a list's rank: --week and --month only
        assert record["schema_version"] == SCHEMA_VERSION


def test_export_has_the_crawl_feeds_fields_types_and_values(workdir: Path) -> None:
    crawled = {r["arxiv_id"]: r for r in feed_lines(workdir / "crawl-2026-07-31.jsonl")}
    exported = {
        r["arxiv_id"]: r for r in run(workdir, "--since", "2026-07-31", "--until", "2026-07-31")
    }
    assert exported.keys() == crawled.keys()
    for arxiv_id, record in exported.items():
        assert {
            k: v for k, v in record.items() if k not in ("schema_version", "settled", "rank")
        } == crawled[arxiv_id]


def test_two_exports_are_byte_identical(workdir: Path) -> None:
    assert export(workdir, "-o", "one.jsonl").returncode == 0
    assert export(workdir, "-o", "two.jsonl", "--with-history").returncode == 0
    assert export(workdir, "-o", "three.jsonl").returncode == 0
    assert (workdir / "one.jsonl").read_bytes() == (workdir / "three.jsonl").read_bytes()
    assert (workdir / "one.jsonl").read_bytes() != (workdir / "two.jsonl").read_bytes()


def test_listing_date_filters_are_inclusive(workdir: Path) -> None:
    records = run(workdir, "--since", "2026-03-09", "--until", "2026-03-09")
    assert len(records) == 55 and {r["listing_date"] for r in records} == {"2026-03-09"}
    assert run(workdir, "--since", "2026-03-10", "--until", "2026-07-30") == []
    assert {r["listing_date"] for r in run(workdir, "--since", "2026-03-10")} == {"2026-07-31"}


def test_by_published_filters_and_orders_by_the_arxiv_date(workdir: Path) -> None:
    records = run(workdir, "--by", "published", "--since", "2025-10-01", "--until", "2025-12-31")
    dates = [r["published_at"] for r in records]
    assert dates and all("2025-10-01" <= d <= "2025-12-31" for d in dates)
    keys = [(r["published_at"], r["arxiv_id"]) for r in records]
    assert keys == sorted(keys)
    everything = run(workdir, "--by", "published")
    assert [r["published_at"] for r in everything] == sorted(r["published_at"] for r in everything)


def test_min_upvotes_and_organization_filters(workdir: Path) -> None:
    popular = run(workdir, "--min-upvotes", "100")
    assert sorted(r["upvotes"] for r in popular) == [168, 283, 292]
    by_name = run(workdir, "--organization", "kling team")
    by_handle = run(workdir, "--organization", "KlingTeam")
    assert by_name == by_handle and {r["arxiv_id"] for r in by_name} == {"2607.28509", "2607.28595"}


def test_changed_since_returns_exactly_the_papers_changed_by_a_recrawl(tmp_path: Path) -> None:
    page = fixture_text("listing-2026-07-31.html")
    with serve() as site:
        assert crawl(site.url, tmp_path, "-a", "date=2026-07-31", feed=None).returncode == 0
        time.sleep(0.01)
        after_first_crawl = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
        assert run(tmp_path, "--changed-since", after_first_crawl) == []
        page = page.replace("&quot;upvotes&quot;:292", "&quot;upvotes&quot;:300")
        page = page.replace("&quot;numComments&quot;:7", "&quot;numComments&quot;:9")
        site.routes["/papers/date/2026-07-31"] = Answer(body=page.encode())
        assert crawl(site.url, tmp_path, "-a", "date=2026-07-31", feed=None).returncode == 0
    changed = run(tmp_path, "--changed-since", after_first_crawl)
    assert {r["arxiv_id"]: (r["upvotes"], r["num_comments"]) for r in changed} == {
        "2607.28618": (300, 2),
        "2607.28227": (283, 9),
    }
    assert (
        len(run(tmp_path, "--changed-since", "2026-01-01")) == 30
    )  # a date means its midnight UTC


def test_with_history_adds_listings_and_snapshots(workdir: Path) -> None:
    records = {r["arxiv_id"]: r for r in run(workdir, "--with-history")}
    record = records["2607.28618"]
    assert record["listings"] == [{"listing_date": "2026-07-31", "rank": 29}]
    (snapshot,) = record["upvote_snapshots"]
    assert (snapshot["upvotes"], snapshot["num_comments"], snapshot["github_stars"]) == (292, 2, 8)
    assert snapshot["observed_at"].endswith("Z")
    # A seed paper listed on 2026-03-09 and again (from cards) on 2026-03-11.
    assert [
        entry["listing_date"]
        for entry in records[
            next(iter(r for r in records.values() if r["title"].startswith("ETTRL")))["arxiv_id"]
        ]["listings"]
    ] == ["2026-03-09", "2026-03-11"]


def test_every_record_validates_against_the_shipped_schema(workdir: Path) -> None:
    schema = shipped_schema()
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    records = run(workdir, "--with-history")
    for record in records + feed_lines(workdir / "crawl-2026-07-31.jsonl"):
        validator.validate(record)
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({**records[0], "upvotes": -1})


def test_shipped_schema_is_generated_from_the_model() -> None:
    assert shipped_schema() == json_schema(), (
        "run: python -m digest_crawler.outputs.records > digest_crawler/paper.schema.json"
    )


def test_standard_output_and_the_summary_line(workdir: Path) -> None:
    result = export(workdir, "--since", "2026-07-31")
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 30
    assert (
        result.stderr.strip()
        == "Exported 30 records (listing dates 2026-07-31 to 2026-07-31) to standard output"
    )
    result = export(workdir, "-o", "out.jsonl", "--until", "2026-03-09")
    assert (
        result.stderr.strip()
        == "Exported 55 records (listing dates 2026-03-09 to 2026-03-09) to out.jsonl"
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--since", "2026-02-30"],
            "option --since: '2026-02-30' is not a valid date (day is out of range for month)",
        ),
        (["--until", "tomorrow"], "option --until: 'tomorrow' is not a date (expected YYYY-MM-DD)"),
        (["--by", "submitted"], "option --by: Input should be 'listing' or 'published'"),
        (["--min-upvotes", "many"], "option --min-upvotes: 'many' is not a whole number"),
        (
            ["--changed-since", "last week"],
            "option --changed-since: 'last week' is not a timestamp",
        ),
        (["--frobnicate"], "unexpected argument '--frobnicate'"),
        (["--format", "xml"], "option --format: 'xml' is not a format (one of jsonl, csv,"),
        (["-o", "feed.xlsx"], "option --output: no format for the extension '.xlsx'"),
        (["--week", "2026-W54"], "option --week: '2026-W54' is not a week (2026 has 53 ISO weeks)"),
        (["--month", "2026-13"], "option --month: '2026-13' is not a month (expected YYYY-MM"),
        (["--week", "2026-W31", "--month", "2026-07"], "option --week and --month: give one"),
        (
            ["--format", "atom", "--with-history"],
            "option --with-history: the atom format has no place for it",
        ),
    ],
)
def test_bad_options_are_one_line_errors_and_leave_the_output_alone(
    workdir: Path, arguments: list[str], message: str
) -> None:
    (workdir / "feed.jsonl").write_text("previous feed\n")
    result = export(workdir, "-o", "feed.jsonl", *arguments)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"scrapy export: error: {message}")
    assert (workdir / "feed.jsonl").read_text() == "previous feed\n"
    assert [p.name for p in workdir.iterdir() if p.name.startswith(".feed")] == []


def test_missing_database_is_an_error_and_creates_nothing(tmp_path: Path) -> None:
    result = export(tmp_path, "-o", "feed.jsonl")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "scrapy export: error: no database at sqlite:///papers.sqlite (run scrapy crawl daily first)"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_database_without_papers_table_is_an_error(tmp_path: Path) -> None:
    import sqlite3

    sqlite3.connect(tmp_path / "other.sqlite").execute("CREATE TABLE x (y)").connection.close()
    result = export(
        tmp_path, "-o", "feed.jsonl", database_url=f"sqlite:///{tmp_path / 'other.sqlite'}"
    )
    assert result.returncode == 2 and "has no papers table" in result.stderr
    assert not (tmp_path / "feed.jsonl").exists()


def test_export_from_postgresql(tmp_path: Path, postgres_url: str) -> None:
    with serve() as site:
        result = crawl(
            site.url,
            tmp_path,
            "-a",
            "date=2026-07-31",
            "-s",
            f"DIGEST_DATABASE_URL={postgres_url}",
            feed="crawl.jsonl",
        )
        assert result.returncode == 0, result.stderr[-2000:]
    result = export(tmp_path, "-o", "feed.jsonl", "--with-history", database_url=postgres_url)
    assert result.returncode == 0, result.stderr
    records = feed_lines(tmp_path / "feed.jsonl")
    crawled = {r["arxiv_id"]: r for r in feed_lines(tmp_path / "crawl.jsonl")}
    assert [r["arxiv_id"] for r in records] == sorted(crawled)
    for record in records:
        assert {
            k: v
            for k, v in record.items()
            if k not in ("schema_version", "settled", "rank", *HISTORY_FIELDS)
        } == crawled[record["arxiv_id"]]
        assert len(record["upvote_snapshots"]) == 1


def upgrade(workdir: Path) -> subprocess.CompletedProcess[str]:
    return scrapy(workdir, "upgrade")


def test_an_archive_of_version_1_is_refused_until_scrapy_upgrade(tmp_path: Path) -> None:
    shutil.copy(ARCHIVE_V1, tmp_path / "papers.sqlite")
    before = db_rows(
        tmp_path / "papers.sqlite", "SELECT arxiv_id, authors FROM papers ORDER BY arxiv_id"
    )
    result = export(tmp_path, "-o", "feed.jsonl")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "scrapy export: error: sqlite:///papers.sqlite has schema version 1, this release reads"
        f" version {HEAD}: run scrapy upgrade (or a crawl) to upgrade it in place"
    )
    assert not (tmp_path / "feed.jsonl").exists()

    result = upgrade(tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(
        f"Upgraded sqlite:///papers.sqlite from schema version 1 to {HEAD}; VACUUM: [0-9]+% of"
        r" its pages were free, 0\.[0-9] MB -> 0\.[0-9] MB \(16 KB pages, were 4 KB\)",
        result.stderr.strip(),
    ), result.stderr
    assert upgrade(tmp_path).stderr.strip() == (
        f"sqlite:///papers.sqlite is at schema version {HEAD}: nothing to do"
    )
    records = run(tmp_path)
    assert sorted(r["arxiv_id"] for r in records) == [r["arxiv_id"] for r in before]
    # Papers only ever read from cards had JSON null names: now SQL NULL, exported as null.
    from_cards = {r["arxiv_id"] for r in before if r["authors"] == "null"}
    assert from_cards == {r["arxiv_id"] for r in records if r["authors"] is None} != set()


def test_upgrade_without_an_archive_is_an_error_and_creates_nothing(tmp_path: Path) -> None:
    result = upgrade(tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "scrapy upgrade: error: no database at sqlite:///papers.sqlite"
    assert list(tmp_path.iterdir()) == []


def test_export_takes_no_lock_a_crawl_would_wait_for(workdir: Path) -> None:
    """A crawl holding the write lock does not stop an export, and an export
    leaves the lock free (it only reads)."""
    writer = sqlite3.connect(workdir / "papers.sqlite", isolation_level=None, timeout=0)
    writer.execute("BEGIN IMMEDIATE")  # what a crawl's listing transaction takes
    try:
        records = run(workdir)
    finally:
        writer.execute("ROLLBACK")
    assert len(records) == len(db_rows(workdir / "papers.sqlite", "SELECT * FROM papers"))


@pytest.mark.parametrize("wal", [False, True], ids=["closed", "write-ahead-log-left"])
def test_export_reads_an_archive_on_a_read_only_mount(
    workdir: Path, tmp_path: Path, wal: bool
) -> None:
    """Closed cleanly, or with a write-ahead log still to read (a crawl
    killed mid-run), the copy on a read-only mount exports every paper."""
    mount = tmp_path / "ro"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    writer = None
    try:
        if wal:  # one more paper, committed to the log only
            writer = sqlite3.connect(workdir / "papers.sqlite", isolation_level=None)
            writer.execute("PRAGMA wal_autocheckpoint=0")
            columns = [row[1] for row in writer.execute("PRAGMA table_info(papers)")]
            copied = ", ".join("'2699.00001'" if c == "arxiv_id" else c for c in columns)
            writer.execute(
                f"INSERT INTO papers ({', '.join(columns)}) SELECT {copied} FROM papers LIMIT 1"
            )
            assert (workdir / "papers.sqlite-wal").stat().st_size > 0
        for name in ("papers.sqlite", "papers.sqlite-wal", "papers.sqlite-shm"):
            if (workdir / name).exists():
                shutil.copy(workdir / name, mount / name)
        assert subprocess.run(["mount", "-o", "remount,ro", str(mount)]).returncode == 0
        result = export(
            workdir, "-o", "feed.jsonl", database_url=f"sqlite:///{mount / 'papers.sqlite'}"
        )
        assert result.returncode == 0, result.stderr
        exported = {r["arxiv_id"] for r in feed_lines(workdir / "feed.jsonl")}
        stored = {r["arxiv_id"] for r in db_rows(workdir / "papers.sqlite", "SELECT * FROM papers")}
        assert exported == stored and ("2699.00001" in exported) == wal
    finally:
        if writer is not None:
            writer.close()
        subprocess.run(["umount", str(mount)], check=False)


def test_the_feed_reads_in_pandas_as_readme_says(workdir: Path) -> None:
    """pandas guesses types from JSON values: an id such as 2401.76000 would
    become the float 2401.76 without the dtype README gives."""
    import pandas as pd

    records = run(workdir)
    papers = pd.read_json(workdir / "feed.jsonl", lines=True, dtype={"arxiv_id": str})
    assert list(papers["arxiv_id"]) == [record["arxiv_id"] for record in records]
    assert any(record["arxiv_id"].endswith("0") for record in records)  # the ids at risk


# -- formats, lists, scheduling ----------------------------------------------------

FILES = {
    "jsonl": "papers.jsonl",
    "csv": "papers.csv",
    "parquet": "papers.parquet",
    "atom": "daily.atom",
    "rss": "daily.rss",
    "jsonfeed": "feed.json",
}


def to_file(kind: str) -> tuple[str, ...]:
    """The options that export ``kind`` to its file in ``FILES``: by the
    file's extension, but .json (a JSON Feed or a JSON array?) names no one."""
    return ("-o", FILES[kind], *(("--format", kind) if FILES[kind].endswith(".json") else ()))


@pytest.fixture(params=["sqlite", "postgresql"])
def crawled(
    request: pytest.FixtureRequest, archive: Path, tmp_path: Path
) -> tuple[Path, str | None]:
    """A crawled archive (and its database URL; None: papers.sqlite in the
    directory), on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        shutil.copy(archive / "papers.sqlite", tmp_path / "papers.sqlite")
        return tmp_path, None
    url = request.getfixturevalue("postgres_url")
    with serve() as site:
        for day in ("2026-03-09", "2026-07-31"):
            result = crawl(
                site.url,
                tmp_path,
                "-a",
                f"date={day}",
                "-s",
                f"DIGEST_DATABASE_URL={url}",
                feed=None,
            )
            assert result.returncode == 0, result.stderr[-2000:]
    return tmp_path, url


def test_every_format_reads_back_to_the_same_papers(crawled: tuple[Path, str | None]) -> None:
    """Each format by its file's extension: Parquet and CSV to the JSONL's
    values, the feeds one valid entry per paper, newest listing first; to
    standard output (but Parquet) the same bytes as the file."""
    workdir, url = crawled
    for kind in FILES:
        result = export(workdir, *to_file(kind), database_url=url)
        assert result.returncode == 0, (kind, result.stderr)
        assert result.stderr.strip().startswith(
            "Exported 85 records" if url is None else "Exported"
        )
    records = feed_lines(workdir / "papers.jsonl")
    assert len(records) >= 55
    reference = comparable(records)
    assert read_parquet(workdir / "papers.parquet") == reference
    assert comparable(read_csv((workdir / "papers.csv").read_bytes())) == reference
    newest = [r["url"] for r in sorted(records, key=lambda r: (r["listing_date"], r["arxiv_id"]))]
    newest.reverse()
    assert [e["id"] for e in read_atom((workdir / "daily.atom").read_bytes())] == newest
    assert [e["id"] for e in read_rss((workdir / "daily.rss").read_bytes())] == newest
    items = read_jsonfeed((workdir / "feed.json").read_bytes())["items"]
    assert [item["id"] for item in items] == newest
    for kind, name in FILES.items():
        if kind != "parquet":
            command = [sys.executable, "-m", "scrapy", "export", "--format", kind]
            if url:
                command += ["-s", f"DIGEST_DATABASE_URL={url}"]
            again = subprocess.run(
                command, cwd=workdir, env=crawl_env(), capture_output=True, timeout=120
            )
            assert again.returncode == 0 and again.stdout == (workdir / name).read_bytes(), kind


def add_lists(database: Path) -> list[str]:
    """The week 2026-W31's list (2026-07-31's papers, most upvoted first) and
    an empty month; returns the week's ids in rank order."""
    connection = sqlite3.connect(database)
    try:
        ids = [
            row[0]
            for row in connection.execute(
                "SELECT arxiv_id FROM papers WHERE listing_date = '2026-07-31'"
                " ORDER BY upvotes DESC, arxiv_id LIMIT 10"
            )
        ]
        seen = "2026-08-02T00:00:00.000000Z"
        connection.executemany(
            "INSERT INTO period_listings VALUES ('week', '2026-07-27', ?, ?, ?, ?)",
            [(arxiv_id, rank, seen, seen) for rank, arxiv_id in enumerate(ids, start=1)],
        )
        connection.commit()
    finally:
        connection.close()
    return ids


def test_a_weeks_list_in_rank_order_with_ranks_and_other_filters(workdir: Path) -> None:
    ids = add_lists(workdir / "papers.sqlite")
    records = run(workdir, "--week", "2026-W31")
    assert [(r["arxiv_id"], r["rank"]) for r in records] == [
        (arxiv_id, rank) for rank, arxiv_id in enumerate(ids, start=1)
    ]
    popular = run(workdir, "--week", "2026-W31", "--min-upvotes", "100")
    assert [r["rank"] for r in popular] == [1, 2, 3]
    assert run(workdir, "--week", "2026-W31", "--since", "2026-08-01") == []
    result = export(workdir, "-o", "week.atom", "--week", "2026-W31", "--min-upvotes", "100")
    assert result.returncode == 0, result.stderr
    entries = read_atom((workdir / "week.atom").read_bytes())
    assert [e["id"] for e in entries] == [r["url"] for r in popular]
    assert "rank 1" in entries[0]["content"][0]["value"]


@pytest.mark.parametrize("kind", list(FILES))
def test_a_list_the_archive_does_not_hold_is_an_empty_export_and_a_note(
    workdir: Path, kind: str
) -> None:
    add_lists(workdir / "papers.sqlite")
    result = export(workdir, *to_file(kind), "--month", "2026-07")
    assert result.returncode == 0, result.stderr
    note, summary = result.stderr.strip().splitlines()
    assert note == (
        "scrapy export: note: no list of the month 2026-07 is stored (crawl it with scrapy crawl"
        " daily -a month=2026-07; its days: --since 2026-07-01 --until 2026-07-31)"
    )
    assert summary == f"Exported 0 records (no dates) to {FILES[kind]}"
    data = (workdir / FILES[kind]).read_bytes()
    assert read_entries(kind, workdir / FILES[kind]) == []
    if kind == "csv":
        assert len(data.splitlines()) == 1  # the header
    elif kind == "jsonl":
        assert data == b""


def test_parquet_is_not_written_to_a_terminal(workdir: Path) -> None:
    import pty

    leader, follower = pty.openpty()
    try:
        # Standard output, or the terminal named as a file (/dev/pts/N).
        results = [
            subprocess.run(
                [sys.executable, "-m", "scrapy", "export", "--format", "parquet", *output],
                cwd=workdir,
                env=crawl_env(),
                stdout=follower,
                stderr=subprocess.PIPE,
                text=True,
                timeout=120,
            )
            for output in ([], ["-o", os.ttyname(follower)])
        ]
    finally:
        os.close(follower)
        os.close(leader)
    for result in results:
        assert result.returncode == 2
        assert result.stderr.strip() == (
            "scrapy export: error: option --format: parquet is binary: give -o FILE, or pipe it"
        )
    piped = subprocess.run(
        [sys.executable, "-m", "scrapy", "export", "--format", "parquet"],
        cwd=workdir,
        env=crawl_env(),
        capture_output=True,
        timeout=120,
    )
    assert piped.returncode == 0 and piped.stdout.startswith(b"PAR1")


def test_parquet_without_pyarrow_names_the_extra(workdir: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "blocker" / "pyarrow"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('not installed')\n")
    env = crawl_env()
    env["PYTHONPATH"] = f"{blocker.parent}{os.pathsep}{env['PYTHONPATH']}"
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "export", "-o", "papers.parquet"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "scrapy export: error: the parquet format needs pyarrow:"
        " pip install 'digest_crawler[parquet]'"
    )
    assert not (workdir / "papers.parquet").exists()


def test_every_export_command_the_docs_show_runs(workdir: Path) -> None:
    add_lists(workdir / "papers.sqlite")
    commands = [
        line
        for page in docs.pages()
        for line in docs.shell_lines(page.read_text(encoding="utf-8"), ".venv/bin/scrapy export")
    ]
    assert len(commands) >= 10 and any("--week" in c for c in commands)
    for command in commands:
        line = command.replace(".venv/bin/scrapy", f"{shlex.quote(sys.executable)} -m scrapy", 1)
        result = subprocess.run(
            ["/bin/sh", "-c", line],
            cwd=workdir,
            env=crawl_env(),
            capture_output=True,
            timeout=120,
        )
        assert result.returncode == 0, (command, result.stderr[-2000:])


def test_the_documented_cron_line_rewrites_the_atom_feed_after_the_crawl(tmp_path: Path) -> None:
    """docs/deployment.md's crontab line for a feed, in a fresh checkout: the
    crawl, then daily.atom rewritten in place (a new file renamed over the old one)."""
    readme = docs.text("deployment.md")
    (line,) = [
        text.strip()
        for text in readme.splitlines()
        if text.strip()[:2].isdigit() and "daily.atom" in text
    ]
    checkout = tmp_path / "digest_crawler"
    checkout.mkdir()
    shutil.copy(PROJECT / "scrapy.cfg", checkout / "scrapy.cfg")
    (checkout / ".venv").symlink_to(Path(sys.executable).parent.parent)
    fields = line.split(maxsplit=5)
    today = dt.datetime.now(dt.UTC).date()
    with serve() as site:
        for back in (14, 7, 3, 2, 1, 0):
            day = today - dt.timedelta(days=back)
            site.routes[f"/papers/date/{day}"] = Answer(body=day_page(day).encode())
        settings = (
            f"crawl daily -s DIGEST_BASE_URL={site.url} -s DIGEST_TODAY={today}"
            " -s DOWNLOAD_DELAY=0 -s AUTOTHROTTLE_ENABLED=False"
        )
        # What cron does to the command: \\% is a literal %.
        command = (
            fields[5]
            .replace("/srv/digest_crawler", str(checkout))
            .replace("crawl daily", settings)
            .replace("\\%", "%")
        )
        (checkout / "public").mkdir()
        (checkout / "public" / "daily.atom").write_text("an old feed")
        inode = (checkout / "public" / "daily.atom").stat().st_ino
        result = subprocess.run(
            ["/bin/sh", "-c", command], capture_output=True, text=True, timeout=180
        )
    assert (result.returncode, result.stdout) == (0, ""), result.stderr
    feed = checkout / "public" / "daily.atom"
    assert feed.stat().st_ino != inode  # replaced by a rename, never written in place
    entries = read_atom(feed.read_bytes())
    assert len(entries) == len(table(checkout / "papers.sqlite")) > 0
    assert (checkout / "logs" / "runs.log").read_text().splitlines()[-1].startswith("Exported ")


def test_the_documented_systemd_line_rewrites_the_atom_feed(workdir: Path, tmp_path: Path) -> None:
    """docs/deployment.md's ExecStartPost= for the service, run as systemd
    would (``%%`` is a literal %, DIGEST_HOME the checkout): a valid feed in public/."""
    readme = docs.text("deployment.md")
    (line,) = [text for text in readme.splitlines() if text.startswith("ExecStartPost=")]
    command = shlex.split(line.removeprefix("ExecStartPost=").replace("%%", "%"))
    assert command[:2] == ["/bin/sh", "-c"]
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    shutil.copy(workdir / "papers.sqlite", checkout / "papers.sqlite")
    shutil.copy(PROJECT / "scrapy.cfg", checkout / "scrapy.cfg")
    (checkout / ".venv").symlink_to(Path(sys.executable).parent.parent)
    result = subprocess.run(
        command,
        env={**crawl_env(), "DIGEST_HOME": str(checkout)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("Exported ")
    read_atom((checkout / "public" / "daily.atom").read_bytes())
    if shutil.which("systemd-analyze"):  # the shipped service with the line added
        units = tmp_path / "units"
        units.mkdir()
        for name in ("digest-crawler.service", "digest-crawler.timer"):
            shutil.copy(PROJECT / "deploy" / name, units / name)
        with (units / "digest-crawler.service").open("a") as service:
            service.write(line + "\n")
        verified = subprocess.run(
            ["systemd-analyze", "verify", "digest-crawler.service", "digest-crawler.timer"],
            cwd=units,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert verified.returncode == 0, verified.stderr


@pytest.mark.parametrize("command", [["export", "-o", "feed.jsonl"], ["report", "-o", "r.html"]])
def test_a_stored_text_that_is_not_utf8_is_one_line_shown_not_acted_on(
    workdir: Path, command: list[str]
) -> None:
    """A title another tool wrote as bytes that are no UTF-8, holding an
    escape sequence: the driver's message quotes it, escaped; exit status
    2, no output file."""
    connection = sqlite3.connect(workdir / "papers.sqlite")
    with connection:
        connection.execute(
            "UPDATE papers SET title = CAST(X'1b5d303b6f776e656407ff' AS TEXT)"
            " WHERE arxiv_id = (SELECT arxiv_id FROM papers ORDER BY upvotes DESC LIMIT 1)"
        )
    connection.close()
    result = scrapy(workdir, *command)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"scrapy {command[0]}: error: cannot read the archive: ")
    assert "Could not decode to UTF-8 column 'title'" in line and "\\x1b]0;owned\\x07" in line
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert not (workdir / command[-1]).exists()


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_an_export_stopped_mid_write_leaves_no_file_and_says_so_in_one_line(
    tmp_path: Path, signal_name: str
) -> None:
    """Ctrl-C (or a scheduler's SIGTERM) while a feed is being built: no
    traceback, exit status 130 (143), the temporary file removed, the old
    feed as it was."""
    import signal

    from tests.support.archive import make_archive

    make_archive(f"sqlite:///{tmp_path / 'papers.sqlite'}", days=200, per_day=99)
    (tmp_path / "daily.atom").write_text("old feed\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "scrapy", "export", "-o", "daily.atom"],
        cwd=tmp_path,
        env=crawl_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".daily.atom.*.tmp")) and time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        time.sleep(0.01)
    process.send_signal(getattr(signal, signal_name))
    _, stderr = process.communicate(timeout=60)
    if signal_name == "SIGINT":
        assert (process.returncode, stderr) == (
            130,
            "scrapy export: interrupted; 'daily.atom' not written\n",
        )
    else:
        assert (process.returncode, stderr) == (143, "")
    assert (tmp_path / "daily.atom").read_text() == "old feed\n"
    assert list(tmp_path.glob(".daily.atom*")) == []
