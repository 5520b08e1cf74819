"""The archive, on SQLAlchemy Core: ``schema`` (the tables), ``engine``
(writer and reader engines), ``migrate`` (schema versions, Alembic),
``archive`` (a crawl's session), ``write`` (one listing's papers),
``ledger`` (runs and their listings), ``queries`` (what the readers read),
``search``, ``trends`` and ``deliveries`` (what watches sent). Where the backends differ: ``schema`` (column
types, the search index), ``write`` (whose ``insert`` upserts), ``search``
(FTS5 or tsvector), ``engine`` (SQLite's set-up) and ``migrate``
(PostgreSQL's lock)."""

from digest_crawler.storage.engine import SQLITE_BUSY_TIMEOUT_MS, make_engine, make_reader
from digest_crawler.storage.schema import (
    crawl_listings,
    crawl_runs,
    listing_days,
    listings,
    metadata,
    papers,
    period_listings,
    rejected_items,
    upvote_snapshots,
    watch_deliveries,
)

__all__ = [
    "SQLITE_BUSY_TIMEOUT_MS",
    "crawl_listings",
    "crawl_runs",
    "listing_days",
    "listings",
    "make_engine",
    "make_reader",
    "metadata",
    "papers",
    "period_listings",
    "rejected_items",
    "upvote_snapshots",
    "watch_deliveries",
]
