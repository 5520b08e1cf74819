"""Tables and batched upserts, through SQLAlchemy Core.

One module serves SQLite and PostgreSQL; the only dialect difference, which
``insert`` construct has ``on_conflict_do_update``, lives in ``_insert``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

DEFAULT_DATABASE_URL = "sqlite:///papers.sqlite"
SQLITE_BUSY_TIMEOUT_MS = 30_000


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """An aware UTC datetime in, an aware UTC datetime out, on every backend.

    SQLite keeps no offset: values are stored as naive UTC and given their
    ``UTC`` back when read.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: dt.datetime | None, dialect: sa.Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored: the time zone is unknown")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: sa.Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# JSONB on PostgreSQL: plain json has no equality operator, which the
# "did this row change" check below needs.
JSONList = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

metadata = sa.MetaData()

papers = sa.Table(
    "papers",
    metadata,
    sa.Column("arxiv_id", sa.String(32), primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("abstract", sa.Text),
    sa.Column("authors", JSONList),
    sa.Column("author_count", sa.Integer),
    sa.Column("organization", sa.Text),
    sa.Column("organization_id", sa.Text),
    sa.Column("published_at", sa.Date),
    sa.Column("listing_date", sa.Date, nullable=False, index=True),
    sa.Column("submitted_at", UTCDateTime),
    sa.Column("upvotes", sa.Integer, nullable=False),
    sa.Column("num_comments", sa.Integer),
    sa.Column("github_repo", sa.Text),
    sa.Column("github_stars", sa.Integer),
    sa.Column("project_page", sa.Text),
    sa.Column("submitted_by", sa.Text),
    sa.Column("scraped_at", UTCDateTime, nullable=False),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=False),
    # When a crawl last saw a value differ (or the row was new): lets a
    # consumer poll for changes. Upserts do not run ``onupdate``: set here.
    sa.Column("changed_at", UTCDateTime, nullable=False, index=True),
)

rejected_items = sa.Table(
    "rejected_items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("arxiv_id", sa.String(64)),
    sa.Column("page_url", sa.Text),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("rejected_at", UTCDateTime, nullable=False),
)

# Columns a re-crawl refreshes when the page gives a value; a value the page
# does not give (None, e.g. no abstract on the fallback cards) keeps the
# stored one.
_REFRESHED = (
    "url",
    "title",
    "abstract",
    "authors",
    "author_count",
    "organization",
    "organization_id",
    "published_at",
    "submitted_at",
    "upvotes",
    "num_comments",
    "github_repo",
    "github_stars",
    "project_page",
    "submitted_by",
)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL, a busy timeout and
    ``BEGIN IMMEDIATE`` so that concurrent writers wait instead of failing."""
    if url.startswith("sqlite"):
        database = sa.engine.make_url(url).database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, decide when transactions begin.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def create_tables(engine: Engine) -> None:
    metadata.create_all(engine)


def _insert(connection: Connection, table: sa.Table) -> Any:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    if connection.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"upserts are not written for {connection.dialect.name}")


def upsert_papers(
    connection: Connection, records: Sequence[Mapping[str, Any]], seen_at: dt.datetime
) -> tuple[int, int]:
    """Insert or refresh ``records`` (one per arxiv_id); return (new, updated).

    Keeps ``first_seen_at`` and the earliest ``listing_date``; moves
    ``changed_at`` only when a refreshed value really differs.
    """
    rows = {record["arxiv_id"]: record for record in records}  # one per key
    if not rows:
        return 0, 0
    existing = set(
        connection.scalars(sa.select(papers.c.arxiv_id).where(papers.c.arxiv_id.in_(rows)))
    )
    statement = _insert(connection, papers)
    excluded = statement.excluded
    refreshed = {name: sa.func.coalesce(excluded[name], papers.c[name]) for name in _REFRESHED}
    changed = sa.or_(*(refreshed[name].is_distinct_from(papers.c[name]) for name in _REFRESHED))
    statement = statement.on_conflict_do_update(
        index_elements=[papers.c.arxiv_id],
        set_={
            **refreshed,
            "listing_date": sa.case(
                (excluded.listing_date < papers.c.listing_date, excluded.listing_date),
                else_=papers.c.listing_date,
            ),
            "scraped_at": excluded.scraped_at,
            "last_seen_at": excluded.last_seen_at,
            "changed_at": sa.case((changed, excluded.changed_at), else_=papers.c.changed_at),
        },
    )
    values = [
        {**row, "first_seen_at": seen_at, "last_seen_at": seen_at, "changed_at": seen_at}
        for row in rows.values()
    ]
    connection.execute(statement, values)
    new = len(rows.keys() - existing)
    return new, len(rows) - new


def insert_rejected(connection: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
    rows = list(rows)
    if rows:
        connection.execute(rejected_items.insert(), rows)


def to_payload(data: Mapping[str, Any]) -> str:
    """A rejected item as JSON text, whatever its values are."""
    return json.dumps(dict(data), ensure_ascii=False, default=str, sort_keys=True)
