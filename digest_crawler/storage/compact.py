"""Compacting a SQLite archive after an upgrade (``scrapy upgrade``).

An upgrade copies whole tables (SQLite alters a table by making it anew)
and builds the search index: the pages it leaves free stay in the file (an
archive of version 1 grew from 228 to 422 MB, 27 % of it free pages).
``VACUUM`` writes the archive anew without them, in the pages of a new
archive (``engine.SQLITE_PAGE_SIZE``), the search index merged first.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from digest_crawler.storage.engine import SQLITE_PAGE_SIZE
from digest_crawler.storage.schema import SEARCH_TABLE


class CompactionError(Exception):
    """A one-line reason the archive could not be compacted (it is as it was)."""


@dataclass(frozen=True)
class Compacted:
    """What compacting did: the share of the pages that were free, the
    size before and after (bytes), the page size before and after."""

    free: float
    before: int
    after: int
    page_before: int
    page_after: int


def compact(engine: Engine) -> Compacted | None:
    """``VACUUM`` the SQLite archive ``engine`` writes when it has free
    pages; ``None`` when it has none (or is no SQLite file).

    ``VACUUM`` keeps the rowids of ``papers`` (a table with indexes), which
    the search index refers to; should a version of SQLite renumber them,
    the index is made anew from the stored papers. The engine's idle
    connections are closed first.
    """
    if engine.dialect.name != "sqlite":
        return None
    engine.dispose()  # its idle connections would keep the file in WAL mode
    connection = engine.raw_connection()  # outside a transaction, as VACUUM must be
    try:
        cursor = connection.cursor()
        pages, free, size = (
            _pragma(cursor, name) for name in ("page_count", "freelist_count", "page_size")
        )
        if not free:
            return None
        try:
            # One segment instead of many: its old pages are freed, then dropped.
            cursor.execute(f"INSERT INTO {SEARCH_TABLE}({SEARCH_TABLE}) VALUES ('optimize')")
            rowids = cursor.execute("SELECT rowid, arxiv_id FROM papers ORDER BY rowid").fetchall()
            _vacuum(cursor, size, engine.dialect.loaded_dbapi.OperationalError)
            if (
                cursor.execute("SELECT rowid, arxiv_id FROM papers ORDER BY rowid").fetchall()
                != rowids
            ):
                cursor.execute(f"INSERT INTO {SEARCH_TABLE}({SEARCH_TABLE}) VALUES ('rebuild')")
        except engine.dialect.loaded_dbapi.Error as exc:
            raise CompactionError(str(exc).splitlines()[0]) from None
        resized = _pragma(cursor, "page_size")
        return Compacted(
            free / pages, pages * size, _pragma(cursor, "page_count") * resized, size, resized
        )
    finally:
        connection.close()


def _vacuum(cursor: Any, size: int, locked: type[Exception]) -> None:
    """``VACUUM``, into pages of ``SQLITE_PAGE_SIZE`` if they are of another
    size: which SQLite does only outside WAL mode, so only when no other
    connection has the file open (else it raises ``locked``); otherwise in
    pages of the same size."""
    resized = False
    if size != SQLITE_PAGE_SIZE:
        with contextlib.suppress(locked):
            resized = cursor.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"
        if resized:
            cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
    try:
        cursor.execute("VACUUM")
    finally:
        if resized:
            cursor.execute("PRAGMA journal_mode=WAL")
    # What VACUUM wrote to the write-ahead log, moved into the file.
    cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _pragma(cursor: Any, name: str) -> int:
    value: int = cursor.execute(f"PRAGMA {name}").fetchone()[0]
    return value
