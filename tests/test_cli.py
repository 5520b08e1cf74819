"""What the reader commands share (``cli.py``): argparse options built from
a pydantic model (the flag, the help with the default, the metavar), the
options given read back into the model, and a bad value as one line
``option --name: ...``. Parsed in-process; tests/system/ runs the commands."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from digest_crawler.cli import OptionError, add_options, flags, given, validate
from digest_crawler.commands.export import ExportOptions
from digest_crawler.commands.report import ReportOptions
from digest_crawler.commands.search import SearchOptions
from tests.support.readers import run_reader


def parser_for(model: type[BaseModel]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scrapy export", add_help=False)
    add_options(parser, model, "options")
    return parser


def option_strings(model: type[BaseModel]) -> set[str]:
    return {flag for action in parser_for(model)._actions for flag in action.option_strings}


def parsed(model: type[BaseModel], *argv: str) -> BaseModel:
    """``argv`` as the command reads it: parsed, the options given, validated."""
    return validate(model, given(parser_for(model).parse_args(list(argv)), model))


FILTER = {
    "--since",
    "--until",
    "--by",
    "--min-upvotes",
    "--min-models",
    "--min-datasets",
    "--min-spaces",
    "--organization",
    "--changed-since",
    "--settled",
    "--week",
    "--month",
}


def test_each_field_is_an_option_named_after_it() -> None:
    assert option_strings(ExportOptions) == FILTER | {
        "-o",
        "--output",
        "--format",
        "--with-history",
        "--csv-raw",
    }
    # A positional field is no option, a field's own flag replaces its name.
    assert option_strings(SearchOptions) == FILTER | {"--limit", "--json"}
    # A hidden field is no option (the report is always by listing date).
    assert option_strings(ReportOptions) == FILTER - {"--by"} | {"-o", "--output"}


def test_the_help_gives_each_option_s_meaning_metavar_and_default() -> None:
    shown = " ".join(parser_for(ExportOptions).format_help().split())
    for expected in (
        "--since YYYY-MM-DD first date, inclusive",
        "--by listing|published the date to filter and order by: the listing day or the arXiv"
        " date (default: listing)",
        "--min-upvotes N only papers with at least this many upvotes",
        "--changed-since TIMESTAMP",
        "--organization TEXT",
        "--week YYYY-Www",
        "-o FILE, --output FILE file to write; - or none: standard output (default: -)",
        "--with-history add each paper's listings and upvote snapshots",
    ):
        assert expected in shown, expected
    assert "(default: None)" not in shown and "(default: False)" not in shown


def test_a_flag_is_the_field_s_or_its_own() -> None:
    assert flags("min_upvotes", ExportOptions.model_fields["min_upvotes"]) == ["--min-upvotes"]
    assert flags("output", ExportOptions.model_fields["output"]) == ["-o", "--output"]
    assert flags("jsonl", SearchOptions.model_fields["jsonl"]) == ["--json"]


def test_the_options_given_become_the_model_s_values() -> None:
    chosen = parsed(
        ExportOptions,
        *("--since", "2026-07-01", "--min-upvotes", "110", "--settled"),
        *("-o", "papers.csv", "--week", "2026-W31", "--changed-since", "2026-07-31"),
    )
    assert isinstance(chosen, ExportOptions)
    assert (chosen.since, chosen.min_upvotes, chosen.settled) == (dt.date(2026, 7, 1), 110, True)
    assert (chosen.output, chosen.kind, chosen.week) == ("papers.csv", "csv", dt.date(2026, 7, 27))
    assert chosen.changed_since == dt.datetime(2026, 7, 31, tzinfo=dt.UTC)  # the day's midnight
    assert (chosen.until, chosen.by, chosen.with_history) == (None, "listing", False)  # defaults


def test_a_timestamp_with_an_offset_is_its_utc_moment() -> None:
    chosen = parsed(ExportOptions, "--changed-since", "2026-07-31T12:00:00+02:00")
    assert isinstance(chosen, ExportOptions)
    assert chosen.changed_since == dt.datetime(2026, 7, 31, 10, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--since", "2026-02-30"],
            "option --since: '2026-02-30' is not a valid date (day is out of range for month)",
        ),
        (["--until", "tomorrow"], "option --until: 'tomorrow' is not a date (expected YYYY-MM-DD)"),
        (["--by", "submitted"], "option --by: Input should be 'listing' or 'published'"),
        (["--min-upvotes", "many"], "option --min-upvotes: 'many' is not a whole number"),
        (["--min-upvotes", "9" * 19], "option --min-upvotes: 999999999999... is more than any"),
        (["--min-upvotes", "2147483648"], "option --min-upvotes: Input should be less than or"),
        (
            ["--changed-since", "last week"],
            "option --changed-since: 'last week' is not a timestamp",
        ),
        (["--format", "xml"], "option --format: 'xml' is not a format (one of jsonl, csv,"),
        (["-o", "feed.xlsx"], "option --output: no format for the extension '.xlsx'"),
        (["--week", "2026-W54"], "option --week: '2026-W54' is not a week (2026 has 53 ISO weeks)"),
        (
            ["--since", "2026-03-05", "--until", "2026-03-01"],
            "option --since: 2026-03-05 is after --until 2026-03-01",
        ),
        (
            ["--week", "2026-W31", "--month", "2026-07"],
            "option --week and --month: give one list, not both",
        ),
    ],
)
def test_a_bad_value_is_one_line_naming_its_option(argv: list[str], message: str) -> None:
    with pytest.raises(OptionError) as caught:
        parsed(ExportOptions, *argv)
    assert str(caught.value).startswith(message), str(caught.value)
    assert "\n" not in str(caught.value)


EXTREMES = [
    ("--month", "9999-12"),
    ("--month", "0001-01"),
    ("--week", "0001-W01"),
    ("--week", "9999-W51"),
    ("--since", "9999-12-31"),
    ("--until", "0001-01-01"),
    ("--since", "0001-01-01", "--until", "9999-12-31"),
    ("--since", "9999-12-31", "--week", "2026-W31"),
    ("--changed-since", "0001-01-01"),
    ("--changed-since", "9999-12-31T23:59:59.999999Z"),
    ("--min-upvotes", "2147483647"),
    ("--organization", "\x1b[2J\u202e" + "x" * 10_000),
]
REFUSED = [
    (("--week", "9999-W52"), "option --week: '9999-W52' is not a week: it ends after 9999-12-31"),
    (("--week", "0000-W01"), "option --week: '0000-W01' is not a week (expected YYYY-Www)"),
    (("--month", "0000-12"), "option --month: '0000-12' is not a month (expected YYYY-MM)"),
    (("--since", "10000-01-01"), "option --since: '10000-01-01' is not a date"),
    (("--changed-since", "0001-01-01T00:00:00+01:00"), "option --changed-since: '0001-01-01T"),
]
READERS = [("export", "-o", "out.jsonl"), ("search", "paper"), ("report", "-o", "out.html")]


@pytest.fixture(scope="module")
def small_archive(tmp_path_factory: pytest.TempPathFactory) -> str:
    from tests.support.archive import make_archive

    url = f"sqlite:///{tmp_path_factory.mktemp('archive') / 'papers.sqlite'}"
    make_archive(url, days=3, per_day=5)
    return url


@pytest.mark.parametrize("reader", READERS, ids=[r[0] for r in READERS])
def test_every_reader_takes_the_calendar_s_first_and_last_days(
    small_archive: str,
    reader: tuple[str, ...],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The calendar's ends (0001-01-01, 9999-12-31, its first week and last
    month) in every option that takes a date, a count at its limit, an odd
    organization: a summary and exit status 0, or a one-line error and 2."""
    monkeypatch.chdir(tmp_path)
    for options in EXTREMES:
        command = run_reader(*reader, *options, DIGEST_DATABASE_URL=small_archive)
        err = capsys.readouterr().err
        assert command.exitcode == 0, (options, err)
        assert err.count("\n") in (1, 2) and "Traceback" not in err, (options, err)
        assert "\x1b" not in err and "\u202e" not in err
    for options, message in REFUSED:
        command = run_reader(*reader, *options, DIGEST_DATABASE_URL=small_archive)
        err = capsys.readouterr().err
        assert command.exitcode == 2, (options, err)
        assert err.startswith(f"scrapy {reader[0]}: error: {message}") and err.count("\n") == 1


