"""The archive's tables, as of the newest schema version.

The ``papers`` columns of a paper's own fields follow the ``Paper`` model
(type, length, whether it may be NULL); the rest is the archive's own
bookkeeping. Every change here is also an Alembic migration
(``migrations/versions``): a test holds the two to the same schema.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from digest_crawler.paper import (
    ADOPTION,
    ARXIV_ID_MAX_LENGTH,
    COUNTS,
    KINDS,
    PAPER_FIELDS,
    Group,
    fields_in,
    search_weight,
)


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """An aware UTC datetime in, an aware UTC datetime out, on every backend.

    PostgreSQL keeps it as ``timestamptz``. SQLite has no such type: there it
    is ISO 8601 text in UTC with a ``Z`` and always six decimals
    (``2026-07-31T00:00:00.000000Z``), as in the feeds, and it sorts as text.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True
    #: How SQLite keeps a moment.
    SQLITE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")

    @classmethod
    def json_text(cls, stored: str) -> str | None:
        """A moment SQLite keeps (``2026-07-31T09:05:00.000000Z``) as JSON
        writes it (pydantic's form: no decimals when they are all zero),
        without parsing it; ``None`` for text of another form.

        >>> UTCDateTime.json_text("2026-07-31T09:05:00.000000Z"), UTCDateTime.json_text("x")
        ('2026-07-31T09:05:00Z', None)
        """
        if not cls.SQLITE_TEXT.fullmatch(stored):
            return None
        return stored[:-8] + "Z" if stored.endswith(".000000Z") else stored

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.Text())
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored: the time zone is unknown")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
        return value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        moment: dt.datetime = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


# JSONB on PostgreSQL: plain json has no equality operator, which the
# "did this row change" check needs. A Python None is SQL NULL, not JSON null.
JSONList = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)


def paper_column(name: str) -> sa.Column[Any]:
    """The ``papers`` column of one ``Paper`` field (its type, length, NULL)."""
    kind = KINDS[name]
    column_type: Any
    if kind.type is list:
        column_type = JSONList
    elif kind.type is dt.datetime:
        column_type = UTCDateTime
    elif kind.type is dt.date:
        column_type = sa.Date
    elif kind.type is int:
        column_type = sa.Integer
    elif kind.type is str:
        column_type = sa.String(kind.max_length) if kind.max_length else sa.Text
    else:  # pragma: no cover - a new field type needs a column type here
        raise TypeError(f"no column type for Paper.{name}: {kind.type!r}")
    return sa.Column(name, column_type, primary_key=name == "arxiv_id", nullable=kind.optional)


#: A column that refers to a paper by its id.
ARXIV_ID = sa.String(ARXIV_ID_MAX_LENGTH)
#: How much of a rejected paper's id (which may be anything) is kept.
REJECTED_ID_LENGTH = 64

metadata = sa.MetaData()

papers = sa.Table(
    "papers",
    metadata,
    *(paper_column(name) for name in PAPER_FIELDS),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=False),
    # When a crawl last saw a value differ (or the row was new): lets a
    # consumer poll for changes. Upserts do not run ``onupdate``: set by hand.
    sa.Column("changed_at", UTCDateTime, nullable=False, index=True),
    # The readers' orders and filters (scrapy export), each served by an
    # index: the date then the id, so no sort is needed.
    sa.Index("ix_papers_listing_date", "listing_date", "arxiv_id"),
    sa.Index("ix_papers_published_at", "published_at", "arxiv_id"),
    # The organization filter's keys: the name and the handle in lower case
    # as Python makes it (Unicode: "École" -> "école"), written with the
    # paper, so one rule holds on every backend and an index serves it.
    # (SQLite's own lower() knows ASCII only: an index of it would not do.)
    sa.Column("organization_key", sa.Text, index=True),
    sa.Column("organization_id_key", sa.Text, index=True),
)


#: The longest organization key kept whole (in characters: 1,024 bytes at
#: most, well inside PostgreSQL's btree row of about 2,700 bytes).
ORGANIZATION_KEY_LENGTH = 256


