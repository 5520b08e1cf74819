"""Each export format read back with the tool its users use, checked against
its specification's required elements, and turned into JSONL-like records
(dates ISO, moments ISO with a ``Z``) to compare with the JSONL export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from pathlib import Path
from typing import Any

import feedparser
import jsonschema
from lxml import etree

ATOM = "{http://www.w3.org/2005/Atom}"
LIST_FIELDS = ("ai_keywords", "authors", "listings", "upvote_snapshots", "adoption_snapshots")

# JSON Feed 1.1 (https://jsonfeed.org/version/1.1): the members it requires,
# and the types of the optional ones the export writes.
JSON_FEED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["version", "title", "items"],
    "properties": {
        "version": {"const": "https://jsonfeed.org/version/1.1"},
        "title": {"type": "string"},
        "home_page_url": {"type": "string"},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id"],
                "anyOf": [{"required": ["content_html"]}, {"required": ["content_text"]}],
                "properties": {
                    "id": {"type": "string"},
                    "url": {"type": "string"},
                    "title": {"type": "string"},
                    "content_html": {"type": "string"},
                    "date_published": {"type": "string", "format": "date-time"},
                    "date_modified": {"type": "string", "format": "date-time"},
                    "authors": {
                        "type": "array",
                        "items": {"type": "object", "required": ["name"]},
                    },
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}


def read_atom(data: bytes) -> list[dict[str, Any]]:
    """Atom 1.0 (RFC 4287): feedparser reads it without complaint, and the
    feed and every entry have their required id, title and updated."""
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    root = etree.fromstring(data)
    assert root.tag == f"{ATOM}feed"
    for element in (root, *root.findall(f"{ATOM}entry")):
        for required in ("id", "title", "updated"):
            (found,) = element.findall(f"{ATOM}{required}")
            assert found.text, (element.tag, required)
    has_author = root.find(f"{ATOM}author") is not None
    assert has_author or all(e.find(f"{ATOM}author") is not None for e in root.iter(f"{ATOM}entry"))
    return [dict(entry) for entry in parsed.entries]


def read_rss(data: bytes) -> list[dict[str, Any]]:
    """RSS 2.0: feedparser reads it without complaint; the channel has its
    title, link and description, every item a title or a description."""
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    root = etree.fromstring(data)
    assert root.tag == "rss" and root.get("version") == "2.0"
    (channel,) = root.findall("channel")
    for required in ("title", "link", "description"):
        (found,) = channel.findall(required)
        assert found.text, required
    for item in channel.findall("item"):
        assert item.findtext("title") or item.findtext("description")
    return [dict(entry) for entry in parsed.entries]


def read_jsonfeed(data: bytes) -> dict[str, Any]:
    """JSON Feed 1.1, checked against the members the specification requires."""
    feed: dict[str, Any] = json.loads(data)
    jsonschema.Draft202012Validator(
        JSON_FEED_SCHEMA, format_checker=jsonschema.FormatChecker()
    ).validate(feed)
    return feed


def read_parquet(path: Path) -> list[dict[str, Any]]:
    """Parquet read by pyarrow, its values as the JSONL writes them."""
    import pyarrow.parquet as pq

    return [_as_json(row) for row in pq.read_table(path).to_pylist()]


def read_csv(data: bytes) -> list[dict[str, Any]]:
    """CSV read by Python's csv module, lists parsed from their JSON text."""
    rows = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))
    return [{name: _csv_value(name, value) for name, value in row.items()} for row in rows]


def _csv_value(name: str, value: str) -> Any:
    if value == "":
        return None
    if name in LIST_FIELDS:
        return json.loads(value)
    if value in ("true", "false"):
        return value == "true"
    if value.isdigit():
        return int(value)
    return value


def _as_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, dt.datetime):
        assert value.utcoffset() == dt.timedelta(0)
        return value.replace(tzinfo=None).isoformat() + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def comparable(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """JSONL records with their moments as Python's isoformat writes them
    (the feed's six decimals are dropped where they are zeros)."""
    return [
        {k: _as_json(dt.datetime.fromisoformat(v)) if _is_moment(v) else v for k, v in r.items()}
        for r in records
    ]


def _is_moment(value: Any) -> bool:
    return isinstance(value, str) and len(value) >= 20 and value[10] == "T" and value[-1] == "Z"


def read_entries(kind: str, path: Path) -> list[Any]:
    """An exported file's entries (feeds) or rows, read back by the tool
    its users use for ``kind`` (a format of ``scrapy export``)."""
    data = path.read_bytes()
    if kind == "atom":
        return read_atom(data)
    if kind == "rss":
        return read_rss(data)
    if kind == "jsonfeed":
        items: list[Any] = read_jsonfeed(data)["items"]
        return items
    if kind == "parquet":
        return read_parquet(path)
    if kind == "csv":
        return read_csv(data)
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]
