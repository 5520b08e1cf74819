"""What the readers (export, search, report) read: they open the archive
read-only and never upgrade it; one filter (``PaperFilter``) chooses their
papers."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy.engine import Connection, Engine, Row

from digest_crawler.paper import COUNT_MAX, PAPER_FIELDS
from digest_crawler.periods import Kind, Period
from digest_crawler.storage.engine import is_sqlite, make_reader
from digest_crawler.storage.migrate import SchemaError, head_version, version_of
from digest_crawler.storage.schema import (
    adoption_snapshots,
    listing_days,
    listings,
    organization_key,
    papers,
    period_listings,
    upvote_snapshots,
)


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


@contextmanager
def reading(url: str) -> Iterator[Connection]:
    """A read-only connection on the archive at ``url``; ``ArchiveError`` (one
    line) for no archive, one of another schema version, a database error
    while it is read, or a stored value its column's type cannot be."""
    engine = open_archive(url)
    try:
        with engine.connect() as connection:
            yield connection
    except sa.exc.SQLAlchemyError as exc:
        raise ArchiveError(f"cannot read the archive: {str(exc).splitlines()[0]}") from None
    except (ValueError, TypeError) as exc:
        # A value another tool stored that its column's type cannot be (a
        # list that is no JSON, a date that is none): the column's reader,
        # or the output's, refused it.
        reason = (str(exc).splitlines() or [""])[0][:300]
        raise ArchiveError(
            f"cannot read the archive: a stored value is not of its column's type"
            f" ({type(exc).__name__}: {reason})"
        ) from None
    finally:
        engine.dispose()


#: The adoption filters (``--min-models`` ...), by the count each reads (``linked_*``).
ADOPTION_FILTERS = ("models", "datasets", "spaces")


