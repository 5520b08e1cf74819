"""``scrapy upgrade`` (``commands/upgrade.py``) in-process: what it says of
an archive that needs nothing, even while a crawl holds its write lock, and
of a damaged search index it rebuilds. The upgrades themselves are tested
in tests/storage/test_migrate.py; the command on a version 1 archive in
tests/system/test_export.py."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from digest_crawler.storage.migrate import head_version
from tests.support.archive import make_archive
from tests.support.readers import run_reader


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
