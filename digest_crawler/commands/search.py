"""``scrapy search``: the papers of the archive that best match a query.

Reads ``DIGEST_DATABASE_URL`` read-only, like ``scrapy export``. Prints the
best matches, relevance first, each with its listing date, upvotes and a
short snippet with the matched words in ``**``; ``--json`` writes them as
JSONL records instead. The query syntax is the backend's (see
``storage/search.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, ClassVar

from pydantic import Field
from scrapy.commands import ScrapyCommand
from sqlalchemy.exc import SQLAlchemyError

from digest_crawler.commands.options import OptionError, ReaderFilter, validate
from digest_crawler.storage import queries
from digest_crawler.storage.search import Match, SearchError, search

_FILTERS = ("since", "until", "by", "organization")


class SearchOptions(ReaderFilter):
    """The query, which papers to search (the filter) and how many to show."""

    query: str = Field(min_length=1, description="What to look for.")
    limit: int = Field(default=10, ge=1, le=10_000, description="Most matches to show.")
    jsonl: bool = Field(default=False, description="JSONL records instead of text.")


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return '"QUERY" [--since D] [--until D] [--by listing|published] [--organization NAME] [--limit N] [--json]'

    def short_desc(self) -> str:
        return "Search the stored papers' texts, best matches first"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        group = parser.add_argument_group("search")
        group.add_argument("--since", metavar="YYYY-MM-DD", help="first date, inclusive")
        group.add_argument("--until", metavar="YYYY-MM-DD", help="last date, inclusive")
        group.add_argument(
            "--by", metavar="listing|published", help="the date --since/--until filter by"
        )
        group.add_argument(
            "--organization", metavar="NAME", help="only papers of this organization"
        )
        group.add_argument("--limit", metavar="N", help="most matches to show (default 10)")
        group.add_argument("--json", action="store_true", help="write JSONL records")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        try:
            options = _parse_options(args, opts)
            assert self.settings is not None
            matches = find(self.settings["DIGEST_DATABASE_URL"], options)
        except (OptionError, SearchError, queries.ArchiveError) as exc:
            print(f"scrapy search: error: {exc}", file=sys.stderr)
            self.exitcode = 2
            return
        try:
            for number, match in enumerate(matches, 1):
                sys.stdout.write(
                    as_json(number, match) if options.jsonl else as_text(number, match)
                )
            sys.stdout.flush()
        except BrokenPipeError:  # the reader stopped reading (`| head`): a normal end
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return
        found = f"{len(matches)} match" + ("" if len(matches) == 1 else "es")
        print(f"{found} for {options.query!r}, best first", file=sys.stderr)


def _parse_options(args: list[str], opts: argparse.Namespace) -> SearchOptions:
    if not args:
        raise OptionError('no query (scrapy search "QUERY")')
    given: dict[str, Any] = {
        name: getattr(opts, name) for name in (*_FILTERS, "limit") if getattr(opts, name, None)
    }
    return validate(SearchOptions, {**given, "query": " ".join(args).strip(), "jsonl": opts.json})


def find(url: str, options: SearchOptions) -> list[Match]:
    """The matches, from the archive opened read-only."""
    engine = queries.open_archive(url)
    try:
        with engine.connect() as connection:
            return search(connection, options.query, options, options.limit)
    except SQLAlchemyError as exc:
        raise SearchError(f"cannot read the archive: {str(exc).splitlines()[0]}") from None
    finally:
        engine.dispose()


def as_text(number: int, match: Match) -> str:
    """A match as a person reads it: title, then where and when, then the snippet."""
    where = " · ".join(
        part
        for part in (
            match.arxiv_id,
            f"listed {match.listing_date}",
            f"{match.upvotes} upvotes",
            match.organization,
        )
        if part
    )
    return f"{number}. {match.title}\n   {where}\n   {match.snippet}\n"


def as_json(number: int, match: Match) -> str:
    """A match as one JSONL record."""
    record = {
        "rank": number,
        "arxiv_id": match.arxiv_id,
        "title": match.title,
        "url": match.url,
        "listing_date": match.listing_date.isoformat(),
        "upvotes": match.upvotes,
        "organization": match.organization,
        "snippet": match.snippet,
    }
    return json.dumps(record, ensure_ascii=False) + "\n"
