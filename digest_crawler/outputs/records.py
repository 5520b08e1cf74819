"""A record: one paper as every output writes it, and its JSON Schema.

A record is a ``Paper`` (the crawl-time feed, ``scrapy crawl daily -O``,
has exactly its fields) plus ``schema_version``, ``settled`` and ``rank``,
and with ``--with-history`` the paper's ``listings``,
``upvote_snapshots`` and ``adoption_snapshots``. ``FeedRecord`` defines it; ``records`` streams the
chosen papers of the archive as plain dicts of its fields (building a
pydantic object per paper cost three times the rest of an export), and
``json_record`` + ``dumps`` is the one way a record becomes JSON, for the
export and the crawl-time feed alike.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model
from sqlalchemy.engine import Connection

from digest_crawler.paper import (
    ADOPTION,
    COUNTS,
    PAPER_FIELDS,
    Group,
    Paper,
    field_kinds,
    fields_in,
)
from digest_crawler.storage import queries
from digest_crawler.storage.schema import UTCDateTime

#: Bump when a field is added, or changes meaning or type (the schema allows
#: no other fields).
SCHEMA_VERSION = 5
SCHEMA_FILE = "paper.schema.json"


class ListingRank(BaseModel):
    """A day the paper was listed on, and its place in that day's list."""

    model_config = ConfigDict(strict=True, extra="forbid")

    listing_date: dt.date = Field(description="the listing day")
    rank: int | None = Field(None, description="1-based place in that day's list")


def _fields_of(group: Group) -> dict[str, Any]:
    """``create_model``'s definitions of the ``Paper`` fields in ``group``."""
    return {
        name: (info.annotation, Field(info.default, description=info.description))
        for name, info in Paper.model_fields.items()
        if name in fields_in(group)
    }


#: A crawl that saw the paper's counts change: when, and the counts (``COUNTS``).
UpvoteSnapshot: type[BaseModel] = create_model(
    "UpvoteSnapshot",
    __config__=ConfigDict(strict=True, extra="forbid"),
    observed_at=(dt.datetime, Field(description="when the crawl read them")),
    **_fields_of(COUNTS),
)
#: A read of the paper's Hub answer that saw what cites it change (``ADOPTION``).
AdoptionSnapshot: type[BaseModel] = create_model(
    "AdoptionSnapshot",
    __config__=ConfigDict(strict=True, extra="forbid"),
    observed_at=(dt.datetime, Field(description="when the Hub was asked")),
    **_fields_of(ADOPTION),
)


class FeedRecord(Paper):
    """One line of the feed."""

    model_config = ConfigDict(title="Daily Papers feed record")

    schema_version: int = Field(SCHEMA_VERSION, description="the record's version")
    settled: bool = Field(
        False,
        description="whether the paper's listing day is settled: read at the end of the"
        " refresh schedule, so its upvotes are final",
    )
    rank: int | None = Field(
        None,
        description="the paper's 1-based place in the week's or month's list exported"
        " (--week, --month); null otherwise",
    )
    listings: list[ListingRank] | None = Field(
        None, description="with --with-history: every day the paper was listed on"
    )
    upvote_snapshots: list[UpvoteSnapshot] | None = Field(
        None, description="with --with-history: every change of its counts, oldest first"
    )
    adoption_snapshots: list[AdoptionSnapshot] | None = Field(
        None,
        description="with --with-history: every change of what cites it on the Hub"
        " (models, datasets, Spaces), oldest first",
    )


#: A record as the outputs stream it: ``FeedRecord``'s fields, in its order.
Record = dict[str, Any]
#: The fields only ``--with-history`` fills (absent otherwise, not null).
HISTORY_FIELDS = ("listings", "upvote_snapshots", "adoption_snapshots")
_KINDS = field_kinds(FeedRecord)
_LISTS = [n for n, kind in _KINDS.items() if kind.type is list and n not in HISTORY_FIELDS]
_MOMENTS = [n for n, kind in _KINDS.items() if kind.type is dt.datetime]
_DATES = [n for n, kind in _KINDS.items() if kind.type is dt.date]
_FLAGS = [n for n, kind in _KINDS.items() if kind.type is bool]


#: A row of ``queries.paper_chunks``: the paper's fields, then these two.
_ROW_FIELDS = (*PAPER_FIELDS, "settled", "rank")


