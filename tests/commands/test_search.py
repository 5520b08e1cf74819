"""``scrapy search`` (``commands/search.py``): the query from the command
line's words, and each match as a person reads it or as a JSONL record."""

from __future__ import annotations

import argparse
import datetime as dt
import json

import pytest

from digest_crawler.cli import OptionError, add_options
from digest_crawler.commands.search import Command, SearchOptions, as_json, as_text
from digest_crawler.storage.search import Match

MATCH = Match(
    arxiv_id="2607.00002",
    title="Quokka: a small model",
    url="https://huggingface.co/papers/2607.00002",
    listing_date=dt.date(2026, 7, 31),
    upvotes=10,
    organization=None,
    snippet="**Quokka**: a small model",
)


def command_line(*argv: str) -> tuple[list[str], argparse.Namespace]:
    parser = argparse.ArgumentParser(add_help=False)
    add_options(parser, SearchOptions, "search")
    opts, args = parser.parse_known_args(list(argv))
    return args, opts


def test_the_query_is_the_words_of_the_command_line() -> None:
    chosen = Command().options(*command_line("small", "model", "--limit", "3", "--json"))
    assert (chosen.query, chosen.limit, chosen.jsonl) == ("small model", 3, True)


def test_an_unknown_option_is_refused_not_searched_for() -> None:
    """A misspelt option (``--organisation``) became words of the query:
    on PostgreSQL ``-organisation`` excludes a word, and the search found
    other papers than asked for, exit status 0."""
    with pytest.raises(
        OptionError, match=r"^unknown option '--organisation' \(see scrapy search -h"
    ):
        Command().options(*command_line("agents", "--organisation", "Kling Team"))
    # After --, every word is the query's: PostgreSQL's -word (without it) too.
    chosen = Command().options(*command_line("--limit", "3", "agents", "--", "--x", "-memory"))
    assert (chosen.query, chosen.limit) == ("agents --x -memory", 3)
    assert Command().options(*command_line("agents", "-memory")).query == "agents -memory"


def test_no_query_is_one_line_saying_how_to_give_one() -> None:
    with pytest.raises(OptionError, match=r'^no query \(scrapy search "QUERY"\)$'):
        Command().options(*command_line("--limit", "3"))
    with pytest.raises(OptionError, match=r'^no query \(scrapy search "QUERY"\)$'):
        Command().options(*command_line("   ", "--", " "))  # (not "option --query: ...")


def test_a_match_as_text_has_its_title_where_and_when_and_snippet() -> None:
    assert as_text(1, MATCH) == (
        "1. Quokka: a small model\n"
        "   2607.00002 · listed 2026-07-31 · 10 upvotes\n"
        "   **Quokka**: a small model\n"
    )
    with_lab = as_text(2, Match(**{**MATCH.__dict__, "organization": "Kling Team"}))
    assert "10 upvotes · Kling Team\n" in with_lab


def test_a_match_as_json_is_one_record_its_rank_first() -> None:
    line = as_json(3, MATCH)
    assert line.endswith("\n") and line.count("\n") == 1
    record = json.loads(line)
    assert list(record) == ["rank", *MATCH.__dataclass_fields__]
    assert (record["rank"], record["listing_date"], record["organization"]) == (
        3,
        "2026-07-31",
        None,
    )


def test_a_match_as_json_is_one_line_whatever_its_text() -> None:
    breaks = "a\x85b\u2028c\u2029d"
    line = as_json(1, Match(**{**MATCH.__dict__, "title": breaks, "snippet": breaks}))
    assert len(line.splitlines()) == 1
    assert json.loads(line)["title"] == breaks


def test_a_match_as_text_escapes_what_a_terminal_would_act_on() -> None:
    """A title's escape sequences (set the window title, clear the screen),
    C1 controls, DEL and bidi overrides are shown, not acted on; accents,
    emoji and other scripts as they are."""
    hostile = Match(
        **{
            **MATCH.__dict__,
            "title": "Pwned\x1b]0;owned\x07\x1b[2J école 🤗 中文",
            "organization": "Lab\u202elivE\u2066x\u2069",
            "snippet": "a\x9b31mb\x7fc\x85d\u2028e",
        }
    )
    text = as_text(1, hostile)
    assert text == (
        "1. Pwned\\x1b]0;owned\\x07\\x1b[2J école 🤗 中文\n"
        "   2607.00002 · listed 2026-07-31 · 10 upvotes · Lab\\u202elivE\\u2066x\\u2069\n"
        "   a\\x9b31mb\\x7fc\\x85d\\u2028e\n"
    )


def test_a_long_title_or_name_is_cut_short_as_text_and_whole_as_json() -> None:
    long = Match(**{**MATCH.__dict__, "title": "T" * 1_000_000, "organization": "O" * 5000})
    title, where, _ = as_text(1, long).splitlines()
    assert title == "1. " + "T" * 299 + "…"
    assert where.endswith(" · " + "O" * 299 + "…")
    assert json.loads(as_json(1, long))["title"] == "T" * 1_000_000
