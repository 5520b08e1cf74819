"""The paper item and the pydantic model of the public record.

``PaperItem`` is what the loader fills and the pipelines pass along; its
field names are the public contract of the ``papers`` table and the JSONL
feed. ``PaperRecord`` is the single definition of a valid record: the
validation pipeline checks every item against it and the storage columns
follow it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

# New-style arXiv ids (2407.21783, optionally with a version) and old-style
# ones (hep-th/9901001), the only forms the site uses for paper pages.
ARXIV_ID_PATTERN = r"^(\d{4}\.\d{4,5}|[a-z][a-z.-]*/\d{7})(v\d+)?$"


def iso_date(value: Any) -> Any:
    """Feed serialiser for dates: ``YYYY-MM-DD``."""
    return value.isoformat() if isinstance(value, dt.date) else value


def iso_moment(value: Any) -> Any:
    """Feed serialiser for moments: ISO 8601 in UTC with a ``Z``."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return value


@dataclass
class PaperItem:
    """One paper as listed on one Daily Papers page."""

    arxiv_id: str | None = None
    url: str | None = None
    title: str | None = None
    abstract: str | None = None
    authors: list[str] | None = None
    author_count: int | None = None
    organization: str | None = None
    organization_id: str | None = None
    # Raw site forms ("2026-09-25T00:00:00.000Z", "Aug 15, 2025", "Feb 19")
    # until the date pipeline turns them into dates and moments.
    published_at: dt.date | str | None = field(default=None, metadata={"serializer": iso_date})
    listing_date: dt.date | str | None = field(default=None, metadata={"serializer": iso_date})
    submitted_at: dt.datetime | str | None = field(
        default=None, metadata={"serializer": iso_moment}
    )
    upvotes: int | None = None
    num_comments: int | None = None
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    submitted_by: str | None = None
    scraped_at: dt.datetime | str | None = field(default=None, metadata={"serializer": iso_moment})
    # Not part of the public record: the 1-based position on the listing
    # page, kept in the ``listings`` table.
    rank: int | None = field(default=None, metadata={"internal": True})


#: The public field names, in contract order (feed column order too).
PAPER_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(PaperItem) if not f.metadata.get("internal")
)


def _must_be_utc(value: dt.datetime) -> dt.datetime:
    if value.utcoffset() != dt.timedelta(0):
        raise ValueError("must be in UTC")
    return value.astimezone(dt.UTC)


UtcMoment = Annotated[dt.datetime, AfterValidator(_must_be_utc)]
Text = Annotated[str, Field(min_length=1)]
Count = Annotated[int, Field(ge=0)]


class PaperRecord(BaseModel):
    """A valid public record of one paper (database row and feed line)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    arxiv_id: Annotated[str, Field(pattern=ARXIV_ID_PATTERN)]
    url: Text
    title: Text
    abstract: Text | None = None
    authors: list[Text] | None = None
    author_count: Count | None = None
    organization: Text | None = None
    organization_id: Text | None = None
    published_at: dt.date | None = None
    listing_date: dt.date
    submitted_at: UtcMoment | None = None
    upvotes: Count
    num_comments: Count | None = None
    github_repo: Text | None = None
    github_stars: Count | None = None
    project_page: Text | None = None
    submitted_by: Text | None = None
    scraped_at: UtcMoment

    @model_validator(mode="after")
    def _authors_fit_count(self) -> PaperRecord:
        if self.authors and self.author_count is not None and len(self.authors) > self.author_count:
            raise ValueError(
                f"author_count {self.author_count} is less than the "
                f"{len(self.authors)} names listed"
            )
        return self
