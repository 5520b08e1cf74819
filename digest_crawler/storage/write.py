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
    repaired_at: dt.datetime | None = None,
) -> Written:
    """Store one listing's valid papers (each once) with their ranks, new
    upvote snapshots and the listing's rejected papers, as read at ``now``.
    The ranks are a day's (``listings``, by each paper's listing date)
    unless ``period`` is a week or a month (``period_listings``).

    A read older than what is stored (``scrapy reparse`` storing a read
    again at its own moment) changes the archive as of that moment: it fills
    what is missing, takes its place in the paper's snapshots, and a value
    it changes is marked changed at ``repaired_at`` (default ``now``)."""
    # Rows in key order: two crawls writing the same papers at once (listed
    # in another order, as ranks change) then lock them in the same order
    # instead of deadlocking on PostgreSQL.
    ranked = sorted(ranked, key=lambda pair: pair[1].arxiv_id)
    ids = [paper.arxiv_id for _, paper in ranked]
    # A read stored again may meet its own earlier store (changed at its
    # moment): what it changes is told by the moments before and after.
    before = _changed_at(connection, ids) if repaired_at is not None else None
    new = 0
    for start in range(0, len(ranked), batch_size):
        new += _upsert_papers(
            connection, [p for _, p in ranked[start : start + batch_size]], now, repaired_at or now
        )
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
        day = ranked[0][1].listing_date
        # The papers of this read are all listed on their day now: the rest
        # of the day's rows are of earlier reads.
        listed = {paper.arxiv_id for _, paper in ranked if paper.listing_date == day}
        missing = _scalar(connection, _day_count(), day=day) - len(listed)
    elif ranked and period is not None:
        where = {"period": period.kind, "period_start": period.start}
        connection.execute(
            _period_listing_upsert(connection.dialect.name),
            [
                where | {"arxiv_id": paper.arxiv_id, "rank": rank} | moments
                for rank, paper in ranked
            ],
        )
        listed_in_period = _scalar(
            connection, _period_count(), period=period.kind, period_start=period.start
        )
        missing = listed_in_period - len(set(ids))
    if before is None:
        changed = sum(
            _scalar(connection, _changed_count(), changed_at=now, ids=run) for run in _chunks(ids)
        )
    else:
        after = _changed_at(connection, ids)
        changed = sum(1 for arxiv_id in set(ids) if before.get(arxiv_id) != after[arxiv_id])
    snapshots = _record_snapshots(connection, ids, now)
    snapshots += _record_older_snapshots(connection, [paper for _, paper in ranked], now)
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


def _changed_at(connection: Connection, ids: Sequence[str]) -> dict[str, Any]:
    """When each stored paper of ``ids`` last changed."""
    return {
        row.arxiv_id: row.changed_at
        for run in _chunks(ids)
        for row in connection.execute(
            sa.select(papers.c.arxiv_id, papers.c.changed_at).where(papers.c.arxiv_id.in_(run))
        )
    }


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    """``ids`` in runs that one statement can bind: a listing may hold any
    number of papers, a statement binds at most 65,535 parameters on
    PostgreSQL and 32,766 on SQLite (999 before SQLite 3.32)."""
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        yield ids[start : start + IDS_PER_STATEMENT]


