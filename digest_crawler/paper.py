"""The one definition of a paper: ``Paper``, described field by field.

Every other form of a paper derives from it: the loader's processors (by
each field's kind), the ``papers`` columns (type, length, NULL), the fields
a re-crawl refreshes, the counts an upvote snapshot keeps, the links that
must be http(s) URLs, the texts the search index covers (and their weight),
the feed record with its JSON Schema, the CSV header, the Arrow schema,
the field table of docs/archive.md and Datasette's column descriptions.

A field belongs to a group by a marker in its annotation (``KEPT``,
``COUNTS``, ``LINKS``, ``Searched``); ``fields_in`` lists a group.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any

from annotated_types import MaxLen
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

# New-style arXiv ids (2407.21783, optionally with a version) and old-style
# ones (hep-th/9901001), the only forms the site uses for paper pages. ASCII
# digits only: the regex engine's \d also matches other scripts' digits.
ARXIV_ID_PATTERN = r"^([0-9]{4}\.[0-9]{4,5}|[a-z][a-z.-]*/[0-9]{7})(v[0-9]+)?$"
#: The longest arXiv id an archive's id columns hold.
ARXIV_ID_MAX_LENGTH = 32
#: The largest count every backend's integer column holds (PostgreSQL's
#: ``integer``): a larger one is rejected with its reason before the
#: listing's transaction, instead of aborting it.
COUNT_MAX = 2**31 - 1


@dataclass(frozen=True)
class Group:
    """A group of ``Paper`` fields, declared in each member's annotation."""

    name: str


#: Kept by a rule of its own, never refreshed by a re-crawl: the key, the
#: earliest listing date, the time of the latest read.
KEPT = Group("kept")
#: Counts that move after the listing day: each change is an upvote snapshot.
COUNTS = Group("counts")
#: Links: an http(s) URL or nothing (a dropped one is logged and counted).
LINKS = Group("links")
#: What cites the paper on the Hub, read by a call of its own
#: (``/api/papers/{id}``), not from a listing: each change is an adoption
#: snapshot. A listing leaves them as they are.
ADOPTION = Group("adoption")


@dataclass(frozen=True)
class Searched(Group):
    """A text the full-text index covers, how much a match in it weighs
    (FTS5's ``bm25()`` weight; PostgreSQL's weight class follows from it),
    and how many of its first characters PostgreSQL's index holds.

    PostgreSQL's full-text vector of a paper holds at most 1 MB, and a
    character of text costs up to about 11 bytes of it (hyphenated pairs of
    4-byte letters, measured): the texts' ``indexed`` characters add up to
    60,000 (at most about 660 KB), more than any real paper's texts (an
    arXiv abstract holds at most 1,920 characters). SQLite's FTS5 has no
    such limit and indexes every character. The stored text is always whole.
    """

    name: str = "texts"
    weight: float = 1.0
    indexed: int = 1_000

    @property
    def weight_class(self) -> str:
        """PostgreSQL's ``setweight`` class: A (10 and up), B (3 and up) or C."""
        return "A" if self.weight >= 10 else "B" if self.weight >= 3 else "C"


def _must_be_utc(value: dt.datetime) -> dt.datetime:
    if value.utcoffset() != dt.timedelta(0):
        raise ValueError("must be in UTC")
    return value.astimezone(dt.UTC)


UtcMoment = Annotated[dt.datetime, AfterValidator(_must_be_utc)]
Text = Annotated[str, Field(min_length=1)]
Count = Annotated[int, Field(ge=0, le=COUNT_MAX)]


#: How long after its listing day a paper's arXiv date may be (it is
#: before it, in every real capture).
PUBLISHED_SLACK = dt.timedelta(days=7)


