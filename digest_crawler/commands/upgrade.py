"""``scrapy upgrade``: bring the archive to this release's schema version.

A crawl does the same before its first write; this command is for an
archive that is only read (``scrapy export`` never upgrades). On SQLite it
then compacts an archive the upgrade left free pages in (``compact``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy as sa
from scrapy.commands import ScrapyCommand

from digest_crawler.cli import say
from digest_crawler.config import Config, SettingError
from digest_crawler.storage import make_engine, make_reader, migrate
from digest_crawler.storage.compact import CompactionError, compact
from digest_crawler.storage.engine import is_sqlite


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return ""

    def short_desc(self) -> str:
        return "Upgrade the archive (DIGEST_DATABASE_URL) to this release's schema"

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        try:
            url = Config.from_settings(self.settings).database_url
        except SettingError as exc:
            self._fail(str(exc))
            return
        shown = sa.engine.make_url(url).render_as_string(hide_password=True)
        if args:
            self._fail(f"unexpected argument {args[0]!r} (see scrapy upgrade -h)")
            return
        if is_sqlite(url) and not Path(sa.engine.make_url(url).database or "").is_file():
            self._fail(f"no database at {shown}")
            return
        try:
            # Read first, without the lock a writer takes: an archive that
            # needs nothing is said to, even while a crawl is writing it.
            version, missing = _state(url)
            if version == migrate.head_version() and missing is None:
                say(f"{shown} is at schema version {version}: nothing to do")
                return
            engine = make_engine(url)
            try:
                before, after = migrate.upgrade(engine)
            finally:
                engine.dispose()
        except (sa.exc.SQLAlchemyError, migrate.SchemaError) as exc:
            self._fail(f"cannot upgrade {shown}: {str(exc).splitlines()[0]}")
            return
        except KeyboardInterrupt:
            # The upgrade is one transaction: stopped, it leaves nothing behind.
            say(f"scrapy upgrade: interrupted; {shown} is as it was")
            self.exitcode = 130
            return
        if before == after and missing is not None:
            self._compact(url, f"Rebuilt the search index of {shown} (it lacked {missing})")
        elif before == after:  # another process upgraded it meanwhile
            say(f"{shown} is at schema version {after}: nothing to do")
        elif before is None:
            say(f"Made a new archive at {shown} (schema version {after})")
        else:
            self._compact(url, f"Upgraded {shown} from schema version {before} to {after}")

    def _compact(self, url: str, done: str) -> None:
        """Say ``done``, and what compacting the archive (``compact``) did."""
        engine = make_engine(url)
        try:
            compacted = compact(engine)
        except (CompactionError, KeyboardInterrupt) as exc:
            # VACUUM is one transaction too: the archive is upgraded, not compacted.
            stopped = isinstance(exc, KeyboardInterrupt)
            say(
                f"{done}; compacting it failed ({'interrupted' if stopped else exc}):"
                " its free pages are left"
            )
            self.exitcode = 130 if stopped else 1
            return
        finally:
            engine.dispose()
        if compacted is not None:
            done += (
                f"; VACUUM: {compacted.free:.0%} of its pages were free,"
                f" {_megabytes(compacted.before)} -> {_megabytes(compacted.after)}"
            )
            if compacted.page_after != compacted.page_before:
                done += f" ({compacted.page_after // 1024} KB pages, were {compacted.page_before // 1024} KB)"
        say(done)

    def _fail(self, message: str) -> None:
        say(f"scrapy upgrade: error: {message}")
        self.exitcode = 2


def _megabytes(size: int) -> str:
    """
    >>> _megabytes(422_312_000), _megabytes(835_584)
    ('422 MB', '0.8 MB')
    """
    return f"{size / 1e6:,.0f} MB" if size >= 10e6 else f"{size / 1e6:.1f} MB"


def _state(url: str) -> tuple[int | None, str | None]:
    """The archive's schema version, and what its search index lacks (at
    this release's version), read through the readers' engine."""
    reader = make_reader(url)
    try:
        with reader.connect() as connection:
            version = migrate.version_of(connection)
            current = version == migrate.head_version()
            return version, migrate.search_index_missing(connection) if current else None
    finally:
        reader.dispose()
