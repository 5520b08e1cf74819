"""What the readers (``scrapy export``) read: they open the archive
read-only and never upgrade it."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.engine import Connection, Engine, Row

from digest_crawler.items import COUNT_MAX, PAPER_FIELDS
from digest_crawler.storage.engine import is_sqlite, make_reader
from digest_crawler.storage.migrate import SchemaError, head_version, version_of
from digest_crawler.storage.schema import listing_days, listings, papers, upvote_snapshots


class ArchiveError(Exception):
    """A one-line reason the archive cannot be read."""


def open_archive(url: str) -> Engine:
    """A read-only engine on an existing archive of this release's schema
    version; ``ArchiveError`` otherwise (no archive, an older or newer one)."""
    shown = sa.engine.make_url(url).render_as_string(hide_password=True)
    if is_sqlite(url):
        database = sa.engine.make_url(url).database
        if not database or database == ":memory:" or not Path(database).expanduser().is_file():
            raise ArchiveError(f"no database at {shown} (run scrapy crawl daily first)")
    engine = make_reader(url)
    try:
        with engine.connect() as connection:
            version = version_of(connection)
    except (sa.exc.SQLAlchemyError, SchemaError) as exc:
        engine.dispose()
        raise ArchiveError(f"cannot read {shown}: {str(exc).splitlines()[0]}") from None
    head = head_version()
    if version is None:
        engine.dispose()
        raise ArchiveError(f"{shown} has no papers table (run scrapy crawl daily first)")
    if version != head:
        engine.dispose()
        if version < head:
            raise ArchiveError(
                f"{shown} has schema version {version}, this release reads version {head}:"
                " run scrapy upgrade (or a crawl) to upgrade it in place"
            )
        raise ArchiveError(
            f"{shown} has schema version {version}, newer than this release's {head}:"
            " upgrade digest_crawler"
        )
    return engine


class PaperFilter(BaseModel):
    """Which papers to read, and by which date to filter and order them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    since: dt.date | None = Field(default=None, description="First date, inclusive.")
    until: dt.date | None = Field(default=None, description="Last date, inclusive.")
    by: Literal["listing", "published"] = Field(
        default="listing", description="Filter and order by the listing date or the arXiv date."
    )
    min_upvotes: int | None = Field(default=None, ge=0, le=COUNT_MAX)
    organization: str | None = Field(default=None, min_length=1, description="Name or handle.")
    changed_since: dt.datetime | None = Field(
        default=None, description="Only papers new or changed after this moment."
    )
    settled: bool = Field(default=False, description="Only papers of settled days (final upvotes).")

    @model_validator(mode="after")
    def _since_before_until(self) -> PaperFilter:
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"--since: {self.since} is after --until {self.until}")
        return self


def select_papers(chosen: PaperFilter) -> sa.Select[Any]:
    """The papers ``chosen`` names, ordered by the date then ``arxiv_id``
    (papers without an arXiv date last with ``by="published"``)."""
    date_column = papers.c.listing_date if chosen.by == "listing" else papers.c.published_at
    settled = listing_days.c.settled_at.is_not(None)
    query = sa.select(
        *(papers.c[name] for name in PAPER_FIELDS),
        sa.func.coalesce(settled, False).label("settled"),
    ).select_from(
        papers.outerjoin(listing_days, listing_days.c.listing_date == papers.c.listing_date)
    )
    if chosen.settled:
        query = query.where(settled)
    if chosen.since:
        query = query.where(date_column >= chosen.since)
    if chosen.until:
        query = query.where(date_column <= chosen.until)
    if chosen.min_upvotes is not None:
        query = query.where(papers.c.upvotes >= chosen.min_upvotes)
    if chosen.organization:
        # lower() on both sides, by the database: one rule for the column and
        # the option (the reader's SQLite lower() is Unicode-aware too).
        name = sa.func.lower(sa.literal(chosen.organization))
        query = query.where(
            sa.or_(
                sa.func.lower(papers.c.organization) == name,
                sa.func.lower(papers.c.organization_id) == name,
            )
        )
    if chosen.changed_since:
        query = query.where(papers.c.changed_at > chosen.changed_since)
    return query.order_by(date_column.is_(None), date_column, papers.c.arxiv_id)


def paper_chunks(
    connection: Connection, chosen: PaperFilter, size: int = 1000
) -> Iterator[list[Row[Any]]]:
    """The chosen papers, streamed in chunks of ``size`` rows."""
    result = connection.execution_options(yield_per=size).execute(select_papers(chosen))
    for chunk in result.partitions():
        yield list(chunk)


@dataclass
class History:
    """One paper's listings (date, rank) and upvote snapshots, oldest first."""

    listings: list[Any]
    snapshots: list[Any]


def histories(connection: Connection, arxiv_ids: list[str]) -> dict[str, History]:
    """The history of each of ``arxiv_ids``."""
    found: dict[str, History] = defaultdict(lambda: History([], []))
    for row in connection.execute(
        sa.select(listings.c.arxiv_id, listings.c.listing_date, listings.c.rank)
        .where(listings.c.arxiv_id.in_(arxiv_ids))
        .order_by(listings.c.arxiv_id, listings.c.listing_date)
    ):
        found[row.arxiv_id].listings.append(row)
    for row in connection.execute(
        sa.select(upvote_snapshots)
        .where(upvote_snapshots.c.arxiv_id.in_(arxiv_ids))
        .order_by(upvote_snapshots.c.arxiv_id, upvote_snapshots.c.id)
    ):
        found[row.arxiv_id].snapshots.append(row)
    return {arxiv_id: found[arxiv_id] for arxiv_id in arxiv_ids}
