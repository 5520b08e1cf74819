"""``scrapy export``: the archive as JSONL, CSV, Parquet or a feed (Atom,
RSS, JSON Feed), from ``DIGEST_DATABASE_URL``; ``outputs.export`` writes it."""

from __future__ import annotations

from pydantic import model_validator

from digest_crawler.cli import ReaderCommand, ReaderOptions, option
from digest_crawler.outputs import formats
from digest_crawler.outputs.export import export
from digest_crawler.words import counted


class ExportOptions(ReaderOptions):
    """Which papers (the filter), in which format, and where to write them."""

    output: str = option("-", "file to write; - or none: standard output", "FILE", flag="-o")
    format: str | None = option(
        None, f"{'|'.join(formats.FORMATS)} (default: the file's extension's, else jsonl)", "FORMAT"
    )
    with_history: bool = option(False, "add each paper's listings and upvote snapshots")
    csv_raw: bool = option(
        False,
        "csv: write every text as stored (by default a text starting with = + - @, a tab or"
        " a carriage return gets a ' before it, so that a spreadsheet does not run it)",
    )

    @model_validator(mode="after")
    def _known_format(self) -> ExportOptions:
        try:
            kind = formats.format_of(self.format, self.output)
        except ValueError as exc:
            raise ValueError(f"--{'output' if self.format is None else 'format'}: {exc}") from None
        if self.csv_raw and kind != "csv":
            raise ValueError(f"--csv-raw: only the csv format has cells (not {kind})")
        if self.with_history and kind in formats.FEEDS:
            raise ValueError(
                f"--with-history: the {kind} format has no place for it (use jsonl, csv or parquet)"
            )
        return self

    @property
    def kind(self) -> str:
        """The format to write (given, or the output's extension's)."""
        return formats.format_of(self.format, self.output)


class Command(ReaderCommand[ExportOptions]):
    options_model = ExportOptions

    def short_desc(self) -> str:
        return "Export the stored papers as JSONL, CSV, Parquet, Atom, RSS or JSON Feed"

    def execute(self, options: ExportOptions) -> str:
        done = export(
            self.config.database_url,
            options,
            options.output,
            options.kind,
            self.config.base_url,
            options.with_history,
            raw_cells=options.csv_raw,
            opened=lambda connection: self.note_a_missing_list(connection, options),
        )
        span = done.span
        dates = f"{options.by} dates {span[0]} to {span[1]}" if span else "no dates"
        return f"Exported {counted(done.records, 'record')} ({dates}) to {done.target}"
