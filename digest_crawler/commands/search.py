"""``scrapy search``: the papers of the archive that best match a query,
best first, as text a person reads or as JSONL (``--json``). The query
syntax is the backend's (see ``storage/search.py``)."""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import IO, Annotated

from pydantic import Field

from digest_crawler.cli import OptionError, ReaderCommand, ReaderOptions, option
from digest_crawler.outputs.controls import escaped, quoted
from digest_crawler.outputs.files import write_output
from digest_crawler.outputs.records import one_line
from digest_crawler.storage import queries
from digest_crawler.storage.search import Match, search
from digest_crawler.words import counted

#: The most characters of a title or organization a match shows as text.
SHOWN_CHARACTERS = 300


class SearchOptions(ReaderOptions):
    """The query, which papers to search (the filter) and how many to show."""

    query: str = Field(
        min_length=1, description="what to look for", json_schema_extra={"positional": True}
    )
    limit: Annotated[int, Field(ge=1, le=10_000)] = option(10, "most matches to show", "N")
    jsonl: bool = option(False, "write JSONL records", flag="--json")


class Command(ReaderCommand[SearchOptions]):
    options_model = SearchOptions

    def syntax(self) -> str:
        return '"QUERY" [options]'

    def short_desc(self) -> str:
        return "Search the stored papers' texts, best matches first"

    def options(self, args: list[str], opts: argparse.Namespace) -> SearchOptions:
        # A word in an option's form before -- is a misspelt option (it
        # would be searched for: on PostgreSQL, as a word to exclude).
        at = args.index("--") if "--" in args else len(args)
        words, verbatim = args[:at], args[at + 1 :]
        unknown = [word for word in words if word.startswith("--")]
        if unknown:
            raise OptionError(
                f"unknown option {unknown[0]!r} (see scrapy search -h; a query word that"
                " starts with -- goes after --)"
            )
        opts.query = " ".join(words + verbatim).strip()
        if not opts.query:
            raise OptionError('no query (scrapy search "QUERY")')
        return super().options([], opts)

    def execute(self, options: SearchOptions) -> str:
        with queries.reading(self.config.database_url) as connection:
            self.note_a_missing_list(connection, options)
            matches = search(connection, options.query, options, options.limit)
        show = as_json if options.jsonl else as_text
        write_output(
            "-", lambda stream: _write(stream, [show(n, m) for n, m in enumerate(matches, 1)])
        )
        if len(matches) == options.limit:  # (a search ranks; it does not count)
            found = f"the {counted(options.limit, 'best match', 'best matches')}"
            return f"{found} for {quoted(options.query)} (there may be more: --limit N)"
        found = counted(len(matches), "match", "matches")
        return f"{found} for {quoted(options.query)}, best first"


def _write(stream: IO[bytes], lines: list[str]) -> None:
    for line in lines:
        stream.write(line.encode("utf-8"))


def as_text(number: int, match: Match) -> str:
    """A match as a person reads it: title, then where and when, then the
    snippet; a control character or bidi mark in them escaped (``\\x1b``),
    as a terminal would act on it, and a title or name longer than
    ``SHOWN_CHARACTERS`` cut short (``--json`` has them whole)."""
    where = " · ".join(
        part
        for part in (
            match.arxiv_id,
            f"listed {match.listing_date}",
            counted(match.upvotes, "upvote"),
            match.organization and shortened(match.organization),
        )
        if part
    )
    title = f"{number}. {shortened(match.title)}"
    return f"{escaped(title)}\n   {escaped(where)}\n   {escaped(match.snippet)}\n"


def shortened(text: str) -> str:
    """
    >>> shortened("x" * 1000)[-5:], shortened("Quokka")
    ('xxxx…', 'Quokka')
    """
    return text if len(text) <= SHOWN_CHARACTERS else text[: SHOWN_CHARACTERS - 1] + "…"


def as_json(number: int, match: Match) -> str:
    """A match as one JSONL record: its rank, then its fields."""
    record = {"rank": number, **dataclasses.asdict(match)}
    return one_line(json.dumps(record, ensure_ascii=False, default=str)) + "\n"
