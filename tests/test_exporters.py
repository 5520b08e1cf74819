"""Crawl-time feeds (``scrapy crawl daily -O papers.jsonl``, ``exporters.py``):
each valid paper of a listing is one record with exactly the fields of
``Paper`` in order, in the JSON form every output shares
(``outputs.records.json_record``); other items pass through."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import pytest
from lxml import etree
from scrapy.exporters import BaseItemExporter
from scrapy.utils.misc import load_object

from digest_crawler.exporters import JsonLinesExporter
from digest_crawler.items import Listing
from digest_crawler.outputs.formats import csv_cell
from digest_crawler.outputs.records import json_record
from digest_crawler.paper import PAPER_FIELDS
from tests.storage.listings import listing, paper, validated
from tests.support.crawler import project_settings

#: Two valid papers (one with every field, one with lists and moments
#: unknown) and one that fails validation.
LISTED = (
    paper(
        ai_summary="A summary.", ai_keywords=["chemistry", "agents"], thumbnail="https://x/t.png"
    ),
    paper(arxiv_id="2607.16922", authors=None, author_count=None, submitted_at=None),
    paper(arxiv_id="2607.99999", upvotes=-4),
)


def feed(name: str, *items: Any) -> bytes:
    """``items`` written by the exporter the project's ``FEED_EXPORTERS``
    names for ``name``, with its ``FEED_EXPORT_FIELDS`` and encoding, as ``-O`` builds it."""
    settings = project_settings()
    exporter_class = load_object(settings["FEED_EXPORTERS"][name])
    stream = io.BytesIO()
    exporter: BaseItemExporter = exporter_class(
        stream,
        fields_to_export=settings["FEED_EXPORT_FIELDS"],
        encoding=settings["FEED_EXPORT_ENCODING"],
    )
    exporter.start_exporting()
    for item in items:
        exporter.export_item(item)
    exporter.finish_exporting()
    return stream.getvalue()


def expected() -> tuple[Listing, list[dict[str, Any]]]:
    """A validated listing of ``LISTED``, and its valid papers as records in their JSON form."""
    item = validated(listing(*LISTED))
    assert len(item.valid) == 2 and len(item.rejected) == 1
    records = [json.loads(json.dumps(json_record(p.model_dump()))) for _, p in item.valid]
    return item, records


@pytest.mark.parametrize("name", ["jsonl", "jsonlines", "json"])
def test_a_listing_s_valid_papers_are_one_record_each_with_the_paper_fields_in_order(
    name: str,
) -> None:
    item, records = expected()
    data = feed(name, item).decode("utf-8")
    written = (
        json.loads(data) if name == "json" else [json.loads(line) for line in data.splitlines()]
    )
    assert [list(record) for record in written] == [list(PAPER_FIELDS)] * 2
    assert written == records
    first, second = written
    assert (first["listing_date"], first["published_at"]) == ("2026-07-31", "2026-07-30")
    assert (first["submitted_at"], first["scraped_at"]) == (
        "2026-07-31T00:00:00Z",
        "2026-11-26T06:00:00Z",
    )
    assert first["ai_keywords"] == ["chemistry", "agents"]
    assert (second["authors"], second["submitted_at"]) == (None, None)


def test_a_csv_feed_has_the_paper_fields_as_its_header_and_a_row_per_valid_paper() -> None:
    item, records = expected()
    header, *rows = csv.reader(io.StringIO(feed("csv", item).decode("utf-8")))
    assert header == list(PAPER_FIELDS)
    assert [row[0] for row in rows] == ["2607.28618", "2607.16922"]
    for row, record in zip(rows, records, strict=True):
        # The cells of scrapy export's CSV: lists as JSON text, null empty.
        assert row == [csv_cell(record[name]) for name in PAPER_FIELDS]
    assert json.loads(rows[0][header.index("ai_keywords")]) == ["chemistry", "agents"]


def test_an_xml_feed_has_an_item_per_valid_paper_with_the_paper_fields_in_order() -> None:
    item, records = expected()
    root = etree.fromstring(feed("xml", item))
    items = root.findall("item")
    assert [[child.tag for child in element] for element in items] == [list(PAPER_FIELDS)] * 2
    assert [element.findtext("arxiv_id") for element in items] == ["2607.28618", "2607.16922"]
    assert items[0].findtext("submitted_at") == records[0]["submitted_at"]
    assert items[1].findtext("submitted_at") == "" and "None" not in feed("xml", item).decode()


def test_a_listing_without_valid_papers_writes_no_record() -> None:
    day = dt.date(2026, 7, 30)
    no_digest = Listing(day=day, url=f"http://127.0.0.1/papers/date/{day}", outcome="no_digest")
    assert feed("jsonl", no_digest, validated(listing(paper(upvotes=-4)))) == b""


def test_items_that_are_not_listings_pass_through() -> None:
    stream = io.BytesIO()
    exporter = JsonLinesExporter(stream)
    other = {"title": "not a listing", "upvotes": 3}
    exporter.export_item(other)
    assert json.loads(stream.getvalue()) == other  # as Scrapy's own exporter writes it


def test_an_xml_feed_is_well_formed_whatever_control_characters_the_texts_hold() -> None:
    """Scrapy's XML exporter writes text as it is: control characters XML
    1.0 has no place for are dropped from every text and list item."""
    not_xml = "\x01\x08\x0b\x1b[31m\x1f\ufffe"
    texts = {
        "title": not_xml,  # a record, not a feed entry: no title needed
        "abstract": f"Abstract {not_xml}",
        "ai_summary": f"Summary {not_xml}",
        "ai_keywords": [not_xml, f"keyword {not_xml}"],
        "authors": [f"Author {not_xml}"],
        "organization": f"Lab {not_xml}",
        "submitted_by": f"user{not_xml}",
    }
    item = validated(listing(paper(**texts)))
    assert len(item.valid) == 1
    root = etree.fromstring(feed("xml", item))
    (element,) = root.findall("item")
    assert element.findtext("title") == "[31m"
    assert element.findtext("abstract") == "Abstract [31m"
    assert [v.text for v in element.findall("ai_keywords/value")] == ["[31m", "keyword [31m"]
    assert [v.text for v in element.findall("authors/value")] == ["Author [31m"]
    assert element.findtext("organization") == "Lab [31m"


def test_a_json_record_is_one_line_to_every_line_reader() -> None:
    """JSON leaves NEL and the line and paragraph separators as they are;
    ``str.splitlines`` breaks a line at them: they are escaped."""
    breaks = "a\x85b\u2028c\u2029d"
    item = validated(listing(paper(title=breaks, authors=[breaks])))
    (line,) = feed("jsonl", item).decode("utf-8").splitlines()
    record = json.loads(line)
    assert (record["title"], record["authors"]) == (breaks, [breaks])


def test_a_csv_feed_neutralizes_cells_a_spreadsheet_would_run() -> None:
    item = validated(listing(paper(title="=1+1", organization="@SUM(A1)", abstract="-2+3")))
    header, row = list(csv.reader(io.StringIO(feed("csv", item).decode("utf-8"))))
    cells = dict(zip(header, row, strict=True))
    assert (cells["title"], cells["organization"], cells["abstract"]) == (
        "'=1+1",
        "'@SUM(A1)",
        "'-2+3",
    )
    assert cells["upvotes"] == "292"
