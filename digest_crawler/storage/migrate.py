"""Schema versions: which one an archive has, and upgrading it (Alembic).

Version N is the Alembic revision ``000N`` in ``migrations/versions``. An
archive made before migrations existed has the tables of version 1 and no
``alembic_version`` table: it is stamped as version 1 and upgraded from
there. A new archive is made from ``schema.py`` and stamped with the newest
version (Alembic's own advice: one quick step, not the whole history); a
test holds a new and an upgraded archive to the same tables, columns,
indexes and constraints.
"""

from __future__ import annotations

import atexit
import functools
import logging
import re
import shutil
import tempfile
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from digest_crawler.storage.schema import (
    SEARCH_DDL,
    SEARCH_INDEX,
    SEARCH_TABLE,
    SEARCH_VECTOR,
    metadata,
)

if TYPE_CHECKING:  # Alembic is loaded to migrate only (it costs a command's start)
    from alembic.config import Config

logger = logging.getLogger(__name__)

_SCRIPTS = Path(__file__).with_name("migrations")
# Any number: two crawls upgrading one PostgreSQL database take turns.
_PG_LOCK = 73110211
#: Alembic's table of the archive's schema version, and a revision's form.
VERSION_TABLE = "alembic_version"
_REVISION = re.compile(r"[0-9]{4}")
#: A migration's file: its revision, then what it does.
_MIGRATION = re.compile(r"([0-9]{4})_\w+\.py")


class SchemaError(Exception):
    """The archive's schema version is not one this release can use."""


@functools.cache
def _scripts() -> str:
    """The migrations' directory. Alembic reads them as files: from a zipped
    egg (as Scrapyd installs the project) they are copied out first."""
    if _SCRIPTS.is_dir():
        return str(_SCRIPTS)
    copy = Path(tempfile.mkdtemp(prefix="digest_crawler_migrations_"))
    atexit.register(shutil.rmtree, copy, ignore_errors=True)

    def extract(source: Traversable, target: Path) -> None:
        target.mkdir(exist_ok=True)
        for entry in source.iterdir():
            if entry.is_dir():
                if entry.name != "__pycache__":
                    extract(entry, target / entry.name)
            elif entry.name.endswith((".py", ".mako")):
                (target / entry.name).write_bytes(entry.read_bytes())

    extract(resources.files("digest_crawler.storage").joinpath("migrations"), copy)
    return str(copy)


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", _scripts())
    config.attributes["connection"] = connection
    return config


@functools.cache
def head_version() -> int:
    """The schema version this release writes: its newest migration's, by
    the files' names (``0009_backend_limits.py``), without loading Alembic
    (a test holds it to Alembic's head)."""
    versions = resources.files("digest_crawler.storage").joinpath("migrations").joinpath("versions")
    return max(
        int(found[1]) for entry in versions.iterdir() if (found := _MIGRATION.fullmatch(entry.name))
    )


def version_of(connection: Connection) -> int | None:
    """The archive's schema version; ``None`` when there is no archive yet.

    Read from ``alembic_version``, whose one row names a revision (``0001``,
    ``0002``, ...); anything else there is a ``SchemaError`` saying what it
    holds. Without that row, the tables say which version the archive is:
    those of version 1 are an archive made before migrations existed; any
    later version lost its row, which is said (with the row to put back)
    rather than taken for version 1 and upgraded into a failure.
    """
    inspector = sa.inspect(connection)
    if inspector.has_table(VERSION_TABLE):
        rows = [
            row[0]
            for row in connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}"))
        ]
        if len(rows) > 1:
            raise SchemaError(
                f"{VERSION_TABLE} holds {len(rows)} rows ({', '.join(map(repr, rows))}):"
                " an archive has one schema version"
            )
        if rows:
            return _version(rows[0])
    if not inspector.has_table("papers"):
        return None
    # Every version's tables: a papers table of another tool is not taken
    # for an archive made before migrations and upgraded into a failure.
    tables = set(inspector.get_table_names())
    lacking = [table for table in _EVERY_VERSION_S_TABLES if table not in tables]
    if "arxiv_id" not in {column["name"] for column in inspector.get_columns("papers")}:
        lacking.insert(0, "papers.arxiv_id")
    if lacking:
        raise SchemaError(
            f"its tables are no archive's (no {', '.join(lacking)}):"
            " is DIGEST_DATABASE_URL the archive's?"
        )
    found = version_by_tables(connection)
    if inspector.has_table(VERSION_TABLE):
        raise SchemaError(
            f"{VERSION_TABLE} is empty, but the tables are those of schema version {found}:"
            f" put its row back (INSERT INTO {VERSION_TABLE} VALUES ('{found:04d}'))"
        )
    if found > 2:
        raise SchemaError(
            f"{VERSION_TABLE} is missing, but the tables are those of schema version {found}:"
            f" put it back (CREATE TABLE {VERSION_TABLE} (version_num VARCHAR(32) NOT NULL"
            f" PRIMARY KEY); INSERT INTO {VERSION_TABLE} VALUES ('{found:04d}'))"
        )
    return 1  # made before migrations existed


#: The tables every schema version has (version 8 renamed crawl_days).
_EVERY_VERSION_S_TABLES = ("papers", "rejected_items", "listings", "upvote_snapshots", "crawl_runs")