def organization_key(name: str | None) -> str | None:
    """The organization filter's key of a name or handle: the name in lower
    case; a longer one than ``ORGANIZATION_KEY_LENGTH`` (which no index row
    holds on every backend) as its beginning and the SHA-256 of the whole,
    so the filter still tells two long names apart.

    >>> organization_key("École Polytechnique"), organization_key(None)
    ('école polytechnique', None)
    >>> key = organization_key("Lab " * 100)
    >>> len(key), key[:9], key[192:193]
    (257, 'lab lab l', '#')
    """
    if name is None:
        return None
    key = name.lower()
    if len(key) <= ORGANIZATION_KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{key[:192]}#{digest}"


listing_days = sa.Table(
    "listing_days",
    metadata,
    sa.Column("listing_date", sa.Date, primary_key=True),
    sa.Column("first_read_at", UTCDateTime, nullable=False),
    sa.Column("last_read_at", UTCDateTime, nullable=False),
    # The first read on or after the day's last scheduled refresh (day 14):
    # from then on its upvotes are final. NULL: the day is still open.
    sa.Column("settled_at", UTCDateTime),
)

rejected_items = sa.Table(
    "rejected_items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("arxiv_id", sa.String(REJECTED_ID_LENGTH)),
    sa.Column("page_url", sa.Text),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("rejected_at", UTCDateTime, nullable=False),
)

listings = sa.Table(
    "listings",
    metadata,
    sa.Column("listing_date", sa.Date, primary_key=True),
    sa.Column(
        "arxiv_id",
        ARXIV_ID,
        sa.ForeignKey("papers.arxiv_id", name="fk_listings_arxiv_id"),
        primary_key=True,
    ),
    # 1-based position on that day's page.
    sa.Column("rank", sa.Integer),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=False),
    sa.Index("ix_listings_arxiv_id", "arxiv_id"),
)

period_listings = sa.Table(
    "period_listings",
    metadata,
    # A week's or a month's list: "week" (starting on its ISO Monday) or
    # "month" (starting on its first day).
    sa.Column("period", sa.String(8), primary_key=True),
    sa.Column("period_start", sa.Date, primary_key=True),
    sa.Column(
        "arxiv_id",
        ARXIV_ID,
        sa.ForeignKey("papers.arxiv_id", name="fk_period_listings_arxiv_id"),
        primary_key=True,
    ),
    # 1-based position in that period's list.
    sa.Column("rank", sa.Integer),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=False),
    sa.Index("ix_period_listings_arxiv_id", "arxiv_id"),
    # One list in rank order, without a sort.
    sa.Index("ix_period_listings_rank", "period", "period_start", "rank", "arxiv_id"),
)


def snapshots(name: str, group: Group) -> sa.Table:
    """A table of a paper's snapshots: each read that saw the fields of
    ``group`` change, when, and what they were then."""
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "arxiv_id",
            ARXIV_ID,
            sa.ForeignKey("papers.arxiv_id", name=f"fk_{name}_arxiv_id"),
            nullable=False,
        ),
        sa.Column("observed_at", UTCDateTime, nullable=False),
        *(paper_column(field) for field in fields_in(group)),
        # A paper's snapshots in time order (a read stored again at its own
        # moment by scrapy reparse adds one that is not the last added).
        sa.Index(f"ix_{name}_arxiv_id_observed_at", "arxiv_id", "observed_at", "id"),
    )


#: The paper's counts as each crawl that saw them change saw them.
upvote_snapshots = snapshots("upvote_snapshots", COUNTS)

#: What cited the paper on the Hub as each call that saw it change saw it.
adoption_snapshots = snapshots("adoption_snapshots", ADOPTION)

# The papers whose adoption a run is to ask the Hub for and has not yet
# read: put here with their listing (in its transaction), taken off when an
# answer is stored (or the Hub has not indexed the paper). A crawl that
# stops, or a call that fails, leaves them for the next run.
adoption_due = sa.Table(
    "adoption_due",
    metadata,
    sa.Column(
        "arxiv_id",
        ARXIV_ID,
        sa.ForeignKey("papers.arxiv_id", name="fk_adoption_due_arxiv_id"),
        primary_key=True,
    ),
    sa.Column("due_since", UTCDateTime, nullable=False),
    # Calls that failed (after retries), and the last one's reason.
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("reason", sa.Text),
)

