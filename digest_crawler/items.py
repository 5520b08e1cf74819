"""What the spider yields and what a paper is.

``Listing`` is the item: one listing the spider read (today a day), what
became of it, and its papers in page order. ``Paper`` is the one definition
of a paper: the loader fills its fields, the validation pipeline checks each
paper against it, and the storage columns, the refreshed fields, the feeds
and the JSON Schema derive from it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from digest_crawler.periods import Kind, Period

# New-style arXiv ids (2407.21783, optionally with a version) and old-style
# ones (hep-th/9901001), the only forms the site uses for paper pages. ASCII
# digits only: the regex engine's \d also matches other scripts' digits.
ARXIV_ID_PATTERN = r"^([0-9]{4}\.[0-9]{4,5}|[a-z][a-z.-]*/[0-9]{7})(v[0-9]+)?$"
#: The longest arXiv id the ``papers`` key column holds.
ARXIV_ID_MAX_LENGTH = 32
#: The largest count every backend's integer column holds (PostgreSQL's
#: ``integer``): a larger one is rejected with its reason before the
#: listing's transaction, instead of aborting it.
COUNT_MAX = 2**31 - 1


def _must_be_utc(value: dt.datetime) -> dt.datetime:
    if value.utcoffset() != dt.timedelta(0):
        raise ValueError("must be in UTC")
    return value.astimezone(dt.UTC)


UtcMoment = Annotated[dt.datetime, AfterValidator(_must_be_utc)]
Text = Annotated[str, Field(min_length=1)]
Count = Annotated[int, Field(ge=0, le=COUNT_MAX)]


class Paper(BaseModel):
    """One paper as one listing shows it: a database row and a feed line.

    ``None`` is "the page does not say" (SQL NULL), never "empty".
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    arxiv_id: Annotated[str, Field(pattern=ARXIV_ID_PATTERN, max_length=ARXIV_ID_MAX_LENGTH)]
    url: Text
    title: Text
    abstract: Text | None = None
    #: The site's own summary and keywords of the paper, where it made them.
    ai_summary: Text | None = None
    ai_keywords: list[Text] | None = None
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
    thumbnail: Text | None = None
    submitted_by: Text | None = None
    scraped_at: UtcMoment

    @model_validator(mode="after")
    def _authors_fit_count(self) -> Paper:
        if self.authors and self.author_count is not None and len(self.authors) > self.author_count:
            raise ValueError(
                f"author_count {self.author_count} is less than the "
                f"{len(self.authors)} names listed"
            )
        return self


#: The public field names, in contract order (feed column order too).
PAPER_FIELDS: tuple[str, ...] = tuple(Paper.model_fields)

#: A listing's outcome as the spider saw it: its papers were served, the
#: site answered with another listing (no digest), or it could not be read.
Outcome = Literal["served", "no_digest", "failed"]


@dataclass
class Rejected:
    """A paper of a listing that failed validation, kept with its reason."""

    arxiv_id: str | None
    reason: str
    payload: dict[str, Any]


@dataclass
class Listing:
    """One listing the spider read: which (the ``period`` starting on ``day``),
    from where, its outcome (with the reason when it is not ``served``),
    and its papers in page order as the loader filled them. The validation
    pipeline fills ``valid`` (rank, paper) and ``rejected``."""

    day: dt.date
    url: str
    outcome: Outcome
    reason: str | None = None
    period: Kind = "day"
    #: ``None`` marks a paper the spider already kept aside in ``rejected``
    #: (one of another listing): its rank stays taken.
    papers: list[dict[str, Any] | None] = field(default_factory=list)
    valid: list[tuple[int, Paper]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def name(self) -> str:
        """How the site names the listing: ``2026-07-31``, ``2026-W31``, ``2026-07``."""
        return Period(self.period, self.day).key
