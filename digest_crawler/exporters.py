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

from digest_crawler.items import Listing
from digest_crawler.outputs.formats import csv_cell
from digest_crawler.outputs.records import json_record


class PapersOfListings:
    """Export each valid paper of a ``Listing`` as one record (dates as
    ``YYYY-MM-DD``, moments as ISO 8601 UTC with a ``Z``)."""

    def export_item(self, item: Any) -> Any:
        if not isinstance(item, Listing):
            return super().export_item(item)  # type: ignore[misc]
        for _, paper in item.valid:
            super().export_item(json_record(paper.model_dump()))  # type: ignore[misc]
        return item


class JsonLinesExporter(PapersOfListings, JsonLinesItemExporter):
    pass


class JsonExporter(PapersOfListings, JsonItemExporter):
    pass


class CsvExporter(PapersOfListings, CsvItemExporter):
    """Each cell as ``scrapy export``'s CSV writes it (a list as JSON text,
    null an empty cell), not Scrapy's comma-joined lists."""

    def serialize_field(self, field: Any, name: str, value: Any) -> Any:
        return csv_cell(value)


class XmlExporter(PapersOfListings, XmlItemExporter):
    """A null is an empty element, not the text ``None``."""

    def serialize_field(self, field: Any, name: str, value: Any) -> Any:
        return "" if value is None else super().serialize_field(field, name, value)