def _scalar(connection: Connection, statement: Any, **values: Any) -> int:
    return int(connection.execute(statement, values).scalar_one())


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
    statement: Any = dialect_insert(dialect, listing_days)
    excluded, days = statement.excluded, listing_days.c
    return statement.on_conflict_do_update(
        index_elements=[days.listing_date],
        set_={
            "first_read_at": _least(excluded.first_read_at, days.first_read_at),
            "last_read_at": _greatest(excluded.last_read_at, days.last_read_at),
            # Settled by its first read on or after the horizon.
            "settled_at": sa.case(
                (days.settled_at.is_(None), excluded.settled_at),
                (excluded.settled_at < days.settled_at, excluded.settled_at),
                else_=days.settled_at,
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


def _upsert_papers(
    connection: Connection, batch: Sequence[Paper], now: dt.datetime, repaired_at: dt.datetime
) -> int:
    """Insert or refresh ``batch`` (distinct ids); return how many were new."""
    ids = [paper.arxiv_id for paper in batch]
    existing = {
        arxiv_id for run in _chunks(ids) for arxiv_id in connection.scalars(_stored(), {"ids": run})
    }
    moments = {"first_seen_at": now, "last_seen_at": now, "changed_at": now}
    # A repair's own moment is a parameter of the statement; a read's is
    # each row's changed_at (which lets SQLite's batch be one statement).
    repairing = repaired_at != now
    connection.execute(
        _paper_upsert(connection.dialect.name, _batched(connection.dialect), repairing),
        [
            {
                **paper.model_dump(),
                **moments,
                "organization_key": organization_key(paper.organization),
                "organization_id_key": organization_key(paper.organization_id),
                **({"repaired_at": repaired_at} if repairing else {}),
            }
            for paper in batch
        ],
    )
    return len(set(ids) - existing)


def dialect_insert(dialect: str, table: sa.Table) -> Any:
    """``table``'s insert() of ``dialect``, which upserts (``on_conflict_do_update``)."""
    try:
        return _INSERTS[dialect](table)
    except KeyError:
        raise NotImplementedError(f"upserts are not written for {dialect}") from None


# Every statement is built once per dialect: building one, and its cache
# key, costs more than running it for a listing of papers.


def _batched(dialect: sa.Dialect) -> bool:
    """Whether a batch of papers is upserted in one statement: on SQLite,
    whose full-text index writes what its triggers gave it at the start of
    every statement (a statement per paper wrote an index segment per paper:
    1.4-1.6x the CPU of storing without the index, 2.7x in a backfill).
    SQLAlchemy sends an INSERT with RETURNING as multi-row INSERTs
    ("insertmanyvalues": SQLite 3.35 on), unless its ON CONFLICT clause has
    a parameter of its own."""
    return dialect.name == "sqlite" and dialect.insert_executemany_returning


@functools.cache
def _paper_upsert(dialect: str, batched: bool, repairing: bool) -> Any:
    """Insert or refresh papers as of the read's moment: a read newer than
    the stored one refreshes every value it gives; an older one (a read
    stored again by ``scrapy reparse``) only fills what is missing. A value
    changed by a newer read changed at its moment; one changed by an older
    read (a repair) at ``repaired_at`` when ``repairing`` (else at the
    read's moment), so a ``--changed-since`` poll sees it. In one statement
    per batch when ``batched`` and not ``repairing``."""
    statement: Any = dialect_insert(dialect, papers)
    if batched and not repairing:
        statement = statement.returning(papers.c.arxiv_id)
    excluded = statement.excluded
    repaired = (
        sa.bindparam("repaired_at", type_=UTCDateTime()) if repairing else excluded.changed_at
    )
    newer = excluded.last_seen_at >= papers.c.last_seen_at

    def refreshed(name: str) -> Any:
        return sa.case(
            (newer, sa.func.coalesce(excluded[name], papers.c[name])),
            else_=sa.func.coalesce(papers.c[name], excluded[name]),
        )

    values = {name: refreshed(name) for name in REFRESHED}
    # The organization filter's keys follow the names they are made of.
    keys = {name: refreshed(name) for name in ("organization_key", "organization_id_key")}
    changed = sa.or_(*(values[name].is_distinct_from(papers.c[name]) for name in REFRESHED))
    return statement.on_conflict_do_update(
        index_elements=[papers.c.arxiv_id],
        set_={
            **values,
            **keys,
            "listing_date": _least(excluded.listing_date, papers.c.listing_date),
            "scraped_at": sa.case((newer, excluded.scraped_at), else_=papers.c.scraped_at),
            "first_seen_at": _least(excluded.first_seen_at, papers.c.first_seen_at),
            "last_seen_at": sa.case((newer, excluded.last_seen_at), else_=papers.c.last_seen_at),
            "changed_at": sa.case(
                (
                    sa.and_(changed, excluded.last_seen_at > papers.c.last_seen_at),
                    excluded.changed_at,
                ),
                (changed, repaired),
                else_=papers.c.changed_at,
            ),
        },
    )


def _least(new: Any, stored: Any) -> Any:
    """The earlier of two values (the stored one when they are equal)."""
    return sa.case((new < stored, new), else_=stored)


def _greatest(new: Any, stored: Any) -> Any:
    return sa.case((new > stored, new), else_=stored)


@functools.cache
def _listing_upsert(dialect: str) -> Any:
    return _ranks(dialect_insert(dialect, listings), [listings.c.listing_date, listings.c.arxiv_id])


@functools.cache
def _period_listing_upsert(dialect: str) -> Any:
    table = period_listings
    return _ranks(
        dialect_insert(dialect, table), [table.c.period, table.c.period_start, table.c.arxiv_id]
    )


def _ranks(statement: Any, key: list[Any]) -> Any:
    """A paper's rank in a list as of the read's moment: the newest read's
    rank; first and last seen the earliest and latest reads."""
    table, excluded = statement.table, statement.excluded
    newer = excluded.last_seen_at >= table.c.last_seen_at
    return statement.on_conflict_do_update(
        index_elements=key,
        set_={
            "rank": sa.case((newer, excluded.rank), else_=table.c.rank),
            "first_seen_at": _least(excluded.first_seen_at, table.c.first_seen_at),
            "last_seen_at": _greatest(excluded.last_seen_at, table.c.last_seen_at),
        },
    )


@functools.cache
def _stored() -> Any:
    """Which of the papers ``ids`` are stored."""
    return sa.select(papers.c.arxiv_id).where(papers.c.arxiv_id.in_(_ids()))


@functools.cache
def _seen_after() -> Any:
    """Which of the papers ``ids`` a read later than ``now`` stored."""
    return sa.select(papers.c.arxiv_id).where(
        papers.c.arxiv_id.in_(_ids()),
        papers.c.last_seen_at > sa.bindparam("now", type_=UTCDateTime()),
    )


@functools.cache
def _changed_count() -> Any:
    """How many of the papers ``ids`` this write changed (at ``changed_at``)."""
    return _count_of(
        papers,
        papers.c.changed_at == sa.bindparam("changed_at", type_=UTCDateTime()),
        papers.c.arxiv_id.in_(_ids()),
    )


@functools.cache
def _day_count() -> Any:
    """How many papers are listed on the day ``day``."""
    return _count_of(listings, listings.c.listing_date == sa.bindparam("day", type_=sa.Date()))


@functools.cache
def _period_count() -> Any:
    """How many papers the week's or month's list (``period``, ``period_start``) holds."""
    return _count_of(
        period_listings,
        period_listings.c.period == sa.bindparam("period"),
        period_listings.c.period_start == sa.bindparam("period_start", type_=sa.Date()),
    )


def _count_of(table: sa.Table, *where: sa.ColumnElement[bool]) -> Any:
    return sa.select(sa.func.count()).select_from(table).where(*where)


def _ids() -> Any:
    """A run of paper ids (``_chunks``), bound when the statement is run."""
    return sa.bindparam("ids", expanding=True)


@functools.cache
def _snapshot_insert() -> Any:
    """Copy the counts of the papers ``ids`` into a new snapshot unless the
    paper's latest snapshot already holds them."""
    latest = upvote_snapshots.alias("latest")
    snapshot = upvote_snapshots.c
    newest_id = (
        sa.select(snapshot.id)
        .where(snapshot.arxiv_id == papers.c.arxiv_id)
        .order_by(snapshot.observed_at.desc(), snapshot.id.desc())
        .limit(1)
        .correlate(papers)  # the outer query's paper, two levels up
        .scalar_subquery()
    )
    # The latest snapshot in time: an index lookup per paper.
    unchanged = sa.exists().where(
        latest.c.id == newest_id,
        *(latest.c[name].is_not_distinct_from(papers.c[name]) for name in _COUNTS),
    )
    observed_at = sa.bindparam("observed_at", type_=UTCDateTime())
    changed = (
        sa.select(papers.c.arxiv_id, observed_at, *(papers.c[name] for name in _COUNTS))
        .where(
            papers.c.arxiv_id.in_(sa.bindparam("ids", expanding=True)),
            # This read is the paper's newest: its row holds what it saw.
            papers.c.last_seen_at == observed_at,
            ~unchanged,
        )
        .order_by(papers.c.arxiv_id)
    )
    return upvote_snapshots.insert().from_select(["arxiv_id", "observed_at", *_COUNTS], changed)


def _record_older_snapshots(connection: Connection, read: Sequence[Paper], now: dt.datetime) -> int:
    """The snapshots of a read older than the papers' newest (a read stored
    again by ``scrapy reparse``): at its moment, unless one is there, when
    its counts (a count it lacks: the snapshot's before it) differ from the
    snapshot before it. Return how many were added."""
    snapshot = upvote_snapshots.c
    older = {
        arxiv_id
        for run in _chunks(sorted(paper.arxiv_id for paper in read))
        for arxiv_id in connection.scalars(_seen_after(), {"ids": run, "now": now})
    }
    added = 0
    for paper in sorted(read, key=lambda paper: paper.arxiv_id):
        if paper.arxiv_id not in older:
            continue
        mine = snapshot.arxiv_id == paper.arxiv_id
        if connection.execute(
            sa.select(snapshot.id).where(mine, snapshot.observed_at == now).limit(1)
        ).first():
            continue
        before = connection.execute(
            sa.select(*(snapshot[name] for name in _COUNTS))
            .where(mine, snapshot.observed_at < now)
            .order_by(snapshot.observed_at.desc(), snapshot.id.desc())
            .limit(1)
        ).first()
        counts = {
            name: value
            if (value := getattr(paper, name)) is not None or before is None
            else getattr(before, name)
            for name in _COUNTS
        }
        if before is not None and all(counts[n] == getattr(before, n) for n in _COUNTS):
            continue
        connection.execute(
            upvote_snapshots.insert().values(arxiv_id=paper.arxiv_id, observed_at=now, **counts)
        )
        added += 1
    return added


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
