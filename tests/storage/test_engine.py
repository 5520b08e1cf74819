"""Engines on the archive (``storage/engine.py``): the crawl's writer
(SQLite in WAL mode with a busy timeout and 16 KB pages), the readers'
read-only engine, and the check of an archive a crawl cannot write."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from digest_crawler import storage
from digest_crawler.storage.engine import check_database
from tests.storage.listings import Crawl, paper, rows


def test_sqlite_is_in_wal_mode_with_a_busy_timeout_and_16_kb_pages(tmp_path: Path) -> None:
    engine = storage.make_engine(f"sqlite:///{tmp_path / 'papers.sqlite'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert (
            connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
            == storage.SQLITE_BUSY_TIMEOUT_MS
        )
        connection.exec_driver_sql("CREATE TABLE t (x)")
        assert connection.exec_driver_sql("PRAGMA page_size").scalar() == 16384
    engine.dispose()


def test_the_reader_cannot_write(database_url: str) -> None:
    with Crawl(database_url) as run:
        run.store(paper())
    reader = storage.make_reader(database_url)
    try:
        with (
            pytest.raises(sa.exc.DBAPIError, match=r"read-only|readonly"),
            reader.begin() as connection,
        ):
            connection.execute(sa.delete(storage.papers))
    finally:
        reader.dispose()
    assert [row["arxiv_id"] for row in rows(database_url)] == ["2607.28618"]


def test_a_sqlite_reader_holds_no_lock_a_crawl_waits_for(tmp_path: Path) -> None:
    """A reader in the middle of its snapshot: the crawl stores a listing
    and commits without waiting (a lock would make it wait out the busy
    timeout, then fail), and the reader goes on seeing its snapshot."""
    url = f"sqlite:///{tmp_path / 'papers.sqlite'}"
    count = sa.select(sa.func.count()).select_from(storage.papers)
    with Crawl(url) as run:
        run.store(paper())
        reader = storage.make_reader(url)
        try:
            with reader.connect() as reading, reading.begin():
                assert reading.execute(count).scalar() == 1
                run.store(paper(arxiv_id="2607.00002"))
                assert reading.execute(count).scalar() == 1
        finally:
            reader.dispose()
    assert [row["arxiv_id"] for row in rows(url)] == ["2607.00002", "2607.28618"]


def test_the_sqlite_reader_lowers_more_than_ascii(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'papers.sqlite'}"
    with Crawl(url) as run:
        run.store(paper(organization="École Polytechnique"))
    reader = storage.make_reader(url)
    with reader.connect() as connection:
        lowered = connection.execute(sa.select(sa.func.lower(storage.papers.c.organization)))
        assert lowered.scalar_one() == "école polytechnique"  # SQLite's own: "École polytechnique"
    reader.dispose()


def test_a_crawl_s_archive_needs_its_directory_and_the_check_makes_nothing(
    tmp_path: Path,
) -> None:
    """A mistyped path made its directories and a new archive there; the
    readers refuse it, and so does the crawl now, naming where it came from."""
    check_database(f"sqlite:///{tmp_path / 'papers.sqlite'}")
    where = tmp_path / "a" / "b" / "papers.sqlite"
    with pytest.raises(
        ValueError, match=rf"^setting DIGEST_DATABASE_URL: no directory '{tmp_path}/a/b' \(make"
    ):
        check_database(f"sqlite:///{where}")
    with pytest.raises(
        ValueError, match=r"^environment variable DIGEST_DATABASE_URL: no directory"
    ):
        check_database(f"sqlite:///{where}", "environment variable DIGEST_DATABASE_URL")
    assert list(tmp_path.iterdir()) == []


def test_postgresql_plans_each_statement_for_its_values(postgres_url: str) -> None:
    """A crawl's statements are built once and prepared: a plan kept from
    when the archive was small would scan every paper (a 70,000-paper
    listing took 22 minutes instead of one); each run is planned for its
    values, and the URL's own options (here the test's schema) still hold."""
    schema = postgres_url.rsplit("%3D", 1)[1]
    for engine in (storage.make_engine(postgres_url), storage.make_reader(postgres_url)):
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SHOW plan_cache_mode").scalar() == (
                "force_custom_plan"
            )
            assert connection.exec_driver_sql("SHOW search_path").scalar() == schema
        engine.dispose()
