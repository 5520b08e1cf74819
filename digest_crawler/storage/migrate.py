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
import shutil
import tempfile
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.engine import Connection, Engine

from digest_crawler.storage.schema import metadata

_SCRIPTS = Path(__file__).with_name("migrations")
# Any number: two crawls upgrading one PostgreSQL database take turns.
_PG_LOCK = 73110211


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
    config = Config()
    config.set_main_option("script_location", _scripts())
    config.attributes["connection"] = connection
    return config


def head_version() -> int:
    """The schema version this release writes."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return int(head)


def version_of(connection: Connection) -> int | None:
    """The archive's schema version; ``None`` when there is no archive yet."""
    try:
        revision = MigrationContext.configure(connection).get_current_revision()
    except CommandError as exc:  # e.g. two rows in alembic_version
        raise SchemaError(f"unreadable schema version: {exc}") from None
    if revision is not None:
        if not revision.isdigit():
            raise SchemaError(f"unknown schema revision {revision!r}")
        return int(revision)
    if sa.inspect(connection).has_table("papers"):
        return 1  # made before migrations existed
    return None


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
            return before, head
        config = _config(connection)
        try:
            if before is None and to is None:
                metadata.create_all(connection)
                command.stamp(config, f"{head:04d}")
                return before, head
            if (
                before == 1
                and MigrationContext.configure(connection).get_current_revision() is None
            ):
                command.stamp(config, "0001")
            command.upgrade(config, f"{head:04d}")
        except CommandError as exc:
            raise SchemaError(str(exc)) from None
    return before, head
