"""``scrapy upgrade`` (``commands/upgrade.py``) in-process: what it says of
an archive that needs nothing, even while a crawl holds its write lock, and
of a damaged search index it rebuilds. The upgrades themselves are tested
in tests/storage/test_migrate.py; the command on a version 1 archive in
tests/system/test_export.py."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from digest_crawler.storage import make_engine, migrate
from digest_crawler.storage.compact import CompactionError
from digest_crawler.storage.migrate import head_version
from tests.conftest import FIXTURES
from tests.support.archive import make_archive
from tests.support.readers import run_reader

# Made by `scrapy crawl daily` of the last release without migrations: see fixtures/README.md.
ARCHIVE_V1 = FIXTURES / "archive-v1.sqlite"


def test_an_archive_that_needs_nothing_says_so_while_a_writer_holds_its_lock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The version is read first, without the write lock: not "database is
    locked" after the busy timeout (30 s) while a crawl writes."""
    url = f"sqlite:///{tmp_path / 'papers.sqlite'}"
    make_archive(url, days=1, per_day=2)
    writer = sqlite3.connect(tmp_path / "papers.sqlite", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE papers SET upvotes = upvotes + 1")
    try:
        started = time.monotonic()
        command = run_reader("upgrade", DIGEST_DATABASE_URL=url)
        assert time.monotonic() - started < 5
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert command.exitcode == 0
    assert (
        capsys.readouterr().err == f"{url} is at schema version {head_version()}: nothing to do\n"
    )


def test_a_damaged_search_index_is_rebuilt_and_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'papers.sqlite'}"
    make_archive(url, days=1, per_day=2)
    connection = sqlite3.connect(tmp_path / "papers.sqlite")
    with connection:
        connection.execute("DROP TABLE papers_fts")
    connection.close()
    search = run_reader("search", "paper", DIGEST_DATABASE_URL=url)
    assert search.exitcode == 2
    assert capsys.readouterr().err == (
        "scrapy search: error: the archive's search index is damaged (it lacks the table"
        " papers_fts): scrapy upgrade rebuilds it from the stored papers\n"
    )
    assert run_reader("upgrade", DIGEST_DATABASE_URL=url).exitcode == 0
    assert capsys.readouterr().err == (
        f"Rebuilt the search index of {url} (it lacked the table papers_fts)\n"
    )
    assert run_reader("search", "paper", DIGEST_DATABASE_URL=url).exitcode == 0
    assert capsys.readouterr().out.startswith("1. Paper ")
    assert run_reader("upgrade", DIGEST_DATABASE_URL=url).exitcode == 0
    assert capsys.readouterr().err.endswith(": nothing to do\n")


def pragmas(path: Path) -> tuple[int, int, str]:
    """The file's page size, free pages and journal mode."""
    connection = sqlite3.connect(path)
    try:
        return tuple(
            connection.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("page_size", "freelist_count", "journal_mode")
        )
    finally:
        connection.close()


def test_an_upgrade_that_frees_pages_compacts_the_archive_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A version 1 archive (4 KB pages) upgraded: the tables SQLite copied
    left pages free (as the same upgrade without the command shows). VACUUM
    leaves none, in a new archive's 16 KB pages; every row is kept and the
    search index is sound."""
    path, alone = tmp_path / "papers.sqlite", tmp_path / "alone.sqlite"
    for copy in (path, alone):
        shutil.copy(ARCHIVE_V1, copy)
    assert pragmas(path) == (4096, 0, "delete")
    engine = make_engine(f"sqlite:///{alone}")
    migrate.upgrade(engine)
    engine.dispose()
    connection = sqlite3.connect(alone)
    pages, free = (
        connection.execute(f"PRAGMA {n}").fetchone()[0] for n in ("page_count", "freelist_count")
    )
    connection.close()
    assert free > 0
    url = f"sqlite:///{path}"
    assert run_reader("upgrade", DIGEST_DATABASE_URL=url).exitcode == 0
    compacted = path.stat().st_size
    assert capsys.readouterr().err == (
        f"Upgraded {url} from schema version 1 to {head_version()}; VACUUM: {free / pages:.0%}"
        f" of its pages were free, {pages * 4096 / 1e6:.1f} MB -> {compacted / 1e6:.1f} MB"
        " (16 KB pages, were 4 KB)\n"
    )
    assert pragmas(path) == (16384, 0, "wal")
    connection = sqlite3.connect(path)
    try:
        # FTS5's own check of the index against the stored papers.
        connection.execute("INSERT INTO papers_fts(papers_fts, rank) VALUES ('integrity-check', 1)")
        kept = connection.execute("SELECT count(*) FROM papers").fetchone()[0]
    finally:
        connection.close()
    assert kept == 98
    assert run_reader("search", "model", DIGEST_DATABASE_URL=url).exitcode == 0
    assert capsys.readouterr().out.startswith("1. ")


def test_a_reader_holding_the_archive_keeps_its_page_size(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another connection has the file open: SQLite cannot leave WAL mode to
    change the page size, so VACUUM keeps it (and the reader reads on)."""
    path = tmp_path / "papers.sqlite"
    shutil.copy(ARCHIVE_V1, path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate.upgrade(engine, to=8)
    engine.dispose()
    assert pragmas(path)[1] > 0  # the pages the copied tables left
    reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        before = reader.execute("SELECT arxiv_id, title FROM papers ORDER BY arxiv_id").fetchall()
        assert run_reader("upgrade", DIGEST_DATABASE_URL=url).exitcode == 0
        assert (
            reader.execute("SELECT arxiv_id, title FROM papers ORDER BY arxiv_id").fetchall()
            == before
        )
    finally:
        reader.close()
    said = capsys.readouterr().err
    assert said.startswith(f"Upgraded {url} from schema version 8 to {head_version()}; VACUUM: ")
    assert said.endswith(" MB\n")  # the same page size
    assert pragmas(path) == (4096, 0, "wal")


def test_a_compaction_that_fails_is_said_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The upgrade is done and kept; the free pages are left, and said."""

    def full(engine: object) -> None:
        raise CompactionError("database or disk is full")

    monkeypatch.setattr("digest_crawler.commands.upgrade.compact", full)
    path = tmp_path / "papers.sqlite"
    shutil.copy(ARCHIVE_V1, path)
    url = f"sqlite:///{path}"
    assert run_reader("upgrade", DIGEST_DATABASE_URL=url).exitcode == 1
    assert capsys.readouterr().err == (
        f"Upgraded {url} from schema version 1 to {head_version()}; compacting it failed"
        " (database or disk is full): its free pages are left\n"
    )
    assert run_reader("upgrade", DIGEST_DATABASE_URL=url).exitcode == 0
    assert capsys.readouterr().err.endswith(": nothing to do\n")