class Paper(BaseModel):
    """One paper as one listing shows it: a database row and a feed line.

    ``None`` is "the site does not say" (SQL NULL), never "empty".
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    arxiv_id: Annotated[
        str, Field(pattern=ARXIV_ID_PATTERN, max_length=ARXIV_ID_MAX_LENGTH), KEPT
    ] = Field(
        description="arXiv id, e.g. `2607.28618`, the key; text (`2401.76000` is not `2401.76`)"
    )
    url: Annotated[Text, LINKS] = Field(description="the paper's page on the crawled site")
    title: Annotated[Text, Searched(weight=10.0, indexed=1_000)] = Field(
        description="plain text, whitespace runs collapsed, NUL characters dropped (the same"
        " rule for every text field and backend: PostgreSQL refuses NUL in text)"
    )
    abstract: Annotated[Text | None, Searched(weight=3.0, indexed=30_000)] = Field(
        None, description="null when the page gives none (card fallback)"
    )
    ai_summary: Annotated[Text | None, Searched(weight=2.0, indexed=5_000)] = Field(
        None, description="the site's own summary of the paper, where it made one"
    )
    ai_keywords: Annotated[list[Text] | None, Searched(weight=3.0, indexed=3_000)] = Field(
        None, description="the site's keywords of the paper, where it made them"
    )
    authors: Annotated[list[Text] | None, Searched(weight=1.0, indexed=20_000)] = Field(
        None,
        description="names, in page order (hidden authors included); null (SQL NULL) when unknown",
    )
    author_count: Count | None = Field(
        None, description='number of authors (what the cards show as "N authors")'
    )
    organization: Annotated[Text | None, Searched(weight=1.0, indexed=1_000)] = Field(
        None, description="display name, e.g. `New York University`"
    )
    organization_id: Text | None = Field(None, description="handle, e.g. `newyorkuniversity`")
    published_at: dt.date | None = Field(None, description="arXiv publication date (UTC)")
    listing_date: Annotated[dt.date, KEPT] = Field(
        description="the digest day it was listed on; in the database the earliest such day"
    )
    submitted_at: UtcMoment | None = Field(None, description="when it entered the digest")
    upvotes: Annotated[Count, COUNTS] = Field(description="upvotes when crawled")
    num_comments: Annotated[Count | None, COUNTS] = Field(None, description="comments when crawled")
    github_repo: Annotated[Text | None, LINKS] = Field(
        None, description="repository URL (http or https)"
    )
    github_stars: Annotated[Count | None, COUNTS] = Field(None, description="stars when crawled")
    project_page: Annotated[Text | None, LINKS] = Field(
        None, description="project page URL (http or https)"
    )
    thumbnail: Annotated[Text | None, LINKS] = Field(
        None, description="the listing's thumbnail image URL (http or https)"
    )
    submitted_by: Text | None = Field(
        None, description="user name of who submitted it to the digest"
    )
    scraped_at: Annotated[UtcMoment, KEPT] = Field(description="when the page was read")
    linked_models: Annotated[Count | None, ADOPTION] = Field(
        None,
        description="models on the Hub that cite it, when last asked (its own API call);"
        " null until asked, or while the Hub has not indexed it",
    )
    linked_datasets: Annotated[Count | None, ADOPTION] = Field(
        None, description="datasets on the Hub that cite it, when last asked; null as above"
    )
    linked_spaces: Annotated[Count | None, ADOPTION] = Field(
        None, description="Spaces on the Hub that cite it, when last asked; null as above"
    )
    adoption_read_at: UtcMoment | None = Field(
        None, description="when the Hub was last asked what cites it (null: never)"
    )

    @model_validator(mode="after")
    def _published_before_listed(self) -> Paper:
        # arXiv publishes a paper before the digest lists it (a day or so);
        # a date well after its listing (a mirror's 9999-12-31) is no date.
        if (
            self.published_at is not None
            and self.published_at > self.listing_date + PUBLISHED_SLACK
        ):
            raise ValueError(
                f"published_at {self.published_at} is more than {PUBLISHED_SLACK.days} days"
                f" after its listing day {self.listing_date}"
            )
        return self

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


@functools.cache  # asked for each paper read: the answer never changes
def fields_in(group: Group | type[Group], model: type[BaseModel] = Paper) -> tuple[str, ...]:
    """The fields of ``model`` in ``group`` (or of any group of a class, such
    as ``Searched``), in field order.

    >>> fields_in(COUNTS), fields_in(LINKS)
    (('upvotes', 'num_comments', 'github_stars'), ('url', 'github_repo', 'project_page', 'thumbnail'))
    """
    return tuple(
        name
        for name, info in model.model_fields.items()
        if any(
            marker == group if isinstance(group, Group) else isinstance(marker, group)
            for marker in info.metadata
        )
    )


def search_weight(name: str) -> Searched:
    """The search marker of a text field."""
    (marker,) = [m for m in Paper.model_fields[name].metadata if isinstance(m, Searched)]
    return marker


#: What a re-crawl refreshes when the site gives a value (a value it does
#: not give, NULL, keeps the stored one).
REFRESHED: tuple[str, ...] = tuple(name for name in PAPER_FIELDS if name not in fields_in(KEPT))


@dataclass(frozen=True)
class Kind:
    """What a field holds, without ``| None`` and ``Annotated``."""

    #: ``str``, ``int``, ``bool``, ``dt.date``, ``dt.datetime``, ``list`` or
    #: a model class (a nested record).
    type: Any
    optional: bool = False
    #: A list's item kind.
    item: Kind | None = None
    #: A text's most characters, where the model bounds it.
    max_length: int | None = None


def kind_of(annotation: Any) -> Kind:
    """The ``Kind`` of an annotation.

    >>> kind_of(Paper.model_fields["ai_keywords"].annotation)
    Kind(type=<class 'list'>, optional=True, item=Kind(type=<class 'str'>, optional=False, item=None, max_length=None), max_length=None)
    """
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        (inner,) = [a for a in typing.get_args(annotation) if a is not type(None)]
        return dataclasses.replace(kind_of(inner), optional=True)
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation)
        return Kind(list, item=kind_of(item))
    return Kind(annotation)


def field_kinds(model: type[BaseModel]) -> dict[str, Kind]:
    """The ``Kind`` of each field of ``model``, with the length bound
    pydantic keeps beside the annotation."""
    kinds = {}
    for name, info in model.model_fields.items():
        lengths = [m.max_length for m in info.metadata if isinstance(m, MaxLen)]
        kinds[name] = dataclasses.replace(
            kind_of(info.annotation), max_length=lengths[0] if lengths else None
        )
    return kinds


#: What each field of ``Paper`` holds.
KINDS: dict[str, Kind] = field_kinds(Paper)


def field_table() -> str:
    """docs/archive.md's table of the record's fields, from the model (``python -m
    digest_crawler.paper`` prints it; a test holds the page to it)."""
    rows = ["| field | type | meaning |", "|---|---|---|"]
    for name, kind in KINDS.items():
        shown = {
            str: "string",
            int: "int ≥ 0",
            list: "list of strings",
            dt.date: "date `YYYY-MM-DD`",
            dt.datetime: "ISO 8601 UTC (`...Z`)",
        }[kind.type]
        description = Paper.model_fields[name].description
        rows.append(f"| `{name}` | {shown}{' or null' if kind.optional else ''} | {description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(field_table())
