"""The JSONL feed record: what ``scrapy export`` writes, and its JSON Schema.

A feed record is a ``Paper`` (the item contract: the crawl-time feed
has the same fields and types) plus ``schema_version``, ``settled`` and
``rank``, and with ``--with-history`` the paper's ``listings`` and
``upvote_snapshots``.

``FeedRecord`` defines it. The export streams records as plain dicts of its
fields (``Record``: values of the model's types, read from the archive,
which only ever stored validated papers): building a pydantic object per
paper cost three times the rest of an export.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import types
import typing
from collections.abc import Mapping
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict

from digest_crawler.items import Paper

#: Bump when a field is added, or changes meaning or type (the schema allows
#: no other fields). 2: ``settled``. 3: ``ai_summary``, ``ai_keywords``, ``thumbnail``.
#: 4: ``rank``.
SCHEMA_VERSION = 4
SCHEMA_FILE = "paper.schema.json"


class Listing(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    listing_date: dt.date
    rank: int | None = None


class UpvoteSnapshot(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    observed_at: dt.datetime
    upvotes: int
    num_comments: int | None = None
    github_stars: int | None = None


class FeedRecord(Paper):
    """One line of the feed."""

    model_config = ConfigDict(title="Daily Papers feed record")

    schema_version: int = SCHEMA_VERSION
    #: Whether the paper's listing day is settled: read at the end of the
    #: refresh schedule, so its upvotes are final.
    settled: bool = False
    #: The paper's 1-based place in the week's or month's list exported
    #: (``--week``/``--month``); null otherwise.
    rank: int | None = None
    listings: list[Listing] | None = None
    upvote_snapshots: list[UpvoteSnapshot] | None = None


def json_schema() -> dict[str, Any]:
    """The JSON Schema of one feed record, generated from the model."""
    schema = FeedRecord.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["description"] = (
        "One line of the digest_crawler JSONL feed (`scrapy export`). The crawl-time feed "
        "(`scrapy crawl daily -O`) has the same fields and types, without schema_version, "
        "settled and rank. rank is filled only in the export of a week's or month's list "
        "(--week, --month). "
        "listings and upvote_snapshots appear with --with-history only."
    )
    return schema


def shipped_schema() -> dict[str, Any]:
    """The schema file shipped in the package."""
    text = resources.files("digest_crawler").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


#: A record as the export streams it: ``FeedRecord``'s fields, in its order.
Record = dict[str, Any]


def json_value(value: Any) -> Any:
    """A record's value that JSON has no type for, as pydantic writes it: a
    date ``YYYY-MM-DD``, a moment ISO 8601 in UTC with a ``Z``.

    >>> json_value(dt.datetime(2026, 7, 31, 9, 5, tzinfo=dt.UTC)), json_value(dt.date(2026, 7, 31))
    ('2026-07-31T09:05:00Z', '2026-07-31')
    """
    if isinstance(value, dt.datetime):
        text = value.isoformat()
        if text.endswith("+00:00"):  # the archive's moments are UTC: the one cheap test
            return text[:-6] + "Z"
        return value.astimezone(dt.UTC).isoformat()[:-6] + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"a feed record has no {type(value).__name__} value")


def _kind(annotation: Any) -> Any:
    """The type a field holds, without ``| None`` and ``Annotated``."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        (annotation,) = [a for a in typing.get_args(annotation) if a is not type(None)]
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return typing.get_origin(annotation) or annotation


#: The fields only ``--with-history`` fills (absent otherwise, not null).
HISTORY_FIELDS = ("listings", "upvote_snapshots")
_KINDS = {name: _kind(info.annotation) for name, info in FeedRecord.model_fields.items()}
_LISTS = [n for n, kind in _KINDS.items() if kind is list and n not in HISTORY_FIELDS]
_MOMENTS = [n for n, kind in _KINDS.items() if kind is dt.datetime]
_DATES = [n for n, kind in _KINDS.items() if kind is dt.date]
_FLAGS = [n for n, kind in _KINDS.items() if kind is bool]
# How SQLite keeps a moment (schema.UTCDateTime): ISO 8601, six decimals, a Z.
_STORED_MOMENT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")


def json_record(record: Record) -> Record:
    """A record of the driver's own values (``queries.select_papers(...,
    native=True)``: on SQLite dates, moments and lists as stored text) in its
    JSON form, in place: what ``dumps`` writes, without parsing each date and
    moment only to write it again. A test holds it to the typed record's.

    >>> json_record({"submitted_at": "2026-07-31T09:05:00.000000Z", "ai_keywords": '["a"]',
    ...     "listing_date": dt.date(2026, 7, 31), "settled": 1, "scraped_at": None,
    ...     "authors": None, "published_at": None})
    {'submitted_at': '2026-07-31T09:05:00Z', 'ai_keywords': ['a'], 'listing_date': '2026-07-31', 'settled': True, 'scraped_at': None, 'authors': None, 'published_at': None}
    """
    for name in _LISTS:
        value = record[name]
        if isinstance(value, str):
            record[name] = json.loads(value)
    for name in _MOMENTS:
        value = record[name]
        if value is not None:
            if isinstance(value, str) and _STORED_MOMENT.fullmatch(value):
                record[name] = value[:-8] + "Z" if value.endswith(".000000Z") else value
            else:
                moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
                record[name] = json_value(moment)
    for name in _DATES:
        value = record[name]
        if value is not None and not isinstance(value, str):
            record[name] = value.isoformat()
    for name in _FLAGS:
        if name in record:
            record[name] = bool(record[name])
    return record


def dumps(record: Mapping[str, Any]) -> str:
    """One feed line (no newline): UTF-8 text, fields in contract order.

    Written by ``json`` from the record's own values (the encoder asks
    ``json_value`` for dates and moments only): a test holds the result to
    ``FeedRecord.model_dump(mode="json")``.
    """
    return json.dumps(record, ensure_ascii=False, default=json_value)


if __name__ == "__main__":  # python -m digest_crawler.feed > digest_crawler/paper.schema.json
    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))
