"""``scrapy report``: a trend report of the archive as one HTML file, from
``DIGEST_DATABASE_URL`` with the readers' filter. Needs matplotlib (``pip
install -e '.[report]'``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import Field
from sqlalchemy.engine import Connection

from digest_crawler import __version__
from digest_crawler.cli import OptionError, ReaderCommand, ReaderOptions, option, span_text
from digest_crawler.outputs.files import check_target, write_output
from digest_crawler.storage import queries
from digest_crawler.storage.trends import Trends, trends
from digest_crawler.words import counted


class ReportOptions(ReaderOptions):
    """Which papers (the filter; always by listing date) and where to write the report."""

    output: str = option("report.html", "file to write; -: standard output", "FILE", flag="-o")
    by: Literal["listing"] = Field("listing", json_schema_extra={"hidden": True})


class Command(ReaderCommand[ReportOptions]):
    options_model = ReportOptions

    def short_desc(self) -> str:
        return "Write a trend report of the stored papers as one HTML file"

    def execute(self, options: ReportOptions) -> str:
        found, target = report(
            self.config.database_url,
            options,
            opened=lambda connection: self.note_a_missing_list(connection, options),
        )
        span = span_text(found.first, found.last)
        days = counted(len(found.per_day), "listing day")
        return f"Reported {counted(found.papers, 'paper')} on {days} ({span}) to {target}"


def report(
    url: str,
    options: ReportOptions,
    opened: Callable[[Connection], None] = lambda connection: None,
) -> tuple[Trends, str]:
    """Read the figures, write the report; return them and where it went."""
    try:
        from digest_crawler.outputs.report import build_report
    except ImportError as exc:
        raise OptionError(
            f"the report needs matplotlib ({exc.name} is missing): pip install -e '.[report]'"
        ) from None
    check_target(options.output)
    with queries.reading(url) as connection:
        opened(connection)
        found = trends(connection, options)
    page = build_report(
        found, _subject(options, found), f"Made by digest_crawler {__version__} from the archive."
    )
    write_output(options.output, lambda stream: stream.write(page.encode("utf-8")))
    return found, "standard output" if options.output == "-" else options.output


def _subject(options: ReportOptions, found: Trends) -> str:
    span = span_text(found.first, found.last)
    if options.period is not None:
        span = f"the {options.period.kind} list {options.period}, {span}"
    return f"{span}, {options.organization}" if options.organization else span