def _version(revision: object) -> int:
    """The schema version a revision of ``alembic_version`` names.

    >>> _version("0008")
    8
    >>> _version("²")
    Traceback (most recent call last):
    digest_crawler.storage.migrate.SchemaError: alembic_version holds '²', which is no schema version (they are 0001, 0002, ...)
    """
    if isinstance(revision, str) and _REVISION.fullmatch(revision) and int(revision) > 0:
        return int(revision)
    shown = "NULL" if revision is None else repr(revision)
    raise SchemaError(
        f"{VERSION_TABLE} holds {shown}, which is no schema version (they are 0001, 0002, ...)"
    )


def version_by_tables(connection: Connection) -> int:
    """The schema version the archive's tables are of (its ``papers`` table
    exists): this release's when it has every table and column of
    ``schema.py``, else the newest version whose mark it bears."""
    inspector = sa.inspect(connection)
    tables = set(inspector.get_table_names())
    columns = {column["name"] for column in inspector.get_columns("papers")}
    ledger = (
        {column["name"] for column in inspector.get_columns("crawl_listings")}
        if "crawl_listings" in tables
        else set()
    )
    if all(
        table.name in tables
        and {c.name for c in table.columns}
        <= {column["name"] for column in inspector.get_columns(table.name)}
        for table in metadata.sorted_tables
    ):
        return head_version()
    marks = [
        (11, "adoption_snapshots" in tables),
        (10, "reading_rules" in ledger),
        (8, "crawl_listings" in tables),
        (7, "organization_key" in columns),
        (6, SEARCH_TABLE in tables or SEARCH_VECTOR in columns),
        (5, "period_listings" in tables),
        (4, "ai_summary" in columns),
        (3, "listing_days" in tables),
        (2, bool(inspector.get_foreign_keys("listings"))),
    ]
    return next((version for version, marked in marks if marked), 1)


def upgrade(engine: Engine, to: int | None = None) -> tuple[int | None, int]:
    """Bring the archive to version ``to`` (default: the newest), in one
    transaction; return (version before, version after). A newer archive
    than this release knows raises ``SchemaError``."""
    head = to or head_version()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK})")
        before = version_of(connection)
        if before is not None and before > head:
            raise SchemaError(
                f"the archive has schema version {before}, newer than this release's {head}:"
                " upgrade digest_crawler"
            )
        if before == head:
            if search_index_missing(connection):
                rebuild_search_index(connection)
            return before, head
        from alembic import command
        from alembic.util.exc import CommandError

        config = _config(connection)
        try:
            if before is None and to is None:
                metadata.create_all(connection)
                command.stamp(config, f"{head:04d}")
                return before, head
            if before == 1 and not sa.inspect(connection).has_table(VERSION_TABLE):
                command.stamp(config, "0001")
            command.upgrade(config, f"{head:04d}")
        except CommandError as exc:
            raise SchemaError(str(exc)) from None
    return before, head


def search_index_missing(connection: Connection) -> str | None:
    """What of the search index (``schema.SEARCH_DDL``) an archive of this
    release's schema lacks, e.g. after a hand-made ``DROP TABLE
    papers_fts`` (whose triggers then fail every write of ``papers``);
    ``None`` when it is whole."""
    if connection.dialect.name == "sqlite":
        # (One read of the schema: every search asks.)
        found = {
            (kind, name)
            for kind, name in connection.exec_driver_sql(
                "SELECT type, name FROM sqlite_master WHERE tbl_name IN ('papers', ?)"
                " AND type IN ('table', 'trigger')",
                (SEARCH_TABLE,),
            )
        }
        wanted = [f"{SEARCH_TABLE}_{event}" for event in ("insert", "delete", "update")]
        missing = [] if ("table", SEARCH_TABLE) in found else [f"the table {SEARCH_TABLE}"]
        missing += [f"the trigger {name}" for name in wanted if ("trigger", name) not in found]
    else:
        inspector = sa.inspect(connection)
        columns = {column["name"] for column in inspector.get_columns("papers")}
        indexes = {index["name"] for index in inspector.get_indexes("papers")}
        missing = [] if SEARCH_VECTOR in columns else [f"the column papers.{SEARCH_VECTOR}"]
        missing += [] if SEARCH_INDEX in indexes else [f"the index {SEARCH_INDEX}"]
    return ", ".join(missing) or None


def rebuild_search_index(connection: Connection) -> None:
    """Make the search index anew from the stored papers, what is left of
    it dropped first (in the caller's transaction)."""
    logger.warning("The search index lacks %s: rebuilt", search_index_missing(connection))
    if connection.dialect.name == "sqlite":
        for event in ("insert", "delete", "update"):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {SEARCH_TABLE}_{event}")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {SEARCH_TABLE}")
    else:
        connection.exec_driver_sql(f"DROP INDEX IF EXISTS {SEARCH_INDEX}")
        connection.exec_driver_sql(f"ALTER TABLE papers DROP COLUMN IF EXISTS {SEARCH_VECTOR}")
    for statement in SEARCH_DDL[connection.dialect.name]:
        connection.exec_driver_sql(statement)
    if connection.dialect.name == "sqlite":
        # External content: the index is read from the stored papers.
        connection.exec_driver_sql(f"INSERT INTO {SEARCH_TABLE}({SEARCH_TABLE}) VALUES ('rebuild')")
