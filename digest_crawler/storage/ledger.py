"""The run ledger: each run (``crawl_runs``) and what became of each of its
listings (``crawl_listings``, each by its first day). It decides which
listings a resumed run skips."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from digest_crawler.items import Listing
from digest_crawler.storage.schema import crawl_listings, crawl_runs
from digest_crawler.storage.write import dialect_insert

#: Ledger outcomes of a listing that is done: a new run of the same listings
#: does not fetch it again (a "failed" one is fetched again).
DONE_OUTCOMES = ("stored", "no_digest")


@dataclass(frozen=True)
class Run:
    """A run just started: its id, and the listings (by first day) an
    interrupted run of the same listings already did (not to be read again)."""

    id: int
    done: frozenset[dt.date]


@dataclass(frozen=True)
class Summary:
    """A finished run's listings by outcome, and how many it left undone."""

    stored: int
    no_digest: int
    failed: int
    left: int
    complete: bool


def start_run(
    connection: Connection,
    spider: str,
    arguments: Mapping[str, Any],
    listings: Sequence[dt.date],
    now: dt.datetime,
    period: str = "day",
) -> Run:
    """Record a new run of ``listings`` (their first days; of kind
    ``period``) and take over an interrupted one.

    The latest earlier run with the same spider, period and listings that
    did not complete and was not taken over yet is resumed: its done
    listings are copied to the new run (``carried_over``) and are not read
    again, and it is marked ``resumed_by``. A complete run is never resumed:
    a new run of the same listings reads them again (that is how upvotes
    refresh).
    """
    inserted = connection.execute(
        crawl_runs.insert().values(
            spider=spider,
            arguments=json.dumps(dict(arguments), sort_keys=True, default=str),
            period=period,
            first_listing=listings[0],
            last_listing=listings[-1],
            started_at=now,
            listings_requested=len(listings),
            complete=False,
        )
    ).inserted_primary_key
    assert inserted is not None
    run_id: int = inserted[0]
    previous = connection.execute(
        sa.select(crawl_runs.c.id, crawl_runs.c.complete)
        .where(
            crawl_runs.c.spider == spider,
            crawl_runs.c.period == period,
            crawl_runs.c.first_listing == listings[0],
            crawl_runs.c.last_listing == listings[-1],
            crawl_runs.c.id < run_id,
            crawl_runs.c.resumed_by.is_(None),
        )
        .order_by(crawl_runs.c.id.desc())
        .limit(1)
    ).first()
    if previous is None or previous.complete:
        return Run(run_id, frozenset())
    done = connection.execute(
        sa.select(crawl_listings).where(
            crawl_listings.c.run_id == previous.id, crawl_listings.c.outcome.in_(DONE_OUTCOMES)
        )
    ).all()
    if done:
        connection.execute(
            crawl_listings.insert(),
            [{**row._asdict(), "run_id": run_id, "carried_over": True} for row in done],
        )
    connection.execute(
        crawl_runs.update().where(crawl_runs.c.id == previous.id).values(resumed_by=run_id)
    )
    return Run(run_id, frozenset(row.listing for row in done))


def record_listing(
    connection: Connection, run_id: int, listing: Listing, papers: int, now: dt.datetime
) -> None:
    """What became of ``listing`` in this run: stored (its ``papers``; the
    ledger's word for a listing served and written), no digest, or failed
    with the reason. A later outcome replaces an earlier one."""
    connection.execute(
        _listing_upsert(connection.dialect.name),
        {
            "run_id": run_id,
            "listing": listing.day,
            "outcome": "stored" if listing.outcome == "served" else listing.outcome,
            "papers": papers,
            "reason": listing.reason,
            "url": listing.url,
            "finished_at": now,
            "carried_over": False,
            "reading_rules": listing.reading_rules,
        },
    )


@functools.cache
def _listing_upsert(dialect: str) -> Any:
    statement: Any = dialect_insert(dialect, crawl_listings)
    # A later outcome replaces an earlier one (a carried-over one included).
    return statement.on_conflict_do_update(
        index_elements=list(crawl_listings.primary_key),
        set_={
            column.name: statement.excluded[column.name]
            for column in crawl_listings.columns
            if not column.primary_key
        },
    )


def finish_run(
    connection: Connection,
    run_id: int,
    now: dt.datetime,
    finish_reason: str | None,
    counts: Mapping[str, int],
) -> Summary:
    """Close the run's record: its listings by outcome, its counts, and
    whether it is complete: it finished and every requested listing is done."""
    by_outcome: dict[str, int] = dict(
        connection.execute(
            sa.select(crawl_listings.c.outcome, sa.func.count())
            .where(crawl_listings.c.run_id == run_id)
            .group_by(crawl_listings.c.outcome)
        ).all()
    )
    requested = connection.execute(
        sa.select(crawl_runs.c.listings_requested).where(crawl_runs.c.id == run_id)
    ).scalar_one()
    stored, no_digest = by_outcome.get("stored", 0), by_outcome.get("no_digest", 0)
    left = max(0, requested - stored - no_digest)
    summary = Summary(
        stored,
        no_digest,
        by_outcome.get("failed", 0),
        left,
        finish_reason == "finished" and not left,
    )
    connection.execute(
        crawl_runs.update()
        .where(crawl_runs.c.id == run_id)
        .values(
            finished_at=now,
            finish_reason=finish_reason,
            complete=summary.complete,
            listings_served=summary.stored,
            listings_no_digest=summary.no_digest,
            listings_failed=summary.failed,
            **counts,
        )
    )
    return summary