def records(
    connection: Connection,
    chosen: queries.PaperFilter,
    with_history: bool = False,
    newest_first: bool = False,
    json_form: bool = False,
    among: Collection[str] | None = None,
) -> Iterator[Record]:
    """The papers ``chosen`` names as records, streamed, with their history
    when ``with_history``. Their values are of the model's types, or with
    ``json_form`` (for the text formats) already JSON's: read as the driver
    gives them, not parsed to be written again (a paper's history stays
    typed either way). ``among``: only these papers (a watch's feed)."""
    for chunk in queries.paper_chunks(
        connection, chosen, newest_first=newest_first, native=json_form, among=among
    ):
        history = (
            queries.histories(connection, [row.arxiv_id for row in chunk]) if with_history else {}
        )
        if chunk and chunk[0]._fields != _ROW_FIELDS:  # what the zip below relies on
            raise AssertionError(f"a paper's row has {chunk[0]._fields}, not {_ROW_FIELDS}")
        for row in chunk:
            # (By position: by name each value costs a lookup, a tenth of a record's time.)
            values: Sequence[Any] = row
            record = dict(zip(PAPER_FIELDS, values, strict=False))  # (settled, rank left)
            record["schema_version"] = SCHEMA_VERSION
            record["settled"] = values[-2]
            record["rank"] = values[-1]
            if json_form:
                json_record(record)
            if with_history:
                paper = history[row.arxiv_id]
                record["listings"] = [_fields(r, ListingRank) for r in paper.listings]
                record["upvote_snapshots"] = [_fields(r, UpvoteSnapshot) for r in paper.snapshots]
                record["adoption_snapshots"] = [
                    _fields(r, AdoptionSnapshot) for r in paper.adoption
                ]
            yield record


def _fields(row: Any, model: type[BaseModel]) -> dict[str, Any]:
    """The values of ``model``'s fields in a row of the history."""
    values = row._mapping
    return {name: values[name] for name in model.model_fields}


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


def json_record(record: Record) -> Record:
    """A record of typed values, or of the driver's own (``records(...,
    json_form=True)``: on SQLite dates, moments and lists as stored text), in
    its JSON form, in place: what ``dumps`` writes, without parsing each date
    and moment only to write it again. A test holds it to pydantic's.

    >>> json_record({"submitted_at": "2026-07-31T09:05:00.000000Z", "ai_keywords": '["a"]',
    ...     "listing_date": dt.date(2026, 7, 31), "settled": 1, "scraped_at": None,
    ...     "authors": None, "published_at": None, "adoption_read_at": None})
    {'submitted_at': '2026-07-31T09:05:00Z', 'ai_keywords': ['a'], 'listing_date': '2026-07-31', 'settled': True, 'scraped_at': None, 'authors': None, 'published_at': None, 'adoption_read_at': None}
    """
    for name in _LISTS:
        value = record[name]
        if isinstance(value, str):
            record[name] = json.loads(value)
    for name in _MOMENTS:
        value = record[name]
        if value is not None:
            stored = UTCDateTime.json_text(value) if isinstance(value, str) else None
            if stored is not None:
                record[name] = stored
            else:
                moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
                record[name] = json_value(moment)
    for name in _DATES:
        value = record[name]
        if isinstance(value, str):
            dt.date.fromisoformat(value)  # stored text that is a date (a ValueError if not)
        elif value is not None:
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
    return one_line(json.dumps(record, ensure_ascii=False, default=json_value))


#: What JSON writes as it is but some line readers take for a line break
#: (Python's ``str.splitlines``: NEL, the line and paragraph separators).
_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def one_line(text: str) -> str:
    """A JSON text with the characters a line reader may break at escaped
    (the same JSON value): a JSONL line is one line to every reader.

    >>> one_line('{"title": "a\u2028b"}')
    '{"title": "a\\\\u2028b"}'
    """
    # Three scans of a line are cheap; a rewrite only where one is found.
    if "\x85" in text or "\u2028" in text or "\u2029" in text:
        for character, escaped in _BREAKS.items():
            text = text.replace(character, escaped)
    return text


def json_schema() -> dict[str, Any]:
    """The JSON Schema of one feed record, generated from the model."""
    schema = FeedRecord.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["description"] = (
        "One line of the digest_crawler JSONL feed (`scrapy export`). The crawl-time feed "
        "(`scrapy crawl daily -O`) has the same fields and types, without schema_version, "
        "settled and rank. rank is filled only in the export of a week's or month's list "
        "(--week, --month). "
        "listings, upvote_snapshots and adoption_snapshots appear with --with-history only."
    )
    return schema


def shipped_schema() -> dict[str, Any]:
    """The schema file shipped in the package."""
    text = resources.files("digest_crawler").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


if (
    __name__ == "__main__"
):  # python -m digest_crawler.outputs.records > digest_crawler/paper.schema.json
    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))
