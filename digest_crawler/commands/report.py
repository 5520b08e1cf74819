"""``scrapy report``: a trend report of the archive as one HTML file.

Reads ``DIGEST_DATABASE_URL`` read-only, like ``scrapy export``, with its
filters (``--since``/``--until``, ``--organization``) and a week or a month
(``--week 2026-W31``: its Monday to Sunday; ``--month 2026-07``: its first
to last day). The file is written under a temporary name and renamed into
place. Needs matplotlib (``pip install -e '.[report]'``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, model_validator
from scrapy.commands import ScrapyCommand
from sqlalchemy.exc import SQLAlchemyError

from digest_crawler import __version__
from digest_crawler.commands.options import (
    OptionError,
    ReaderFilter,
    month_span,
    validate,
    week_span,
)
from digest_crawler.storage import queries
from digest_crawler.storage.trends import Trends, trends

_OPTIONS = ("output", "since", "until", "week", "month", "organization")


class ReportError(Exception):
    """A one-line reason the report cannot be made."""


class ReportOptions(ReaderFilter):
    """Which papers (the filter; a week or a month becomes its span of days)
    and where to write the report."""

    output: str = Field(
        default="report.html", description="File to write, or - for standard output."
    )

    @model_validator(mode="before")
    @classmethod
    def _period_as_days(cls, given: Any) -> Any:
        """``--week``/``--month`` become ``since``/``until``: the filter
        itself knows only days."""
        if not isinstance(given, dict) or not ({"week", "month"} & given.keys()):
            return given
        given = dict(given)
        period = {name: given.pop(name) for name in ("week", "month") if name in given}
        named = [
            f"--{name}"
            for name in (*period, "since", "until")
            if given.get(name) or period.get(name)
        ]
        if len(named) > 1:
            raise ValueError(f"{named[0]}: cannot be given with {named[1]}")
        name, text = next(iter(period.items()))
        try:
            given["since"], given["until"] = week_span(text) if name == "week" else month_span(text)
        except ValueError as exc:
            raise ValueError(f"--{name}: {exc}") from None
        return given


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[-o FILE|-] [--since D] [--until D] [--week YYYY-Www] [--month YYYY-MM] [--organization NAME]"

    def short_desc(self) -> str:
        return "Write a trend report of the stored papers as one HTML file"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        group = parser.add_argument_group("report")
        group.add_argument(
            "-o",
            "--output",
            metavar="FILE",
            help="file to write (default report.html); -: standard output",
        )
        group.add_argument("--since", metavar="YYYY-MM-DD", help="first listing date, inclusive")
        group.add_argument("--until", metavar="YYYY-MM-DD", help="last listing date, inclusive")
        group.add_argument("--week", metavar="YYYY-Www", help="one ISO week, Monday to Sunday")
        group.add_argument("--month", metavar="YYYY-MM", help="one month")
        group.add_argument(
            "--organization", metavar="NAME", help="only papers of this organization"
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        try:
            if args:
                raise OptionError(f"unexpected argument {args[0]!r} (see scrapy report -h)")
            given = {name: getattr(opts, name) for name in _OPTIONS if getattr(opts, name, None)}
            options = validate(ReportOptions, given)
            assert self.settings is not None
            found, target = report(self.settings["DIGEST_DATABASE_URL"], options)
        except (OptionError, ReportError) as exc:
            print(f"scrapy report: error: {exc}", file=sys.stderr)
            self.exitcode = 2
            return
        span = f"{found.first} to {found.last}" if found.first else "all dates"
        print(
            f"Reported {found.papers} papers on {len(found.per_day)} listing days ({span}) to {target}",
            file=sys.stderr,
        )


def report(url: str, options: ReportOptions) -> tuple[Trends, str]:
    """Read the figures, write the report; return them and where it went."""
    try:
        from digest_crawler.report import build_report
    except ImportError as exc:
        raise ReportError(
            f"the report needs matplotlib ({exc.name} is missing): pip install -e '.[report]'"
        ) from None
    target = Path(options.output)
    if options.output != "-" and (target.is_dir() or not target.parent.is_dir()):
        raise ReportError(f"option --output: {options.output!r} is not a file in a directory")
    try:
        engine = queries.open_archive(url)
    except queries.ArchiveError as exc:
        raise ReportError(str(exc)) from None
    try:
        with engine.connect() as connection:
            found = trends(connection, options)
    except SQLAlchemyError as exc:
        raise ReportError(f"cannot read the archive: {str(exc).splitlines()[0]}") from None
    finally:
        engine.dispose()
    page = build_report(
        found, _subject(options, found), f"Made by digest_crawler {__version__} from the archive."
    )
    if options.output == "-":
        sys.stdout.write(page)
        return found, "standard output"
    try:
        _write(target, page)
    except OSError as exc:
        raise ReportError(
            f"option --output: cannot write {options.output!r}: {exc.strerror or exc}"
        ) from None
    return found, options.output


def _subject(options: ReportOptions, found: Trends) -> str:
    first, last = options.since or found.first, options.until or found.last
    span = f"{first} to {last}" if first and last else "every listing day"
    return f"{span}, {options.organization}" if options.organization else span


def _write(target: Path, page: str) -> None:
    """Under a temporary name, renamed into place: no half-written report."""
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(page)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
