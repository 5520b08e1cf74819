"""An export: the chosen papers of the archive as records in one format, to
one output (``scrapy export``)."""

from __future__ import annotations

import datetime as dt
import os
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from digest_crawler.outputs import formats
from digest_crawler.outputs.files import OutputError, check_target, write_output
from digest_crawler.outputs.records import Record, records
from digest_crawler.storage import queries

Span = tuple[dt.date, dt.date] | None


@dataclass(frozen=True)
class Exported:
    """What an export wrote: its records, the span of their dates, and where."""

    records: int
    span: Span
    target: str


def export(
    url: str,
    chosen: queries.PaperFilter,
    output: str,
    kind: str,
    base_url: str,
    with_history: bool = False,
    raw_cells: bool = False,
    opened: Callable[[Connection], None] = lambda connection: None,
) -> Exported:
    """Write the papers ``chosen`` names from the archive at ``url`` to
    ``output`` (``-``: standard output) in format ``kind`` (CSV: its texts
    as stored with ``raw_cells``); ``opened`` is called with the archive's
    connection before anything is written."""
    formats.check(kind)
    if kind == "parquet" and _is_terminal(output):
        raise OutputError("option --format: parquet is binary: give -o FILE, or pipe it")
    check_target(output)
    with queries.reading(url) as connection:
        opened(connection)
        about = formats.about(chosen, base_url, with_history, raw_cells)
        tally = _Tally(chosen.by)
        stream = records(
            connection,
            chosen,
            with_history,
            newest_first=kind in formats.FEEDS,
            json_form=kind in formats.JSON_FORM,
        )
        write_output(output, lambda out: formats.writer(kind)(tally.count(stream), out, about))
    return Exported(tally.records, tally.span, "standard output" if output == "-" else output)


def _is_terminal(output: str) -> bool:
    """Whether ``output`` is a terminal: standard output, or a device
    named as a file (``/dev/stdout``, ``/dev/tty``, ``/dev/pts/3``)."""
    if output == "-":
        return sys.stdout.isatty()
    try:
        if not stat.S_ISCHR(os.stat(output).st_mode):
            return False
        handle = os.open(output, os.O_WRONLY | os.O_NOCTTY)
    except OSError:
        return False  # said when it is written
    try:
        return os.isatty(handle)
    finally:
        os.close(handle)


class _Tally:
    """Counts the records passing to a writer, and their first and last date."""

    def __init__(self, by: str) -> None:
        self.date = "listing_date" if by == "listing" else "published_at"
        self.records = 0
        self.first: dt.date | str | None = None
        self.last: dt.date | str | None = None

    def count(self, stream: Iterator[Record]) -> Iterator[Record]:
        for record in stream:
            self.records += 1
            day = record[self.date]
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
