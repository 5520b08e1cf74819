"""Engines on the archive: a writer for the crawl, a reader for the rest
(SQLite's connection set-up: WAL, busy timeout, ``BEGIN IMMEDIATE`` for the
writer, read-only for the reader), and the check a crawl makes of its
database before it starts."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Rows are about 2 KB: with SQLite's default 4 KB page a third of the papers
# pages was empty space. Takes effect on a new file only.
SQLITE_PAGE_SIZE = 16_384


def check_database(url: str, source: str = "setting DIGEST_DATABASE_URL") -> None:
    """A one-line ``ValueError``, naming ``source``, for an archive a crawl
    cannot write (the URL itself is checked with the settings,
    ``config.check_database_url``): a SQLite file in a directory that does
    not exist (a mistyped path would start a new archive there; the readers
    and ``LOG_FILE`` refuse it too), a server that does not answer."""
    parsed = sa.engine.make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite":
        directory = Path(parsed.database or "").expanduser().parent
        if "uri" not in parsed.query and not directory.is_dir():
            raise ValueError(f"{source}: no directory {str(directory)!r} (make it first)")
        return
    # The driver is there: config.check_database_url made sure.
    engine = sa.create_engine(parsed, connect_args={"connect_timeout": 10})
    try:
        with engine.connect():
            pass
    except sa.exc.SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None)  # the driver's own message, without SQLAlchemy's
        message = str(orig if orig is not None else exc).strip()
        raise ValueError(
            f"{source}: cannot connect to {shown}: {message.splitlines()[0]}"
        ) from None
    finally:
        engine.dispose()


def is_sqlite(url: str) -> bool:
    return sa.engine.make_url(url).get_backend_name() == "sqlite"


def json_text(value: Any) -> str:
    """A list as SQLite keeps it: JSON with its letters as they are, so that
    the full-text index reads "Müller" and not "M\\u00fcller" (a text that
    is no UTF-8, a lone surrogate, stays escaped: SQLite stores UTF-8 only).

    >>> json_text(["Müller", "日本"])
    '["Müller", "日本"]'
    """
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _escaped_surrogates(value)
    return text


def _escaped_surrogates(value: Any) -> str:
    """JSON of ``value`` with only what UTF-8 cannot hold escaped."""
    text = json.dumps(value, ensure_ascii=False)
    return "".join(
        f"\\u{ord(character):04x}" if 0xD800 <= ord(character) <= 0xDFFF else character
        for character in text
    )


def _unprepared(url: str) -> dict[str, Any]:
    """PostgreSQL's session option that plans each statement for the values
    it is run with. psycopg prepares a statement run five times, and the
    server then may keep one generic plan for it, made when the tables were
    small: a crawl's statements are built once (the same text for every
    listing), so on a new archive the lookup of a listing's stored ids kept
    a plan that scans every paper (3 s a lookup at 70,000 papers, against
    milliseconds; a test of 70,000 papers ran 22 minutes instead of one).
    Statements stay prepared (parsed once)."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return {}
    # The URL's own options (a search_path, say) kept: these replace them.
    given = parsed.query.get("options", ())
    options = [given] if isinstance(given, str) else list(given)
    return {"options": " ".join([*options, "-c plan_cache_mode=force_custom_plan"])}


def make_engine(url: str) -> Engine:
    """The crawl's engine. SQLite files get WAL, a busy timeout and
    ``BEGIN IMMEDIATE``, so that concurrent writers wait instead of failing;
    lists are kept as JSON of their letters as they are (``json_text``)."""
    if not is_sqlite(url):
        return sa.create_engine(url, pool_pre_ping=True, connect_args=_unprepared(url))
    engine = sa.create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        json_serializer=json_text,
    )

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")  # before WAL, or it is ignored
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL keeps the database consistent through a crash or
        # power loss and only drops the last commits on power loss; FULL
        # would add an fsync to every listing's commit.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_reader(url: str) -> Engine:
    """An engine that only reads: for export and the other readers.

    A SQLite file is opened read-only (``mode=ro``): it takes no write lock,
    so a slow reader never blocks a crawl, and a file on a read-only mount
    can be read. PostgreSQL sessions are made read-only.
    """
    if not is_sqlite(url):
        return sa.create_engine(
            url,
            pool_pre_ping=True,
            execution_options={"postgresql_readonly": True},
            connect_args=_unprepared(url),
        )
    database = sa.engine.make_url(url).database or ""
    path = Path(database).expanduser().resolve()
    # On a read-only mount SQLite cannot make the shared-memory file that
    # reading in WAL mode needs; with no write-ahead log left to read, the
    # file is opened as immutable (nothing can write it there anyway).
    wal = path.with_name(path.name + "-wal")
    idle = not wal.exists() or wal.stat().st_size == 0
    flags = "immutable=1" if idle and not os.access(path.parent, os.W_OK) else "mode=ro"
    engine = sa.create_engine(
        f"sqlite:///file:{path.as_posix()}?{flags}&uri=true",
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        # SQLite's own lower() knows ASCII only ("École" stays "École").
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A deferred transaction: one consistent snapshot, and no lock that
        # a writer would wait for (WAL).
        connection.exec_driver_sql("BEGIN")

    return engine


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value
