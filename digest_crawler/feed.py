"""The JSONL feed record: what ``scrapy export`` writes, and its JSON Schema.

A feed record is a ``Paper`` (the item contract: the crawl-time feed
has the same fields and types) plus ``schema_version``, and with
``--with-history`` the paper's ``listings`` and ``upvote_snapshots``.
"""

from __future__ import annotations

import datetime as dt
import json
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


def dumps(record: FeedRecord) -> str:
    """One feed line (no newline): UTF-8 text, fields in contract order."""
    return json.dumps(
        record.model_dump(mode="json", exclude_none=False, exclude=_absent_history(record)),
        ensure_ascii=False,
    )


def _absent_history(record: FeedRecord) -> set[str]:
    return {name for name in ("listings", "upvote_snapshots") if getattr(record, name) is None}


if __name__ == "__main__":  # python -m digest_crawler.feed > digest_crawler/paper.schema.json
    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))
