"""Feed exporters (``scrapy crawl daily -O papers.jsonl``) that write one
record per paper: the spider yields listings, a feed holds their valid
papers, each with exactly the fields of ``Paper`` in contract order, in the
JSON form every output shares (``outputs.records.json_record``)."""

from __future__ import annotations

from typing import Any

from scrapy.exporters import (
    CsvItemExporter,
    JsonItemExporter,
    JsonLinesItemExporter,
    XmlItemExporter,
)
from scrapy.utils.serialize import ScrapyJSONEncoder

from digest_crawler.items import Listing
from digest_crawler.outputs.formats import csv_cell, xml_text
from digest_crawler.outputs.records import json_record, one_line


class PapersOfListings:
    """Export each valid paper of a ``Listing`` as one record (dates as
    ``YYYY-MM-DD``, moments as ISO 8601 UTC with a ``Z``)."""

    def export_item(self, item: Any) -> Any:
        if not isinstance(item, Listing):
            return super().export_item(item)  # type: ignore[misc]
        for _, paper in item.valid:
            super().export_item(json_record(paper.model_dump()))  # type: ignore[misc]
        return item


class OneLineEncoder(ScrapyJSONEncoder):
    """Scrapy's encoder, but a line break JSON leaves as it is escaped
    (``records.one_line``): a record is one line to every line reader."""

    def encode(self, o: Any) -> str:
        return one_line(super().encode(o))


class JsonLinesExporter(PapersOfListings, JsonLinesItemExporter):
    def __init__(self, file: Any, **kwargs: Any) -> None:
        super().__init__(file, **kwargs)
        self.encoder = OneLineEncoder(**self._kwargs)


class JsonExporter(PapersOfListings, JsonItemExporter):
    pass


class CsvExporter(PapersOfListings, CsvItemExporter):
    """Each cell as ``scrapy export``'s CSV writes it (a list as JSON text,
    null an empty cell), not Scrapy's comma-joined lists."""

    def serialize_field(self, field: Any, name: str, value: Any) -> Any:
        return csv_cell(value)


class XmlExporter(PapersOfListings, XmlItemExporter):
    """A null is an empty element, not the text ``None``; a text holds only
    the characters XML 1.0 can carry (Scrapy's exporter writes any)."""

    def serialize_field(self, field: Any, name: str, value: Any) -> Any:
        return "" if value is None else _xml_values(super().serialize_field(field, name, value))


def _xml_values(value: Any) -> Any:
    """``value`` with every text in it, in lists and mappings too, made XML's."""
    if isinstance(value, str):
        return xml_text(value)
    if isinstance(value, list | tuple):
        return [_xml_values(item) for item in value]
    if isinstance(value, dict):
        return {key: _xml_values(item) for key, item in value.items()}
    return value
