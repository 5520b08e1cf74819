"""``scrapy export``: the archive as JSONL, CSV, Parquet or a feed (Atom,
RSS, JSON Feed), from the database.

Reads ``DIGEST_DATABASE_URL`` like the crawl. The records (the item contract
plus ``schema_version``, ``settled``, ``rank``) come ordered by date then
``arxiv_id`` (a feed: newest first; a week's or month's list: by rank), so
two exports of the same data are byte-identical; ``digest_crawler.formats``
writes them. A file is written under a temporary name and renamed into
place: a reader never sees half a feed, and a failed export leaves an
existing file as it was.
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
from typing import IO, Any, ClassVar

from pydantic import BaseModel, Field, field_validator, model_validator
from scrapy.commands import ScrapyCommand
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from digest_crawler import formats
from digest_crawler.commands.options import OptionError, validate
from digest_crawler.dates import parse_iso_day, to_moment
from digest_crawler.feed import SCHEMA_VERSION, Listing, Record, UpvoteSnapshot, json_record
from digest_crawler.items import COUNT_MAX, PAPER_FIELDS
from digest_crawler.periods import Period
from digest_crawler.storage import queries

_OPTIONS = (
    "output",
    "format",
    "since",
    "until",
    "by",
    "min_upvotes",
    "organization",
    "changed_since",
    "week",
    "month",
)


class ExportError(Exception):
    """A one-line reason the export cannot be made."""


class ReaderGone(Exception):
    """Standard output's reader stopped reading: the export ends there."""


