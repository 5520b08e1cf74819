"""``scrapy export``'s options (``commands/export.py``): the format given,
or the output's extension's, and the rules across options."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from digest_crawler.commands.export import ExportOptions


@pytest.mark.parametrize(
    ("options", "kind"),
    [
        ({}, "jsonl"),  # standard output
        ({"output": "papers.parquet"}, "parquet"),
        ({"output": "daily.ATOM"}, "atom"),
        ({"output": "/dev/null"}, "jsonl"),  # no extension
        ({"output": "papers.txt", "format": "csv"}, "csv"),  # given, it wins
        ({"format": "rss"}, "rss"),
        # A format in any case, as an extension is ("--format CSV" was refused).
        ({"format": "CSV"}, "csv"),
        ({"output": "papers.JSONL"}, "jsonl"),
        ({"output": "feed.json", "format": "JSONFeed"}, "jsonfeed"),
    ],
)
def test_the_format_is_the_one_given_or_the_output_s_extension_s(
    options: dict[str, str], kind: str
) -> None:
    assert ExportOptions.model_validate(options).kind == kind


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"output": "feed.xlsx"}, "--output: no format for the extension '.xlsx'"),
        ({"format": "xml"}, "--format: 'xml' is not a format (one of jsonl, csv,"),
        # A JSON Feed, or the JSON array scrapy crawl -O x.json writes?
        (
            {"output": "papers.json"},
            "--output: '.json' names no one format: give --format jsonfeed for a JSON Feed, or"
            " use .jsonl for one record a line (scrapy crawl -O x.json writes a JSON array)",
        ),
        (
            {"output": "daily.atom", "with_history": True},
            "--with-history: the atom format has no place for it (use jsonl, csv or parquet)",
        ),
    ],
)
def test_a_format_that_cannot_be_written_is_refused(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        ExportOptions.model_validate(options)
    (error,) = caught.value.errors(include_url=False)
    assert error["msg"].removeprefix("Value error, ").startswith(message)


def test_history_goes_with_the_tabular_formats() -> None:
    for output in ("papers.jsonl", "papers.csv", "papers.parquet"):
        assert ExportOptions(output=output, with_history=True).with_history


@pytest.mark.parametrize("kind", ["atom", "rss", "jsonfeed"])
@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("https://user:s3cret@mirror.example", "holds a user name or password"),
        ("javascript:alert(1)", "is not an http(s) URL with a host"),
        ("file:///etc/passwd", "is not an http(s) URL with a host"),
    ],
    ids=["credentials", "javascript", "file"],
)
def test_a_feed_s_base_url_is_checked_as_the_crawl_checks_it(
    kind: str,
    base_url: str,
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A feed's id and link come from DIGEST_BASE_URL: a URL with a
    password, or not http(s), is refused before the archive is opened, and
    the password is not shown."""
    from tests.support.archive import make_archive
    from tests.support.readers import run_reader

    url = f"sqlite:///{tmp_path / 'papers.sqlite'}"
    make_archive(url, days=1, per_day=2)
    output = tmp_path / "feed.xml"
    command = run_reader(
        "export",
        *("--format", kind, "-o", str(output)),
        DIGEST_DATABASE_URL=url,
        DIGEST_BASE_URL=base_url,
    )
    err = capsys.readouterr().err
    assert command.exitcode == 2
    assert err.startswith("scrapy export: error: setting DIGEST_BASE_URL: ") and message in err
    assert err.count("\n") == 1 and "s3cret" not in err
    assert not output.exists()