class PaperFilter(BaseModel):
    """Which papers to read, and by which date to filter and order them.

    ``week``/``month`` name one stored list (by its key, or its first day);
    its papers come in the list's rank order, each with its rank.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    since: dt.date | None = Field(None, description="first date, inclusive")
    until: dt.date | None = Field(None, description="last date, inclusive")
    by: Literal["listing", "published"] = Field(
        "listing", description="the date to filter and order by: the listing day or the arXiv date"
    )
    min_upvotes: int | None = Field(
        None, ge=0, le=COUNT_MAX, description="only papers with at least this many upvotes"
    )
    min_models: int | None = Field(
        None,
        ge=0,
        le=COUNT_MAX,
        description="only papers at least this many models on the Hub cite (as last asked)",
    )
    min_datasets: int | None = Field(
        None, ge=0, le=COUNT_MAX, description="only papers at least this many datasets cite"
    )
    min_spaces: int | None = Field(
        None, ge=0, le=COUNT_MAX, description="only papers at least this many Spaces cite"
    )
    organization: str | None = Field(
        None, min_length=1, description="only papers of this organization (name or handle)"
    )
    changed_since: dt.datetime | None = Field(
        None, description="only papers new or changed after this moment (UTC)"
    )
    settled: bool = Field(
        False,
        description="only papers of settled days (read at the end of the refresh schedule:"
        " final upvotes)",
    )
    week: dt.date | None = Field(
        None,
        description="only the papers of this ISO week's list, in its rank order, with ranks",
        json_schema_extra={"metavar": "YYYY-Www"},
    )
    month: dt.date | None = Field(
        None,
        description="only the papers of this month's list, in its rank order, with ranks",
        json_schema_extra={"metavar": "YYYY-MM"},
    )

    @field_validator("week", "month", mode="before")
    @classmethod
    def _list_key(cls, value: Any, info: ValidationInfo) -> Any:
        kind: Kind = "week" if info.field_name == "week" else "month"
        return Period.parse(kind, value).start if isinstance(value, str) else value

    @field_validator("week", "month")
    @classmethod
    def _first_day(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        kind: Kind = "week" if info.field_name == "week" else "month"
        if value is not None and Period.containing(kind, value).start != value:
            raise ValueError(f"{value} is not the first day of a {kind}")
        return value

    @property
    def period(self) -> Period | None:
        """The list named, if any."""
        if self.week:
            return Period("week", self.week)
        if self.month:
            return Period("month", self.month)
        return None


def select_papers(
    chosen: PaperFilter,
    newest_first: bool = False,
    native: bool = False,
    among: Collection[str] | None = None,
) -> list[sa.Select[Any]]:
    """The queries of the papers ``chosen`` names, to run one after the
    other: ordered by the date then ``arxiv_id`` (``newest_first``: both
    descending), or a list's rank with ``week``/``month``. ``native``: each
    value as the driver returns it, without the column type's processing
    (SQLite: dates, moments and lists as their stored text). ``among``:
    only these papers (a watch's matches).

    Every order is an index's (no sort of the archive): papers without an
    arXiv date come last with ``by="published"``, as a second query rather
    than an ``IS NULL`` sort key no index serves.
    """
    period = chosen.period
    base = _filtered(chosen, native)
    if among is not None:
        base = base.where(papers.c.arxiv_id.in_(sorted(among)))
    if period is not None:
        return [base.order_by(period_listings.c.rank, period_listings.c.arxiv_id)]
    column = papers.c.listing_date if chosen.by == "listing" else papers.c.published_at

    def ordered(query: sa.Select[Any], *keys: sa.ColumnElement[Any]) -> sa.Select[Any]:
        return query.order_by(*(key.desc() if newest_first else key for key in keys))

    if chosen.by == "listing" or chosen.since or chosen.until:  # no NULL dates among them
        return [ordered(base, column, papers.c.arxiv_id)]
    return [
        ordered(base.where(column.is_not(None)), column, papers.c.arxiv_id),
        ordered(base.where(column.is_(None)), column, papers.c.arxiv_id),
    ]


def paper_ids(chosen: PaperFilter) -> sa.Select[Any]:
    """The ids of the papers ``chosen`` names, unordered: one definition of
    the filters for the readers that rank or count them (search, report)."""
    return _filtered(chosen, native=False).with_only_columns(papers.c.arxiv_id)


def narrows(chosen: PaperFilter) -> bool:
    """Whether ``chosen`` leaves out any paper (it names a filter)."""
    return bool(_conditions(chosen)) or chosen.settled or chosen.period is not None


def narrowed(query: sa.Select[Any], chosen: PaperFilter) -> sa.Select[Any]:
    """``query``, whose FROM holds ``papers``, narrowed to the papers
    ``chosen`` names: joined to ``listing_days`` or ``period_listings`` only
    when a filter needs it (``--settled``, ``--week``, ``--month``), so a
    query that ranks a few papers (search) does not read them for all."""
    if chosen.settled:
        query = query.join(
            listing_days,
            sa.and_(
                listing_days.c.listing_date == papers.c.listing_date,
                listing_days.c.settled_at.is_not(None),
            ),
        )
    if chosen.period is not None:
        query = query.join(period_listings, _listed(chosen.period))
    return query.where(*_conditions(chosen))


def _listed(period: Period) -> sa.ColumnElement[bool]:
    """A ``period_listings`` row of ``period``'s list, of the paper."""
    return sa.and_(
        period_listings.c.period == period.kind,
        period_listings.c.period_start == period.start,
        period_listings.c.arxiv_id == papers.c.arxiv_id,
    )


def _conditions(chosen: PaperFilter) -> list[sa.ColumnElement[bool]]:
    """The filters of ``chosen`` on ``papers``' own columns."""
    date_column = papers.c.listing_date if chosen.by == "listing" else papers.c.published_at
    conditions = []
    if chosen.since:
        conditions.append(date_column >= chosen.since)
    if chosen.until:
        conditions.append(date_column <= chosen.until)
    if chosen.min_upvotes is not None:
        conditions.append(papers.c.upvotes >= chosen.min_upvotes)
    # A paper never asked (NULL) has no known artifact: --min-models 0 keeps
    # only the papers whose counts are known.
    for name in ADOPTION_FILTERS:
        least = getattr(chosen, f"min_{name}")
        if least is not None:
            conditions.append(papers.c[f"linked_{name}"] >= least)
    if chosen.organization:
        # The keys the writer stored: the name and the handle in Python's
        # lower case (indexed; the same rule on every backend).
        key = organization_key(chosen.organization)
        conditions.append(
            sa.or_(papers.c.organization_key == key, papers.c.organization_id_key == key)
        )
    if chosen.changed_since:
        conditions.append(papers.c.changed_at > chosen.changed_since)
    return conditions


def _filtered(chosen: PaperFilter, native: bool) -> sa.Select[Any]:
    """The chosen papers' columns (and ``settled``, ``rank``), unordered."""
    settled = listing_days.c.settled_at.is_not(None)
    joined = papers.outerjoin(listing_days, listing_days.c.listing_date == papers.c.listing_date)
    rank: sa.ColumnElement[Any] = sa.null()
    if chosen.period is not None:
        joined = period_listings.join(joined, _listed(chosen.period))
        rank = period_listings.c.rank
    columns: list[sa.ColumnElement[Any]] = [
        *(papers.c[name] for name in PAPER_FIELDS),
        sa.func.coalesce(settled, False).label("settled"),
        rank.label("rank"),
    ]
    if native:
        columns = [sa.type_coerce(c, sa.types.NullType()).label(c.key) for c in columns]
    query = sa.select(*columns).select_from(joined).where(*_conditions(chosen))
    if chosen.settled:
        query = query.where(settled)
    return query


def paper_chunks(
    connection: Connection,
    chosen: PaperFilter,
    size: int = 1000,
    newest_first: bool = False,
    native: bool = False,
    among: Collection[str] | None = None,
) -> Iterator[list[Row[Any]]]:
    """The chosen papers (``among`` these), streamed in chunks of ``size`` rows."""
    for query in select_papers(chosen, newest_first, native, among):
        result = connection.execution_options(yield_per=size).execute(query)
        for chunk in result.partitions():
            yield list(chunk)


def list_is_stored(connection: Connection, period: Period) -> bool:
    """Whether the archive holds the week's or month's list ``period``."""
    found = connection.execute(
        sa.select(period_listings.c.arxiv_id)
        .where(
            period_listings.c.period == period.kind,
            period_listings.c.period_start == period.start,
        )
        .limit(1)
    ).first()
    return found is not None


@dataclass
class History:
    """One paper's listings (date, rank), upvote and adoption snapshots, oldest first."""

    listings: list[Any]
    snapshots: list[Any]
    adoption: list[Any]


def histories(connection: Connection, arxiv_ids: list[str]) -> dict[str, History]:
    """The history of each of ``arxiv_ids``."""
    found: dict[str, History] = defaultdict(lambda: History([], [], []))
    for row in connection.execute(
        sa.select(listings.c.arxiv_id, listings.c.listing_date, listings.c.rank)
        .where(listings.c.arxiv_id.in_(arxiv_ids))
        .order_by(listings.c.arxiv_id, listings.c.listing_date)
    ):
        found[row.arxiv_id].listings.append(row)
    for table, kept in ((upvote_snapshots, "snapshots"), (adoption_snapshots, "adoption")):
        for row in connection.execute(
            sa.select(table)
            .where(table.c.arxiv_id.in_(arxiv_ids))
            .order_by(table.c.arxiv_id, table.c.observed_at, table.c.id)
        ):
            getattr(found[row.arxiv_id], kept).append(row)
    return {arxiv_id: found[arxiv_id] for arxiv_id in arxiv_ids}
