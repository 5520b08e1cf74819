"""What the trend report (``scrapy report``) shows, read from the archive:
papers per listing day (and per week or month, ``tally``), the top papers
and the upvote curves of those read more than once, the leading
organizations, and the keywords whose share of papers rose the most.

Every figure is over the papers a ``PaperFilter`` chooses (by the listing
date: the day a paper was first listed), aggregated by the database except
the keywords (JSON lists, counted here).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from digest_crawler.periods import Kind, Period
from digest_crawler.storage.queries import PaperFilter, histories, paper_ids
from digest_crawler.storage.schema import papers, upvote_snapshots

TOP_PAPERS = 10
#: Papers whose upvotes over time the report draws: more lines are a tangle.
CURVES = 5
TOP_ORGANIZATIONS = 10
TOP_KEYWORDS = 10
#: The papers with keywords each half of the span needs before their
#: keywords are compared: fewer, and a paper more or less is a big change.
KEYWORD_PAPERS = 30
#: The papers of the second half a keyword needs to count as rising.
KEYWORD_MIN = 3
#: How sure a rise must be: the growth of a keyword's share at least this
#: many standard errors (a two-proportion z-test; 3: a chance of about 1 in 700
#: each keyword, so that of the many keywords of a span few rise by chance).
KEYWORD_Z = 3.0
#: The longest span tallied by day, and by week; longer ones by month.
DAYS_BY_DAY = 14
DAYS_BY_WEEK = 92


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
class AdoptedPaper:
    """One of the span's most adopted papers: the models, datasets and
    Spaces that cite it as last asked, and as first asked (its oldest
    adoption snapshot) with when."""

    arxiv_id: str
    title: str
    url: str
    linked_models: int | None
    linked_datasets: int | None
    linked_spaces: int | None
    first_read: dt.datetime | None = None
    first: tuple[int | None, int | None, int | None] = (None, None, None)

    @property
    def total(self) -> int:
        return sum(
            count or 0 for count in (self.linked_models, self.linked_datasets, self.linked_spaces)
        )

    @property
    def first_total(self) -> int:
        return sum(count or 0 for count in self.first)


@dataclass(frozen=True)
class Organization:
    name: str
    papers: int
    upvotes: int


@dataclass(frozen=True)
class RisingKeyword:
    """A keyword's share of the papers with keywords in the first and the
    second half of the span (``before`` of ``before_of`` papers, ...)."""

    keyword: str
    before: int
    after: int
    before_of: int
    after_of: int

    @property
    def shares(self) -> tuple[float, float]:
        return self.before / self.before_of, self.after / self.after_of

    @property
    def rise(self) -> float:
        """In percentage points."""
        before, after = self.shares
        return 100 * (after - before)


@dataclass(frozen=True)
class Tally:
    """The papers of one day, week or month of the span."""

    period: Period
    listing_days: int
    papers: int
    #: The span holds the whole period (not a week or month cut by its ends).
    whole: bool


@dataclass(frozen=True)
class Trends:
    """Everything the report shows; ``first``/``last`` are None for an empty span."""

    first: dt.date | None
    last: dt.date | None
    per_day: list[tuple[dt.date, int]]
    top: list[TopPaper]
    #: The most upvoted papers read more than once (the curves drawn).
    curves: list[TopPaper]
    organizations: list[Organization]
    #: None: no paper of the span has keywords (the site made none, or the
    #: papers were stored before keywords were kept).
    keywords: list[RisingKeyword] | None
    #: The two halves the keywords are compared over; None for a one-day span.
    halves: tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]] | None
    #: The papers with keywords in each half (None as ``halves``); fewer
    #: than ``KEYWORD_PAPERS`` in a half: ``keywords`` is empty.
    keyword_papers: tuple[int, int] | None = None
    #: The most adopted papers (cited by the most models, datasets and
    #: Spaces together); empty when no paper of the span was asked.
    adopted: list[AdoptedPaper] = dataclasses.field(default_factory=list)

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
        return Trends(first, last, [], [], [], [], None, None)
    first, last = first or per_day[0][0], last or per_day[-1][0]
    halves = _halves(first, last)
    top, curves = _top_papers(connection, mine)
    keywords, keyword_papers = _rising_keywords(connection, mine, halves)
    return Trends(
        first=first,
        last=last,
        per_day=per_day,
        top=top,
        curves=curves,
        organizations=_organizations(connection, mine),
        keywords=keywords,
        halves=halves,
        keyword_papers=keyword_papers,
        adopted=_adopted(connection, mine),
    )


def tally(trends: Trends) -> tuple[Kind, list[Tally]]:
    """The span's papers by listing day, by ISO week or by month, whichever
    keeps the list short: by day up to ``DAYS_BY_DAY`` days, by week up to
    ``DAYS_BY_WEEK``. Weeks and months run from the first listing day's to
    the last one's, a period without papers included (as 0).

    >>> d = dt.date
    >>> found = Trends(d(2026, 7, 1), d(2026, 8, 5), [(d(2026, 7, 2), 3), (d(2026, 7, 6), 4),
    ...     (d(2026, 8, 3), 5)], [], [], [], None, None)
    >>> kind, counts = tally(found)
    >>> kind, [(c.period.key, c.listing_days, c.papers, c.whole) for c in counts]
    ... # doctest: +NORMALIZE_WHITESPACE
    ('week', [('2026-W27', 1, 3, False), ('2026-W28', 1, 4, True), ('2026-W29', 0, 0, True),
      ('2026-W30', 0, 0, True), ('2026-W31', 0, 0, True), ('2026-W32', 1, 5, False)])
    """
    if trends.first is None or trends.last is None or not trends.per_day:
        return "day", []
    first, last = trends.per_day[0][0], trends.per_day[-1][0]
    if (last - first).days < DAYS_BY_DAY:
        return "day", [Tally(Period("day", day), 1, n, True) for day, n in trends.per_day]
    kind: Kind = "week" if (last - first).days < DAYS_BY_WEEK else "month"
    counts: dict[Period, tuple[int, int]] = {}
    for day, count in trends.per_day:
        listed, total = counts.get(Period.containing(kind, day), (0, 0))
        counts[Period.containing(kind, day)] = (listed + 1, total + count)
    return kind, [
        Tally(
            period,
            *counts.get(period, (0, 0)),
            whole=trends.first <= period.start and period.end <= trends.last,
        )
        for period in Period.touching(kind, first, last)
    ]


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


def _top_papers(
    connection: Connection, mine: sa.ColumnElement[bool]
) -> tuple[list[TopPaper], list[TopPaper]]:
    """The most upvoted papers, and the most upvoted of those with more than
    one snapshot (a backfill reads a day once: its papers have no curve)."""
    columns = [papers.c[f.name] for f in dataclasses.fields(TopPaper) if f.name != "curve"]
    ranked = sa.select(*columns).order_by(papers.c.upvotes.desc(), papers.c.arxiv_id)
    read_again = (
        sa.select(upvote_snapshots.c.arxiv_id)
        .group_by(upvote_snapshots.c.arxiv_id)
        .having(sa.func.count() > 1)
    )
    top = list(connection.execute(ranked.where(mine).limit(TOP_PAPERS)))
    curves = list(
        connection.execute(ranked.where(mine, papers.c.arxiv_id.in_(read_again)).limit(CURVES))
    )
    history = histories(connection, list({row.arxiv_id: None for row in top + curves}))
    found = {
        row.arxiv_id: TopPaper(
            **row._asdict(),
            curve=[(s.observed_at, s.upvotes) for s in history[row.arxiv_id].snapshots],
        )
        for row in top + curves
    }
    return [found[row.arxiv_id] for row in top], [found[row.arxiv_id] for row in curves]


def _adopted(connection: Connection, mine: sa.ColumnElement[bool]) -> list[AdoptedPaper]:
    """The papers cited by the most models, datasets and Spaces together
    (the ones never asked left out), with their first adoption snapshot."""
    counts = [papers.c[name] for name in ("linked_models", "linked_datasets", "linked_spaces")]
    total = sum((sa.func.coalesce(count, 0) for count in counts), sa.literal(0))
    rows = list(
        connection.execute(
            sa.select(papers.c.arxiv_id, papers.c.title, papers.c.url, *counts)
            .where(mine, sa.or_(*(count.is_not(None) for count in counts)))
            .order_by(total.desc(), papers.c.arxiv_id)
            .limit(TOP_PAPERS)
        )
    )
    history = histories(connection, [row.arxiv_id for row in rows])
    adopted = []
    for row in rows:
        first = history[row.arxiv_id].adoption[:1]
        adopted.append(
            AdoptedPaper(
                **row._asdict(),
                first_read=first[0].observed_at if first else None,
                first=(
                    (first[0].linked_models, first[0].linked_datasets, first[0].linked_spaces)
                    if first
                    else (None, None, None)
                ),
            )
        )
    return adopted


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
) -> tuple[list[RisingKeyword] | None, tuple[int, int] | None]:
    """The keywords whose share of the papers with keywords grew from the
    first half of the span to the second by more than chance would (see
    ``KEYWORD_Z``; on ``KEYWORD_MIN`` papers of the second half at least),
    most risen first, each paper counting a keyword once, in any case; and
    how many papers with keywords each half has. Shares, not counts: the
    halves seldom have as many papers. None when no paper has keywords; no
    keyword when a half has too few papers to compare."""
    rows = connection.execute(
        sa.select(papers.c.listing_date, papers.c.ai_keywords).where(
            mine, papers.c.ai_keywords.is_not(None)
        )
    ).all()
    if not rows:
        return None, None
    if halves is None:
        return [], None
    counts: tuple[Counter[str], Counter[str]] = (Counter(), Counter())
    totals = [0, 0]
    for day, keywords in rows:
        half = 0 if day < halves[1][0] else 1
        found = {keyword.strip().lower() for keyword in _as_list(keywords)} - {""}
        if found:
            totals[half] += 1
            counts[half].update(found)
    before_of, after_of = totals
    if min(totals) < KEYWORD_PAPERS:
        return [], (before_of, after_of)
    risen = [
        RisingKeyword(keyword, counts[0][keyword], after, before_of, after_of)
        for keyword, after in counts[1].items()
        if after >= KEYWORD_MIN and _z(counts[0][keyword], before_of, after, after_of) >= KEYWORD_Z
    ]
    risen.sort(key=lambda k: (-k.rise, -k.after, k.keyword))
    return risen[:TOP_KEYWORDS], (before_of, after_of)


def _z(before: int, before_of: int, after: int, after_of: int) -> float:
    """How many standard errors the share ``after / after_of`` is above
    ``before / before_of`` (pooled two-proportion z statistic).

    >>> round(_z(10, 100, 30, 100), 1), round(_z(1, 10, 2, 10), 1), _z(5, 5, 9, 9)
    (3.5, 0.6, 0.0)
    """
    pooled = (before + after) / (before_of + after_of)
    spread = pooled * (1 - pooled) * (1 / before_of + 1 / after_of)
    return (after / after_of - before / before_of) / math.sqrt(spread) if spread else 0.0


def _as_list(value: Any) -> list[str]:
    """A stored keyword list (JSON text on some drivers) as a list of strings."""
    if isinstance(value, str):
        value = json.loads(value)
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []
