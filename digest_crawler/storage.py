"""Tables and batched upserts, through SQLAlchemy Core.

One module serves SQLite and PostgreSQL; the only dialect difference, which
``insert`` construct has ``on_conflict_do_update``, lives in ``_insert``.
"""

from __future__ import annotations

import datetime as dt
import functools
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

    PostgreSQL keeps it as ``timestamptz``. SQLite has no such type: the value
    is kept as naive UTC text in SQLAlchemy's own SQLite format
    (``2026-07-31 00:00:00.000000``, which sorts as it should), written here
    directly because the generic path costs more than the rest of a row.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(26))
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored: the time zone is unknown")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        return value

    def bind_processor(self, dialect: sa.Dialect) -> Any:
        process = super().bind_processor(dialect)
        if process is None:
            return None
        # A day's rows share their moments (the flush's time in the
        # *_seen_at and changed_at columns, the page's scraped_at): convert
        # each distinct object once per column, not once per row.
        last: tuple[Any, Any] = (None, None)

        def convert_once(value: Any) -> Any:
            nonlocal last
            seen = last
            if value is seen[0] and value is not None:
                return seen[1]
            converted = process(value)
            last = (value, converted)
            return converted

        return convert_once

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        moment: dt.datetime = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


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

listings = sa.Table(
    "listings",
    metadata,
    sa.Column("listing_date", sa.Date, primary_key=True),
    sa.Column("arxiv_id", sa.String(32), primary_key=True),
    # 1-based position on that day's page.
    sa.Column("rank", sa.Integer),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=False),
    sa.Index("ix_listings_arxiv_id", "arxiv_id"),
)

upvote_snapshots = sa.Table(
    "upvote_snapshots",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("arxiv_id", sa.String(32), nullable=False),
    sa.Column("observed_at", UTCDateTime, nullable=False),
    sa.Column("upvotes", sa.Integer, nullable=False),
    sa.Column("num_comments", sa.Integer),
    sa.Column("github_stars", sa.Integer),
    sa.Index("ix_upvote_snapshots_arxiv_id", "arxiv_id", "id"),
)

