"""What the trend report (``scrapy report``) shows, read from the archive:
papers per listing day, the top papers with their upvote curves, the
leading organizations, and the keywords that rose the most.

Every figure is over the papers a ``PaperFilter`` chooses (by the listing
date: the day a paper was first listed), aggregated by the database except
the keywords (JSON lists, counted here).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from digest_crawler.storage.queries import PaperFilter, histories, paper_ids
from digest_crawler.storage.schema import papers

TOP_PAPERS = 10
TOP_ORGANIZATIONS = 10
TOP_KEYWORDS = 10


@dataclass(frozen=True)
class TopPaper:
    """One of the span's most upvoted papers, with its upvote snapshots."""

    arxiv_id: str
    title: str
    url: str
    organization: str | None
    listing_date: dt.date
    upvotes: int
    #: (observed at, upvotes), oldest first.
    curve: list[tuple[dt.datetime, int]]


@dataclass(frozen=True)
class Organization:
    name: str
    papers: int
    upvotes: int


@dataclass(frozen=True)
class RisingKeyword:
    """A keyword's papers in the first and the second half of the span."""

    keyword: str
    before: int
    after: int

    @property
    def rise(self) -> int:
        return self.after - self.before


@dataclass(frozen=True)
class Trends:
    """Everything the report shows; ``first``/``last`` are None for an empty span."""

    first: dt.date | None
    last: dt.date | None
    per_day: list[tuple[dt.date, int]]
    top: list[TopPaper]
    organizations: list[Organization]
    #: None: no paper of the span has keywords (the site made none, or the
    #: papers were stored before keywords were kept).
    keywords: list[RisingKeyword] | None
    #: The two halves the keywords are compared over; None for a one-day span.
    halves: tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]] | None

    @property
    def papers(self) -> int:
        return sum(count for _, count in self.per_day)


def trends(connection: Connection, chosen: PaperFilter) -> Trends:
    """The report's figures over the papers ``chosen`` names (its dates are
    listing dates). The span is ``chosen.since``..``chosen.until`` where
    given, within a list's period where one is named, else the listing
    dates of the papers found."""
    if chosen.by != "listing":
        raise ValueError("the report's figures are by listing date")
    mine = papers.c.arxiv_id.in_(paper_ids(chosen).scalar_subquery())
    per_day = [
        (row.listing_date, row.papers)
        for row in connection.execute(
            sa.select(papers.c.listing_date, sa.func.count().label("papers"))
            .where(mine)
            .group_by(papers.c.listing_date)
            .order_by(papers.c.listing_date)
        )
    ]
    # The span: --since..--until within a list's days, else the days its
    # papers were listed on (first after last: a span of no day).
    period = chosen.period
    first = max((d for d in (chosen.since, period and period.start) if d), default=None)
    last = min((d for d in (chosen.until, period and period.end) if d), default=None)
    if not per_day:
        return Trends(first, last, [], [], [], None, None)
    first, last = first or per_day[0][0], last or per_day[-1][0]
    halves = _halves(first, last)
    return Trends(
        first=first,
        last=last,
        per_day=per_day,
        top=_top_papers(connection, mine),
        organizations=_organizations(connection, mine),
        keywords=_rising_keywords(connection, mine, halves),
        halves=halves,
    )


def _halves(
    first: dt.date, last: dt.date
) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]] | None:
    """The span cut in two at its middle day (the second half one day longer
    when the span has an odd number of days); None for a single day.

    >>> _halves(dt.date(2026, 7, 1), dt.date(2026, 7, 31))[1]
    (datetime.date(2026, 7, 16), datetime.date(2026, 7, 31))
    """
    days = (last - first).days + 1
    if days < 2:
        return None
    middle = first + dt.timedelta(days=days // 2)
    return (first, middle - dt.timedelta(days=1)), (middle, last)


def _top_papers(connection: Connection, mine: sa.ColumnElement[bool]) -> list[TopPaper]:
    columns = [papers.c[f.name] for f in dataclasses.fields(TopPaper) if f.name != "curve"]
    rows = connection.execute(
        sa.select(*columns)
        .where(mine)
        .order_by(papers.c.upvotes.desc(), papers.c.arxiv_id)
        .limit(TOP_PAPERS)
    ).all()
    history = histories(connection, [row.arxiv_id for row in rows])
    return [
        TopPaper(
            **row._asdict(),
            curve=[(s.observed_at, s.upvotes) for s in history[row.arxiv_id].snapshots],
        )
        for row in rows
    ]


def _organizations(connection: Connection, mine: sa.ColumnElement[bool]) -> list[Organization]:
    name = sa.func.coalesce(papers.c.organization, papers.c.organization_id)
    count = sa.func.count()
    upvotes = sa.func.sum(papers.c.upvotes)
    rows = connection.execute(
        sa.select(name.label("name"), count.label("papers"), upvotes.label("upvotes"))
        .where(mine, name.is_not(None))
        .group_by(name)
        .order_by(count.desc(), upvotes.desc(), name)
        .limit(TOP_ORGANIZATIONS)
    )
    return [Organization(row.name, row.papers, int(row.upvotes)) for row in rows]


def _rising_keywords(
    connection: Connection,
    mine: sa.ColumnElement[bool],
    halves: tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]] | None,
) -> list[RisingKeyword] | None:
    """The keywords on more papers in the second half of the span than in
    the first, most risen first (each paper counts a keyword once, any case)."""
    rows = connection.execute(
        sa.select(papers.c.listing_date, papers.c.ai_keywords).where(
            mine, papers.c.ai_keywords.is_not(None)
        )
    ).all()
    if not rows:
        return None
    if halves is None:
        return []
    counts: tuple[Counter[str], Counter[str]] = (Counter(), Counter())
    for day, keywords in rows:
        half = counts[0] if day < halves[1][0] else counts[1]
        half.update({keyword.strip().lower() for keyword in _as_list(keywords)} - {""})
    risen = [
        RisingKeyword(keyword, counts[0][keyword], counts[1][keyword])
        for keyword in counts[1]
        if counts[1][keyword] > counts[0][keyword]
    ]
    risen.sort(key=lambda k: (-k.rise, -k.after, k.keyword))
    return risen[:TOP_KEYWORDS]


def _as_list(value: Any) -> list[str]:
    """A stored keyword list (JSON text on some drivers) as a list of strings."""
    if isinstance(value, str):
        value = json.loads(value)
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []
