"""Writing one listing's papers: upserted papers, listing ranks, upvote
snapshots and rejected papers, inside the caller's transaction."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from digest_crawler.items import Rejected, payload_json
from digest_crawler.paper import COUNTS, REFRESHED, Paper, fields_in
from digest_crawler.periods import Period
from digest_crawler.storage.schema import (
    REJECTED_ID_LENGTH,
    UTCDateTime,
    listing_days,
    listings,
    organization_key,
    papers,
    period_listings,
    rejected_items,
    upvote_snapshots,
)

#: The counts an upvote snapshot keeps.
_COUNTS = fields_in(COUNTS)
#: The most paper ids one statement binds (see ``_chunks``).
IDS_PER_STATEMENT = 900

# The one dialect difference of the writes: whose insert() has on_conflict_do_update.
_INSERTS: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


@dataclass(frozen=True)
class Written:
    """What writing one listing did."""

    papers: int
    new: int
    updated: int
    snapshots: int
    rejected: int
    #: Papers an earlier read listed that day and this one does not: kept.
    missing: int = 0
    #: Papers whose stored values this read changed (new ones included).
    changed: int = 0


def write_listing(
    connection: Connection,
    ranked: Sequence[tuple[int, Paper]],
    rejected: Sequence[Rejected],
    page_url: str,
    now: dt.datetime,
    batch_size: int,
    period: Period | None = None,
) -> Written:
    """Store one listing's valid papers (each once) with their ranks, new
    upvote snapshots and the listing's rejected papers. The ranks are a
    day's (``listings``, by each paper's listing date) unless ``period`` is
    a week or a month (``period_listings``)."""
    # Rows in key order: two crawls writing the same papers at once (listed
    # in another order, as ranks change) then lock them in the same order
    # instead of deadlocking on PostgreSQL.
    ranked = sorted(ranked, key=lambda pair: pair[1].arxiv_id)
    ids = [paper.arxiv_id for _, paper in ranked]
    new = 0
    for start in range(0, len(ranked), batch_size):
        new += _upsert_papers(connection, [p for _, p in ranked[start : start + batch_size]], now)
    moments = {"first_seen_at": now, "last_seen_at": now}
    missing = 0
    if ranked and (period is None or period.kind == "day"):
        connection.execute(
            _listing_upsert(connection.dialect.name),
            [
                {"listing_date": paper.listing_date, "arxiv_id": paper.arxiv_id, "rank": rank}
                | moments
                for rank, paper in ranked
            ],
        )
        day = listings.c.listing_date == ranked[0][1].listing_date
        missing = _count(connection, listings, day) - _count(connection, listings, day, ids)
    elif ranked and period is not None:
        where = {"period": period.kind, "period_start": period.start}
        connection.execute(
            _period_listing_upsert(connection.dialect.name),
            [
                where | {"arxiv_id": paper.arxiv_id, "rank": rank} | moments
                for rank, paper in ranked
            ],
        )
        listed = sa.and_(
            period_listings.c.period == period.kind,
            period_listings.c.period_start == period.start,
        )
        missing = _count(connection, period_listings, listed) - _count(
            connection, period_listings, listed, ids
        )
    changed = _count(connection, papers, papers.c.changed_at == now, ids)
    snapshots = _record_snapshots(connection, ids, now)
    if rejected:
        rows = [
            {
                "arxiv_id": _storable(reject.arxiv_id[:REJECTED_ID_LENGTH])
                if reject.arxiv_id
                else None,
                "page_url": page_url,
                "reason": _storable(reject.reason),
                "payload": payload_json(reject.payload),
                "rejected_at": now,
            }
            for reject in rejected
        ]
        # A re-read of the listing that finds the same rejects keeps no copy.
        kept = {
            (reason, payload)
            for reason, payload in connection.execute(
                sa.select(rejected_items.c.reason, rejected_items.c.payload).where(
                    rejected_items.c.page_url == page_url
                )
            )
        }
        rows = [row for row in rows if (row["reason"], row["payload"]) not in kept]
        if rows:
            connection.execute(rejected_items.insert(), rows)
    return Written(len(ranked), new, len(ranked) - new, snapshots, len(rejected), missing, changed)


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    """``ids`` in runs that one statement can bind: a listing may hold any
    number of papers, a statement binds at most 65,535 parameters on
    PostgreSQL and 32,766 on SQLite (999 before SQLite 3.32)."""
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        yield ids[start : start + IDS_PER_STATEMENT]


def _count(
    connection: Connection,
    table: sa.Table,
    where: sa.ColumnElement[bool],
    ids: Sequence[str] | None = None,
) -> int:
    """How many rows of ``table`` match ``where`` (and, given ``ids``, are
    of one of those papers: distinct ids, counted a run at a time)."""
    query = sa.select(sa.func.count()).select_from(table).where(where)
    if ids is None:
        return int(connection.execute(query).scalar_one())
    return sum(
        int(connection.execute(query.where(table.c.arxiv_id.in_(run))).scalar_one())
        for run in _chunks(ids)
    )


def record_read(connection: Connection, day: dt.date, now: dt.datetime, settles: bool) -> None:
    """Note that ``day``'s listing was read ``now``; a read that ``settles``
    it (on or after its last scheduled refresh) settles it for good."""
    connection.execute(
        _read_upsert(connection.dialect.name),
        {
            "listing_date": day,
            "first_read_at": now,
            "last_read_at": now,
            "settled_at": now if settles else None,
        },
    )


@functools.cache
def _read_upsert(dialect: str) -> Any:
    statement: Any = _insert(dialect, listing_days)
    return statement.on_conflict_do_update(
        index_elements=[listing_days.c.listing_date],
        set_={
            "last_read_at": statement.excluded.last_read_at,
            "settled_at": sa.func.coalesce(
                listing_days.c.settled_at, statement.excluded.settled_at
            ),
        },
    )


def _storable(text: str) -> str:
    """``text`` as every backend's text column takes it: lone surrogates as
    ``\\udxxx`` escapes, no NUL.

    >>> _storable("x\\ud800y\\x00")
    'x\\\\ud800y'
    """
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "")


def _upsert_papers(connection: Connection, batch: Sequence[Paper], now: dt.datetime) -> int:
    """Insert or refresh ``batch`` (distinct ids); return how many were new."""
    ids = [paper.arxiv_id for paper in batch]
    existing = {
        arxiv_id
        for run in _chunks(ids)
        for arxiv_id in connection.scalars(
            sa.select(papers.c.arxiv_id).where(papers.c.arxiv_id.in_(run))
        )
    }
    moments = {"first_seen_at": now, "last_seen_at": now, "changed_at": now}
    connection.execute(
        _paper_upsert(connection.dialect.name),
        [
            {
                **paper.model_dump(),
                **moments,
                "organization_key": organization_key(paper.organization),
                "organization_id_key": organization_key(paper.organization_id),
            }
            for paper in batch
        ],
    )
    return len(set(ids) - existing)


def _insert(dialect: str, table: sa.Table) -> Any:
    try:
        return _INSERTS[dialect](table)
    except KeyError:
        raise NotImplementedError(f"upserts are not written for {dialect}") from None


# Every statement is built once per dialect: building one, and its cache
# key, costs more than running it for a listing of papers.


@functools.cache
def _paper_upsert(dialect: str) -> Any:
    statement: Any = _insert(dialect, papers)
    excluded = statement.excluded
    refreshed = {name: sa.func.coalesce(excluded[name], papers.c[name]) for name in REFRESHED}
    # The organization filter's keys follow the names they are made of.
    keys = {
        name: sa.func.coalesce(excluded[name], papers.c[name])
        for name in ("organization_key", "organization_id_key")
    }
    changed = sa.or_(*(refreshed[name].is_distinct_from(papers.c[name]) for name in REFRESHED))
    return statement.on_conflict_do_update(
        index_elements=[papers.c.arxiv_id],
        set_={
            **refreshed,
            **keys,
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
def _period_listing_upsert(dialect: str) -> Any:
    statement: Any = _insert(dialect, period_listings)
    return statement.on_conflict_do_update(
        index_elements=[
            period_listings.c.period,
            period_listings.c.period_start,
            period_listings.c.arxiv_id,
        ],
        set_={"rank": statement.excluded.rank, "last_seen_at": statement.excluded.last_seen_at},
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


def _record_snapshots(connection: Connection, arxiv_ids: Sequence[str], now: dt.datetime) -> int:
    """Add an upvote snapshot for each paper whose stored counts differ from
    its latest snapshot (or that has none); return how many were added."""
    # Kept after the statement: SQLAlchemy gives an INSERT's count of rows
    # only when asked to (psycopg's was -1).
    statement = _snapshot_insert().execution_options(preserve_rowcount=True)
    return sum(
        int(connection.execute(statement, {"ids": run, "observed_at": now}).rowcount)
        for run in _chunks(sorted(arxiv_ids))
    )
