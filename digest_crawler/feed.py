"""The JSONL feed record: what ``scrapy export`` writes, and its JSON Schema.

A feed record is a ``Paper`` (the item contract: the crawl-time feed
has the same fields and types) plus ``schema_version``, ``settled`` and
``rank``, and with ``--with-history`` the paper's ``listings`` and
``upvote_snapshots``.

``FeedRecord`` defines it. The export streams records as plain dicts of its
fields (``Record``: values of the model's types, read from the archive,
which only ever stored validated papers): building a pydantic object per
paper cost three times the rest of an export. ``json_form`` turns one into
JSON values by rules derived from the model's types, and a test holds it to
``FeedRecord.model_dump(mode="json")``.
"""

from __future__ import annotations

import datetime as dt
import json
import types
import typing
from collections.abc import Callable, Mapping
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
Converter = Callable[[Any], Any]


def _iso_moment(value: dt.datetime) -> str:
    """An aware UTC moment as pydantic writes it: ISO 8601 with a ``Z``.

    >>> _iso_moment(dt.datetime(2026, 7, 31, 9, 5, tzinfo=dt.UTC))
    '2026-07-31T09:05:00Z'
    """
    text = value.isoformat()
    if text.endswith("+00:00"):  # the archive's moments are UTC: the one cheap test
        return text[:-6] + "Z"
    return value.astimezone(dt.UTC).isoformat()[:-6] + "Z"


def _converter(annotation: Any) -> Converter | None:
    """How a value of this type becomes JSON (None: it already is)."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        (annotation,) = [a for a in typing.get_args(annotation) if a is not type(None)]
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) is list:
        inner = _converter(typing.get_args(annotation)[0])
        return None if inner is None else lambda values: [inner(v) for v in values]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _converters_of(annotation)
    if annotation is dt.datetime:
        return _iso_moment
    if annotation is dt.date:
        return dt.date.isoformat
    return None


def _converters_of(model: type[BaseModel]) -> Callable[[Mapping[str, Any]], Record]:
    converters = [
        (name, to_json)
        for name, info in model.model_fields.items()
        if (to_json := _converter(info.annotation)) is not None
    ]

    def convert(values: Mapping[str, Any]) -> Record:
        result = dict(values)
        for name, to_json in converters:
            value = result.get(name)
            if value is not None:
                result[name] = to_json(value)
        return result

    return convert


#: A record's JSON values (dates ``YYYY-MM-DD``, moments ISO 8601 UTC with a ``Z``).
json_form = _converters_of(FeedRecord)


def dumps(record: Mapping[str, Any]) -> str:
    """One feed line (no newline): UTF-8 text, fields in contract order."""
    return json.dumps(json_form(record), ensure_ascii=False)


if __name__ == "__main__":  # python -m digest_crawler.feed > digest_crawler/paper.schema.json
    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))