class ExportOptions(queries.PaperFilter):
    """Which papers (the filter) and where to write them, from the command line."""

    output: str = Field(default="-", description="File to write, or - for standard output.")
    format: str | None = Field(default=None, description="One of formats.FORMATS.")
    with_history: bool = False

    @model_validator(mode="after")
    def _known_format(self) -> ExportOptions:
        try:
            kind = formats.format_of(self.format, self.output)
        except ValueError as exc:
            raise ValueError(f"--{'format' if self.format else 'output'}: {exc}") from None
        if self.with_history and kind in formats.FEEDS:
            raise ValueError(
                f"--with-history: a {kind} feed has no place for it (use jsonl, csv or parquet)"
            )
        return self

    @property
    def kind(self) -> str:
        """The format to write (given, or the output's extension's)."""
        return formats.format_of(self.format, self.output)

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
        return "[-o FILE|-] [--format FORMAT] [--week YYYY-Www|--month YYYY-MM] [--since D] [--until D] [--by listing|published] [--min-upvotes N] [--organization NAME] [--changed-since TIMESTAMP] [--settled] [--with-history]"

    def short_desc(self) -> str:
        return "Export the stored papers as JSONL, CSV, Parquet, Atom, RSS or JSON Feed"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        group = parser.add_argument_group("export")
        group.add_argument(
            "-o", "--output", metavar="FILE", help="file to write; - or none: standard output"
        )
        group.add_argument(
            "--format",
            metavar="FORMAT",
            help=f"{'|'.join(formats.FORMATS)} (default: the file's extension's, else jsonl)",
        )
        group.add_argument(
            "--week", metavar="YYYY-Www", help="only that week's list, in its order, with ranks"
        )
        group.add_argument(
            "--month", metavar="YYYY-MM", help="only that month's list, in its order, with ranks"
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
            count, span, target = export(url, options, self.settings["DIGEST_BASE_URL"])
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
        return validate(ExportOptions, given)
    except OptionError as exc:
        raise ExportError(str(exc)) from None


Span = tuple[dt.date, dt.date] | None


def export(url: str, options: ExportOptions, base_url: str) -> tuple[int, Span, str]:
    """Write the export; return (records, (first date, last date) or None, where)."""
    try:
        formats.check(options.kind)
    except formats.FormatError as exc:
        raise ExportError(str(exc)) from None
    if options.kind == "parquet" and options.output == "-" and sys.stdout.isatty():
        raise ExportError("option --format: parquet is binary: give -o FILE, or pipe it")
    try:
        engine = queries.open_archive(url)
    except queries.ArchiveError as exc:
        raise ExportError(str(exc)) from None
    about = formats.about(options, base_url, options.with_history)
    try:
        with engine.connect() as connection:
            _note_a_missing_list(connection, options)
            if options.output == "-":
                return (*_to_standard_output(connection, options, about), "standard output")
            return (*_to_file(connection, options, about, Path(options.output)), options.output)
    except SQLAlchemyError as exc:
        raise ExportError(f"cannot read the archive: {str(exc).splitlines()[0]}") from None
    except OSError as exc:  # a full disk, a device that refuses writes
        raise ExportError(
            f"option --output: cannot write {options.output!r}: {exc.strerror or exc}"
        ) from None
    finally:
        engine.dispose()


def _note_a_missing_list(connection: Connection, options: ExportOptions) -> None:
    """A week or month without a stored list exports nothing (a valid empty
    file or feed), and says why on standard error."""
    if options.period is None:
        return
    kind, start = options.period
    if not queries.list_is_stored(connection, kind, start):
        name = Period(kind, start).key
        print(
            f"scrapy export: note: no list of the {kind} {name} is stored: nothing to export",
            file=sys.stderr,
        )


def _to_standard_output(
    connection: Connection, options: ExportOptions, about: formats.About
) -> tuple[int, Span]:
    try:
        count, span = write_export(connection, options, about, sys.stdout.buffer)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader closed the pipe (`| head`): a normal end. Nothing more
        # can reach it, not even the interpreter's last flush.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise ReaderGone from None
    return count, span


def _to_file(
    connection: Connection, options: ExportOptions, about: formats.About, target: Path
) -> tuple[int, Span]:
    """A regular file is written under a temporary name and renamed into
    place, with the mode a new file gets (or the old file had); anything else
    that exists (a FIFO, a device such as /dev/null) is written in place."""
    if target.is_dir():
        raise ExportError(f"option --output: {options.output!r} is a directory")
    if target.exists() and not target.is_file():
        with target.open("wb") as stream:
            return write_export(connection, options, about, stream)
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
        with os.fdopen(handle, "wb") as stream:
            count, span = write_export(connection, options, about, stream)
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


def write_export(
    connection: Connection, options: ExportOptions, about: formats.About, stream: IO[bytes]
) -> tuple[int, Span]:
    """Write the chosen records in the chosen format; return their count and
    the span of their dates."""
    tally = _Tally(options.by)
    stream_of_records = records(
        connection,
        options,
        newest_first=options.kind in formats.FEEDS,
        json_form=options.kind in formats.JSON_FORM,
    )
    formats.writer(options.kind)(tally.count(stream_of_records), stream, about)
    return tally.records, tally.span


class _Tally:
    """Counts the records passing to a writer, and their first and last date."""

    def __init__(self, by: str) -> None:
        self.by = by
        self.records = 0
        self.first: dt.date | str | None = None
        self.last: dt.date | str | None = None

    def count(self, stream: Iterator[Record]) -> Iterator[Record]:
        date = "listing_date" if self.by == "listing" else "published_at"
        for record in stream:
            self.records += 1
            day = record[date]
            if day is not None:
                self.first = day if self.first is None or day < self.first else self.first
                self.last = day if self.last is None or day > self.last else self.last
            yield record

    @property
    def span(self) -> Span:
        if not (self.first and self.last):
            return None
        # In the JSON form the dates are ISO text (which sorts as the dates do).
        first, last = (
            dt.date.fromisoformat(day) if isinstance(day, str) else day
            for day in (self.first, self.last)
        )
        return first, last


# Where a row of queries.select_papers holds settled (then rank): after the paper's fields.
_SETTLED = len(PAPER_FIELDS)


def records(
    connection: Connection,
    options: ExportOptions,
    newest_first: bool = False,
    json_form: bool = False,
) -> Iterator[Record]:
    """The chosen papers as feed records (``FeedRecord``'s fields, as dicts),
    streamed, with their history when ``options.with_history``. Their values
    are of the model's types, or with ``json_form`` (for the text formats)
    already JSON's: read as the driver gives them, not parsed to be written
    again (a paper's history stays typed either way)."""
    for chunk in queries.paper_chunks(
        connection, options, newest_first=newest_first, native=json_form
    ):
        history = (
            queries.histories(connection, [row.arxiv_id for row in chunk])
            if options.with_history
            else {}
        )
        for row in chunk:
            record = dict(zip(PAPER_FIELDS, row, strict=False))
            record["schema_version"] = SCHEMA_VERSION
            record["settled"] = row[_SETTLED]
            record["rank"] = row[_SETTLED + 1]
            if json_form:
                json_record(record)
            if options.with_history:
                paper = history[row.arxiv_id]
                record["listings"] = [_fields(r, Listing) for r in paper.listings]
                record["upvote_snapshots"] = [_fields(r, UpvoteSnapshot) for r in paper.snapshots]
            yield record


def _fields(row: Any, model: type[BaseModel]) -> dict[str, Any]:
    """The values of ``model``'s fields in a row of the history."""
    values = row._mapping
    return {name: values[name] for name in model.model_fields}