crawl_runs = sa.Table(
    "crawl_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("spider", sa.String(64), nullable=False),
    sa.Column("arguments", sa.Text, nullable=False),  # JSON of the -a arguments
    sa.Column("first_day", sa.Date, nullable=False),
    sa.Column("last_day", sa.Date, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("days_requested", sa.Integer, nullable=False),
    sa.Column("days_served", sa.Integer),
    sa.Column("days_no_digest", sa.Integer),
    sa.Column("days_failed", sa.Integer),
    sa.Column("items_stored", sa.Integer),
    sa.Column("papers_new", sa.Integer),
    sa.Column("papers_updated", sa.Integer),
    sa.Column("items_rejected", sa.Integer),
    sa.Column("finish_reason", sa.String(64)),
    # Every requested day done (stored or no digest): a new run with the same
    # days starts afresh. Otherwise the next one resumes it.
    sa.Column("complete", sa.Boolean, nullable=False, default=False),
    sa.Column("resumed_by", sa.Integer),
)

crawl_days = sa.Table(
    "crawl_days",
    metadata,
    sa.Column("run_id", sa.Integer, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    # "stored" (the day's papers, 0 for an empty page), "no_digest" (the site
    # served another day) or "failed" (with the reason).
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("papers", sa.Integer, nullable=False, default=0),
    sa.Column("reason", sa.Text),
    sa.Column("url", sa.Text),
    sa.Column("finished_at", UTCDateTime, nullable=False),
    # Done by an earlier, interrupted run that this one resumed.
    sa.Column("carried_over", sa.Boolean, nullable=False, default=False),
)

DONE_OUTCOMES = ("stored", "no_digest")
_PAPER_INPUT = [
    column.name
    for column in papers.columns
    if column.name not in ("first_seen_at", "last_seen_at", "changed_at")
]

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
        parsed = sa.engine.make_url(url)
        database = parsed.database
        if database and database != ":memory:" and "uri" not in parsed.query:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, decide when transactions begin.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL keeps the database consistent through a crash
            # or power loss and only drops the last commits on power loss;
            # FULL would add an fsync to every listing day's commit.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def create_tables(engine: Engine) -> None:
    metadata.create_all(engine)


# The one dialect difference: whose insert() has on_conflict_do_update.
_INSERTS: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
_COUNTS = ("upvotes", "num_comments", "github_stars")


def _insert(dialect: str, table: sa.Table) -> Any:
    try:
        return _INSERTS[dialect](table)
    except KeyError:
        raise NotImplementedError(f"upserts are not written for {dialect}") from None


# Every per-day statement is built once per dialect: building one, and its
# cache key, costs more than running it for a day of papers.


@functools.cache
def _paper_upsert(dialect: str) -> Any:
    statement: Any = _insert(dialect, papers)
    excluded = statement.excluded
    refreshed = {name: sa.func.coalesce(excluded[name], papers.c[name]) for name in _REFRESHED}
    changed = sa.or_(*(refreshed[name].is_distinct_from(papers.c[name]) for name in _REFRESHED))
    return statement.on_conflict_do_update(
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


@functools.cache
def _listing_upsert(dialect: str) -> Any:
    statement: Any = _insert(dialect, listings)
    return statement.on_conflict_do_update(
        index_elements=[listings.c.listing_date, listings.c.arxiv_id],
        set_={"rank": statement.excluded.rank, "last_seen_at": statement.excluded.last_seen_at},
    )


@functools.cache
def _day_upsert(dialect: str) -> Any:
    statement: Any = _insert(dialect, crawl_days)
    return statement.on_conflict_do_update(
        index_elements=[crawl_days.c.run_id, crawl_days.c.day],
        set_={
            name: statement.excluded[name]
            for name in ("outcome", "papers", "reason", "url", "finished_at", "carried_over")
        },
    )


@functools.cache
def _snapshot_insert() -> Any:
    """Copy the counts of the papers ``ids`` into a new snapshot unless the
    paper's latest snapshot already holds them."""
    latest = upvote_snapshots.alias("latest")
    newest_id = (
        sa.select(sa.func.max(upvote_snapshots.c.id))
        .where(upvote_snapshots.c.arxiv_id == papers.c.arxiv_id)
        .correlate(papers)  # the outer query's paper, two levels up
        .scalar_subquery()
    )
    # The latest snapshot: found by its id, an index lookup per paper.
    unchanged = sa.exists().where(
        latest.c.id == newest_id,
        *(latest.c[name].is_not_distinct_from(papers.c[name]) for name in _COUNTS),
    )
    changed = (
        sa.select(
            papers.c.arxiv_id,
            sa.bindparam("observed_at", type_=UTCDateTime()),
            *(papers.c[name] for name in _COUNTS),
        )
        .where(papers.c.arxiv_id.in_(sa.bindparam("ids", expanding=True)), ~unchanged)
        .order_by(papers.c.arxiv_id)
    )
    return upvote_snapshots.insert().from_select(["arxiv_id", "observed_at", *_COUNTS], changed)


def upsert_papers(
    connection: Connection, records: Sequence[Mapping[str, Any]], seen_at: dt.datetime
) -> tuple[int, int]:
    """Insert or refresh ``records`` (one per arxiv_id); return (new, updated).

    Keeps ``first_seen_at`` and the earliest ``listing_date``; moves
    ``changed_at`` only when a refreshed value really differs.
    """
    rows = {  # one per key, the papers' own columns only
        record["arxiv_id"]: {name: record.get(name) for name in _PAPER_INPUT} for record in records
    }
    if not rows:
        return 0, 0
    existing = set(
        connection.scalars(sa.select(papers.c.arxiv_id).where(papers.c.arxiv_id.in_(rows)))
    )
    statement = _paper_upsert(connection.dialect.name)
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


def upsert_listings(
    connection: Connection, rows: Sequence[Mapping[str, Any]], seen_at: dt.datetime
) -> None:
    """One row per (listing_date, arxiv_id), with the paper's rank that day."""
    values = {
        (row["listing_date"], row["arxiv_id"]): {
            "listing_date": row["listing_date"],
            "arxiv_id": row["arxiv_id"],
            "rank": row.get("rank"),
            "first_seen_at": seen_at,
            "last_seen_at": seen_at,
        }
        for row in rows
    }
    if values:
        connection.execute(_listing_upsert(connection.dialect.name), list(values.values()))


def record_snapshots(connection: Connection, arxiv_ids: Iterable[str], seen_at: dt.datetime) -> int:
    """Add an upvote snapshot for each paper whose stored counts differ from
    its latest snapshot (or that has none); return how many were added."""
    ids = sorted(set(arxiv_ids))
    if not ids:
        return 0
    result = connection.execute(_snapshot_insert(), {"ids": ids, "observed_at": seen_at})
    return int(result.rowcount)


# -- the run ledger -----------------------------------------------------------


def start_run(
    connection: Connection,
    spider: str,
    arguments: Mapping[str, Any],
    days: Sequence[dt.date],
    now: dt.datetime,
) -> int:
    """Record a new run of ``days``; return its id."""
    result = connection.execute(
        crawl_runs.insert().values(
            spider=spider,
            arguments=json.dumps(dict(arguments), sort_keys=True, default=str),
            first_day=days[0],
            last_day=days[-1],
            started_at=now,
            days_requested=len(days),
            complete=False,
        )
    )
    assert result.inserted_primary_key is not None
    run_id = result.inserted_primary_key[0]
    assert isinstance(run_id, int)
    return run_id


def resume_days(connection: Connection, run_id: int) -> set[dt.date]:
    """Take over the latest unfinished run with the same spider and days.

    Its completed days are copied to ``run_id`` (``carried_over``) and
    returned, so they are not fetched again; it is marked ``resumed_by``.
    A run whose every day was done (``complete``) is never resumed: a new
    run over the same days fetches them again.
    """
    run = connection.execute(sa.select(crawl_runs).where(crawl_runs.c.id == run_id)).one()
    previous = connection.execute(
        sa.select(crawl_runs.c.id, crawl_runs.c.complete)
        .where(
            crawl_runs.c.spider == run.spider,
            crawl_runs.c.first_day == run.first_day,
            crawl_runs.c.last_day == run.last_day,
            crawl_runs.c.id < run_id,
            crawl_runs.c.resumed_by.is_(None),
        )
        .order_by(crawl_runs.c.id.desc())
        .limit(1)
    ).first()
    if previous is None or previous.complete:
        return set()
    done = connection.execute(
        sa.select(crawl_days).where(
            crawl_days.c.run_id == previous.id, crawl_days.c.outcome.in_(DONE_OUTCOMES)
        )
    ).all()
    if done:
        connection.execute(
            crawl_days.insert(),
            [{**row._asdict(), "run_id": run_id, "carried_over": True} for row in done],
        )
    connection.execute(
        crawl_runs.update().where(crawl_runs.c.id == previous.id).values(resumed_by=run_id)
    )
    return {row.day for row in done}


def record_day(
    connection: Connection,
    run_id: int,
    day: dt.date,
    outcome: str,
    now: dt.datetime,
    *,
    papers: int = 0,
    reason: str | None = None,
    url: str | None = None,
) -> None:
    """What became of ``day`` in this run (a later outcome replaces an earlier one)."""
    connection.execute(
        _day_upsert(connection.dialect.name),
        {
            "run_id": run_id,
            "day": day,
            "outcome": outcome,
            "papers": papers,
            "reason": reason,
            "url": url,
            "finished_at": now,
            "carried_over": False,
        },
    )


def finish_run(
    connection: Connection,
    run_id: int,
    now: dt.datetime,
    finish_reason: str | None,
    counts: Mapping[str, int],
) -> dict[str, int]:
    """Close the run's record: outcomes per day, counts, and whether every
    requested day is done. Returns the day counts."""
    by_outcome: dict[str, int] = dict(
        connection.execute(
            sa.select(crawl_days.c.outcome, sa.func.count())
            .where(crawl_days.c.run_id == run_id)
            .group_by(crawl_days.c.outcome)
        ).all()
    )
    requested = connection.execute(
        sa.select(crawl_runs.c.days_requested).where(crawl_runs.c.id == run_id)
    ).scalar_one()
    days = {
        "days_served": by_outcome.get("stored", 0),
        "days_no_digest": by_outcome.get("no_digest", 0),
        "days_failed": by_outcome.get("failed", 0),
    }
    done = days["days_served"] + days["days_no_digest"]
    connection.execute(
        crawl_runs.update()
        .where(crawl_runs.c.id == run_id)
        .values(
            finished_at=now,
            finish_reason=finish_reason,
            complete=finish_reason == "finished" and done >= requested,
            **days,
            **counts,
        )
    )
    return days
