"""``scrapy export``: the archive as a JSONL feed, from the database.

Reads ``DIGEST_DATABASE_URL`` like the crawl. Writes one JSON object per
line (the item contract plus ``schema_version``), ordered by date then
``arxiv_id``, so two exports of the same data are byte-identical. A file is
written under a temporary name and renamed into place: a reader never sees
half a feed, and a failed export leaves an existing file as it was.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, TextIO

from pydantic import Field, ValidationError, field_validator
from scrapy.commands import ScrapyCommand
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from digest_crawler.dates import parse_iso_day, to_moment
from digest_crawler.feed import FeedRecord, Listing, UpvoteSnapshot, dumps
from digest_crawler.items import COUNT_MAX
from digest_crawler.storage import queries

_OPTIONS = ("output", "since", "until", "by", "min_upvotes", "organization", "changed_since")


class ExportError(Exception):
    """A one-line reason the export cannot be made."""


class ReaderGone(Exception):
    """Standard output's reader stopped reading: the export ends there."""


class ExportOptions(queries.PaperFilter):
    """Which papers (the filter) and where to write them, from the command line."""

    output: str = Field(default="-", description="File to write, or - for standard output.")
    with_history: bool = False

    @field_validator("since", "until", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> Any:
        return parse_iso_day(value) if isinstance(value, str) else value

    @field_validator("changed_since", mode="before")
    @classmethod
    def _moment(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                if len(value.strip()) == 10:
                    day = parse_iso_day(value)
                    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
                return to_moment(value)
            except (ValueError, OverflowError):
                raise ValueError(
                    f"{value!r} is not a timestamp (expected ISO 8601, e.g. 2026-07-31T12:00:00Z)"
                ) from None
        return value

    @field_validator("min_upvotes", mode="before")
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if not re.fullmatch(r"[0-9]+", text):
                raise ValueError(f"{value!r} is not a whole number")
            if len(text) > 18:
                raise ValueError(f"{text[:12]}... is more than any count ({COUNT_MAX})")
        return value


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[-o FILE|-] [--since D] [--until D] [--by listing|published] [--min-upvotes N] [--organization NAME] [--changed-since TIMESTAMP] [--settled] [--with-history]"

    def short_desc(self) -> str:
        return "Export the stored papers as a JSONL feed"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        group = parser.add_argument_group("export")
        group.add_argument(
            "-o", "--output", metavar="FILE", help="file to write; - or none: standard output"
        )
        group.add_argument("--since", metavar="YYYY-MM-DD", help="first date, inclusive")
        group.add_argument("--until", metavar="YYYY-MM-DD", help="last date, inclusive")
        group.add_argument(
            "--by",
            metavar="listing|published",
            help="the date to filter and order by (default: listing)",
        )
        group.add_argument("--min-upvotes", metavar="N", help="only papers with at least N upvotes")
        group.add_argument(
            "--organization",
            metavar="NAME",
            help="only papers of this organization (name or handle)",
        )
        group.add_argument(
            "--changed-since",
            metavar="TIMESTAMP",
            help="only papers new or changed after this moment (UTC)",
        )
        group.add_argument(
            "--settled",
            action="store_true",
            help="only papers of settled days (read at the end of the refresh schedule: final upvotes)",
        )
        group.add_argument(
            "--with-history",
            action="store_true",
            help="add each paper's listings and upvote snapshots",
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        try:
            if args:
                raise ExportError(f"unexpected argument {args[0]!r} (see scrapy export -h)")
            options = _parse_options(opts)
            assert self.settings is not None
            url = self.settings["DIGEST_DATABASE_URL"]
            count, span, target = export(url, options)
        except ExportError as exc:
            print(f"scrapy export: error: {exc}", file=sys.stderr)
            self.exitcode = 2
            return
        except ReaderGone:
            print("Export stopped: standard output was closed by its reader", file=sys.stderr)
            return
        dates = f"{options.by} dates {span[0]} to {span[1]}" if span else "no dates"
        print(f"Exported {count} records ({dates}) to {target}", file=sys.stderr)


def _parse_options(opts: argparse.Namespace) -> ExportOptions:
    raw = {name: getattr(opts, name, None) for name in _OPTIONS}
    given: dict[str, Any] = {k: v for k, v in raw.items() if v is not None}
    if opts.with_history:
        given["with_history"] = True
    if opts.settled:
        given["settled"] = True
    try:
        return ExportOptions.model_validate(given)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        message = error["msg"].removeprefix("Value error, ")
        if not error["loc"]:  # a rule across options names its options itself
            raise ExportError(f"option {message}") from None
        name = "--" + str(error["loc"][0]).replace("_", "-")
        raise ExportError(f"option {name}: {message}") from None


def export(url: str, options: ExportOptions) -> tuple[int, tuple[dt.date, dt.date] | None, str]:
    """Write the feed; return (records, (first date, last date) or None, where)."""
    try:
        engine = queries.open_archive(url)
    except queries.ArchiveError as exc:
        raise ExportError(str(exc)) from None
    try:
        with engine.connect() as connection:
            if options.output == "-":
                return (*_to_standard_output(connection, options), "standard output")
            return (*_to_file(connection, options, Path(options.output)), options.output)
    except SQLAlchemyError as exc:
        raise ExportError(f"cannot read the archive: {str(exc).splitlines()[0]}") from None
    except OSError as exc:  # a full disk, a device that refuses writes
        raise ExportError(
            f"option --output: cannot write {options.output!r}: {exc.strerror or exc}"
        ) from None
    finally:
        engine.dispose()


def _to_standard_output(
    connection: Connection, options: ExportOptions
) -> tuple[int, tuple[dt.date, dt.date] | None]:
    try:
        count, span = write_feed(connection, options, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader closed the pipe (`| head`): a normal end. Nothing more
        # can reach it, not even the interpreter's last flush.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise ReaderGone from None
    return count, span


def _to_file(
    connection: Connection, options: ExportOptions, target: Path
) -> tuple[int, tuple[dt.date, dt.date] | None]:
    """A regular file is written under a temporary name and renamed into
    place, with the mode a new file gets (or the old file had); anything else
    that exists (a FIFO, a device such as /dev/null) is written in place."""
    if target.is_dir():
        raise ExportError(f"option --output: {options.output!r} is a directory")
    if target.exists() and not target.is_file():
        with target.open("w", encoding="utf-8", newline="\n") as stream:
            return write_feed(connection, options, stream)
    if not target.parent.is_dir():
        raise ExportError(f"option --output: no directory {str(target.parent)!r}")
    umask = os.umask(0)
    os.umask(umask)
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~umask
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    # A stopped export (SIGTERM, as from a scheduler) leaves no temporary file.
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            count, span = write_feed(connection, options, stream)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    return count, span


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def write_feed(
    connection: Connection, options: ExportOptions, stream: TextIO
) -> tuple[int, tuple[dt.date, dt.date] | None]:
    count, first, last = 0, None, None
    for record in records(connection, options):
        stream.write(dumps(record))
        stream.write("\n")
        count += 1
        day = record.listing_date if options.by == "listing" else record.published_at
        if day is not None:
            first = day if first is None else min(first, day)
            last = day if last is None else max(last, day)
    return count, (first, last) if first and last else None


def records(connection: Connection, options: ExportOptions) -> Iterator[FeedRecord]:
    for chunk in queries.paper_chunks(connection, options):
        history = (
            queries.histories(connection, [row.arxiv_id for row in chunk])
            if options.with_history
            else {}
        )
        for row in chunk:
            values = row._asdict()
            if options.with_history:
                paper = history[row.arxiv_id]
                values["listings"] = [
                    Listing.model_construct(listing_date=r.listing_date, rank=r.rank)
                    for r in paper.listings
                ]
                values["upvote_snapshots"] = [
                    UpvoteSnapshot.model_construct(
                        observed_at=r.observed_at,
                        upvotes=r.upvotes,
                        num_comments=r.num_comments,
                        github_stars=r.github_stars,
                    )
                    for r in paper.snapshots
                ]
            yield FeedRecord.model_construct(**values)
