"""``scrapy export``'s options (``commands/export.py``): the format given,
or the output's extension's, and the rules across options."""

from __future__ import annotations

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
        (
            {"output": "daily.atom", "with_history": True},
            "--with-history: a atom feed has no place for it (use jsonl, csv or parquet)",
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