@pytest.mark.parametrize("rows", [["'²'"], []], ids=["superscript", "no-row"])
@pytest.mark.parametrize(
    "reader", [*READERS, ("upgrade",)], ids=[*(r[0] for r in READERS), "upgrade"]
)
def test_an_odd_schema_version_is_one_line_and_exit_2_in_every_command(
    reader: tuple[str, ...],
    rows: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import sqlite3

    from tests.support.archive import make_archive

    monkeypatch.chdir(tmp_path)
    make_archive(f"sqlite:///{tmp_path / 'papers.sqlite'}", days=1, per_day=2)
    connection = sqlite3.connect(tmp_path / "papers.sqlite")
    with connection:
        connection.execute("DELETE FROM alembic_version")
        for row in rows:
            connection.execute(f"INSERT INTO alembic_version VALUES ({row})")
    connection.close()
    command = run_reader(*reader, DIGEST_DATABASE_URL=f"sqlite:///{tmp_path / 'papers.sqlite'}")
    err = capsys.readouterr().err
    assert command.exitcode == 2, err
    assert err.startswith(f"scrapy {reader[0]}: error: cannot ") and err.count("\n") == 1
    assert ("holds '²', which is no schema version" if rows else "alembic_version is empty") in err


def test_ctrl_c_during_an_export_is_one_line_exit_130_and_the_old_file_kept(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from digest_crawler.outputs import formats
    from tests.support.archive import make_archive

    url = f"sqlite:///{tmp_path / 'papers.sqlite'}"
    make_archive(url, days=1, per_day=3)
    (tmp_path / "feed.jsonl").write_text("old feed\n")

    def stopped(records: object, stream: Any, about: object) -> None:
        stream.write(b"half a feed")
        raise KeyboardInterrupt

    monkeypatch.setattr(formats, "write_jsonl", stopped)
    command = run_reader("export", "-o", str(tmp_path / "feed.jsonl"), DIGEST_DATABASE_URL=url)
    assert command.exitcode == 130
    feed = tmp_path / "feed.jsonl"
    assert capsys.readouterr().err == f"scrapy export: interrupted; {str(feed)!r} not written\n"
    assert feed.read_text() == "old feed\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file


CORRUPT = {
    "list-not-json": "UPDATE papers SET ai_keywords = '[broken', authors = '[broken'",
    "date-not-a-date": "UPDATE papers SET listing_date = 'junk', published_at = '2026-02-30'",
    "moment-not-a-moment": "UPDATE papers SET scraped_at = 'yesterday'",
}


@pytest.mark.parametrize("damage", CORRUPT)
@pytest.mark.parametrize("kind", ["jsonl", "csv", "parquet", "atom", "jsonfeed"])
def test_a_stored_value_no_column_type_holds_is_one_line_and_no_file(
    damage: str,
    kind: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Values another tool wrote into a SQLite archive (a list that is no
    JSON, a date or moment that is none): every format ends with one line
    and exit status 2, and no output (nor temporary) file is left; the
    report, where it reads them, too."""
    import sqlite3

    from tests.support.archive import make_archive

    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'papers.sqlite'}"
    make_archive(url, days=1, per_day=3)
    connection = sqlite3.connect(tmp_path / "papers.sqlite")
    with connection:
        connection.execute(CORRUPT[damage] + " WHERE arxiv_id = '2607.00001'")
    connection.close()
    readers: list[tuple[str, ...]] = [("export", "--format", kind, "-o", "out")]
    if kind == "jsonl" and damage != "moment-not-a-moment":  # what the report reads
        readers.append(("report", "-o", "out"))
    for reader in readers:
        command = run_reader(*reader, DIGEST_DATABASE_URL=url)
        err = capsys.readouterr().err
        assert command.exitcode == 2, (reader, err)
        assert err.startswith(
            f"scrapy {reader[0]}: error: cannot read the archive: a stored value is not of its"
            " column's type ("
        )
        assert err.count("\n") == 1
        assert [p.name for p in tmp_path.iterdir() if "out" in p.name] == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("export", "-o", ""), "scrapy export: error: option --output: '' names no file"),
        (("report", "-o", " "), "scrapy report: error: option --output: ' ' names no file"),
        (("export", "--format", ""), "scrapy export: error: option --format: '' is not a format"),
        (("export", "--min-upvotes", "-1"), "scrapy export: error: option --min-upvotes: '-1' is"),
        (
            ("export", "--week", "2026-w31"),
            "scrapy export: error: option --week: '2026-w31' is not",
        ),
        (("export", "--organization", ""), "scrapy export: error: option --organization: String"),
        (
            ("search", "x", "--limit", "9" * 20),
            "scrapy search: error: option --limit: Input should",
        ),
        (("search", "\x1b[2J"), "scrapy search: error: cannot parse the query '\\x1b[2J': fts5:"),
        (
            ("search", "a" * 300 + '"'),
            f"scrapy search: error: cannot parse the query '{'a' * 80}…' (301 characters): ",
        ),
        (("upgrade", "extra"), "scrapy upgrade: error: unexpected argument 'extra'"),
    ],
)
def test_an_odd_option_value_is_one_short_line_naming_its_option(
    argv: tuple[str, ...],
    message: str,
    small_archive: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    command = run_reader(*argv, DIGEST_DATABASE_URL=small_archive)
    err = capsys.readouterr().err
    assert command.exitcode == 2
    assert err.startswith(message) and err.count("\n") == 1 and len(err) < 400, err
    assert list(tmp_path.iterdir()) == []


def test_a_long_query_is_echoed_cut_short(
    small_archive: str, capsys: pytest.CaptureFixture[str]
) -> None:
    command = run_reader("search", "a" * 100_000, DIGEST_DATABASE_URL=small_archive)
    assert command.exitcode == 0
    assert capsys.readouterr().err == (
        f"0 matches for '{'a' * 80}…' (100000 characters), best first\n"
    )