crawl_runs = sa.Table(
    "crawl_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("spider", sa.String(64), nullable=False),
    sa.Column("arguments", sa.Text, nullable=False),  # JSON of the -a arguments
    # What its listings are: "day", "week" or "month"; first_listing,
    # last_listing and crawl_listings.listing are their first days.
    sa.Column("period", sa.String(8), nullable=False, server_default="day"),
    sa.Column("first_listing", sa.Date, nullable=False),
    sa.Column("last_listing", sa.Date, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("listings_requested", sa.Integer, nullable=False),
    sa.Column("listings_served", sa.Integer),
    sa.Column("listings_no_digest", sa.Integer),
    sa.Column("listings_failed", sa.Integer),
    sa.Column("items_stored", sa.Integer),
    sa.Column("papers_new", sa.Integer),
    sa.Column("papers_updated", sa.Integer),
    sa.Column("items_rejected", sa.Integer),
    sa.Column("finish_reason", sa.String(64)),
    # Every requested day done (stored or no digest): a new run with the same
    # days starts afresh. Otherwise the next one resumes it.
    sa.Column("complete", sa.Boolean, nullable=False),
    sa.Column(
        "resumed_by", sa.Integer, sa.ForeignKey("crawl_runs.id", name="fk_crawl_runs_resumed_by")
    ),
)

crawl_listings = sa.Table(
    "crawl_listings",
    metadata,
    sa.Column(
        "run_id",
        sa.Integer,
        sa.ForeignKey("crawl_runs.id", name="fk_crawl_listings_run_id"),
        primary_key=True,
    ),
    sa.Column("listing", sa.Date, primary_key=True),
    # "stored" (the day's papers, 0 for an empty page), "no_digest" (the site
    # served another day) or "failed" (with the reason).
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("papers", sa.Integer, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("url", sa.Text),
    sa.Column("finished_at", UTCDateTime, nullable=False),
    # Done by an earlier, interrupted run that this one resumed.
    sa.Column("carried_over", sa.Boolean, nullable=False),
    # The version of the reading rules that read it (site/reading.py
    # READING_RULES); NULL: read before they were numbered.
    sa.Column("reading_rules", sa.Integer),
)


#: What a delivery's ``how`` says: sent in a message the destination
#: accepted, or seen (an older match recorded when the watch first ran there).
DELIVERY_HOWS = ("sent", "seen")
#: The longest watch name and destination kept (in characters: the three
#: keys' index row within PostgreSQL's btree limit of about 2,700 bytes).
WATCH_NAME_LENGTH = 64
DESTINATION_LENGTH = 512

watch_deliveries = sa.Table(
    "watch_deliveries",
    metadata,
    # A watch of the watch file (``[watches.NAME]``) and one of its
    # destinations as Apprise shows it privately (no password): a paper is
    # sent to each destination once.
    sa.Column("watch", sa.String(WATCH_NAME_LENGTH), primary_key=True),
    sa.Column("destination", sa.String(DESTINATION_LENGTH), primary_key=True),
    sa.Column(
        "arxiv_id",
        ARXIV_ID,
        sa.ForeignKey("papers.arxiv_id", name="fk_watch_deliveries_arxiv_id"),
        primary_key=True,
    ),
    sa.Column("delivered_at", UTCDateTime, nullable=False),
    sa.Column("how", sa.String(8), nullable=False),
)

# The full-text index over the papers' texts (``storage/search.py`` reads it),
# kept in step with every write by the database itself, so the writer does not
# know it exists. SQLite: an FTS5 table with external content (it stores only
# the index and reads the texts from ``papers`` by rowid; Datasette's search
# box finds it by its ``content=``) and the triggers of the FTS5 manual's
# external-content recipe. An upsert keeps a paper's rowid. PostgreSQL: a
# stored generated ``tsvector`` (of each text the beginning and in the weight
# class its ``paper.Searched`` marker gives) with a GIN index. Migration 0006 builds the same for an older archive; the
# texts are JSON lists for authors and keywords, indexed as their JSON text.
SEARCH_TABLE = "papers_fts"
SEARCH_VECTOR = "search_vector"
SEARCH_INDEX = "ix_papers_search_vector"
#: The indexed texts of ``papers`` (``Paper``'s ``Searched`` fields) in the
#: FTS5 table's column order, which migration 0006 fixed for every archive
#: (``bm25()``'s weights are given in this order).
SEARCH_COLUMNS = ("title", "abstract", "authors", "organization", "ai_summary", "ai_keywords")


def _sqlite_search_ddl() -> list[str]:
    columns = ", ".join(SEARCH_COLUMNS)
    new = ", ".join(f"new.{c}" for c in SEARCH_COLUMNS)
    old = ", ".join(f"old.{c}" for c in SEARCH_COLUMNS)
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in SEARCH_COLUMNS)
    remove = f"INSERT INTO {SEARCH_TABLE}({SEARCH_TABLE}, rowid, {columns}) VALUES ('delete', old.rowid, {old});"
    add = f"INSERT INTO {SEARCH_TABLE}(rowid, {columns}) VALUES (new.rowid, {new});"
    return [
        f"CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5({columns}, content='papers',"
        " content_rowid='rowid', tokenize='porter unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER {SEARCH_TABLE}_insert AFTER INSERT ON papers BEGIN {add} END",
        f"CREATE TRIGGER {SEARCH_TABLE}_delete AFTER DELETE ON papers BEGIN {remove} END",
        # Only when an indexed text changes: a re-crawl's upsert sets every
        # column (most keep their value), and mostly moves counts.
        f"CREATE TRIGGER {SEARCH_TABLE}_update AFTER UPDATE OF {columns} ON papers"
        f" WHEN {changed} BEGIN {remove} {add} END",
    ]


def postgresql_indexed_text(name: str) -> str:
    """The part of a ``papers`` text PostgreSQL's search index holds: its
    first ``Searched.indexed`` characters (lists as their JSON text)."""
    text = f"{name}::text" if KINDS[name].type is list else name
    return f"left({text}, {search_weight(name).indexed})"


def _postgresql_search_ddl() -> list[str]:
    parts = " || ".join(
        f"setweight(to_tsvector('english', coalesce({postgresql_indexed_text(c)}, '')),"
        f" '{search_weight(c).weight_class}')"
        for c in SEARCH_COLUMNS
    )
    return [
        f"ALTER TABLE papers ADD COLUMN {SEARCH_VECTOR} tsvector GENERATED ALWAYS AS ({parts}) STORED",
        f"CREATE INDEX {SEARCH_INDEX} ON papers USING gin ({SEARCH_VECTOR})",
    ]


#: What makes the search index, per backend: run after ``papers`` is made.
SEARCH_DDL = {"sqlite": _sqlite_search_ddl(), "postgresql": _postgresql_search_ddl()}


def _ddl(statement: str, dialect: str) -> sa.ExecutableDDLElement:
    return sa.DDL(statement).execute_if(dialect=dialect)  # type: ignore[no-untyped-call]


for _dialect, _statements in SEARCH_DDL.items():
    for _statement in _statements:
        sa.event.listen(papers, "after_create", _ddl(_statement, _dialect))
sa.event.listen(papers, "before_drop", _ddl(f"DROP TABLE IF EXISTS {SEARCH_TABLE}", "sqlite"))


def is_search_object(name: str | None) -> bool:
    """Whether ``name`` is part of the search index, which the table
    definitions above do not declare (so schema comparisons leave it to a
    check of its own): the FTS5 table and its shadow tables, the generated
    column and its index."""
    return name is not None and (
        name == SEARCH_TABLE
        or name.startswith(f"{SEARCH_TABLE}_")
        or name in (SEARCH_VECTOR, SEARCH_INDEX)
    )
