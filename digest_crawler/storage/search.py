"""Full-text search over the archive (``scrapy search``): the best matches
of a query among the papers a ``PaperFilter`` chooses, relevance first.

The index is the one ``schema.py`` makes: SQLite's FTS5 table ``papers_fts``
(the query is FTS5's own syntax: words, ``"phrases"``, ``OR``, ``NOT``,
``prefix*``; one it cannot parse is a ``SearchError``) ranked by ``bm25()``
with the title weighed most; PostgreSQL's ``search_vector`` queried with
``websearch_to_tsquery`` (the syntax of a web search box, which never fails
to parse) ranked by ``ts_rank`` over its A/B/C weights.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from digest_crawler.outputs.controls import quoted
from digest_crawler.paper import search_weight
from digest_crawler.storage.migrate import search_index_missing
from digest_crawler.storage.queries import PaperFilter, narrowed, narrows
from digest_crawler.storage.schema import SEARCH_COLUMNS, SEARCH_TABLE, SEARCH_VECTOR, papers

#: What marks a matched word in a snippet, on both backends.
MARK = ("**", "**")
SNIPPET_WORDS = 16
#: The most characters of text (all of a paper's searched texts) FTS5's
#: ``snippet()`` is asked to cut a snippet from: its time grows with the
#: square of a text's matches (20,000 characters of one word: 0.1 s).
SNIPPET_TEXT_LIMIT = 20_000

# SQLite's index, and the ``papers`` row an entry of it indexes (its rowid).
_FTS = sa.table(SEARCH_TABLE, sa.column("rowid"))
_FTS_NAME: sa.ColumnElement[Any] = sa.literal_column(SEARCH_TABLE)
_ITS_PAPER: sa.ColumnElement[bool] = _FTS.c.rowid == sa.literal_column("papers.rowid")


class SearchError(Exception):
    """A one-line reason the query cannot be run (e.g. FTS5 cannot parse it)."""


@dataclass(frozen=True)
class Match:
    """One paper found, with a short snippet of where the query matched."""

    arxiv_id: str
    title: str
    url: str
    listing_date: dt.date
    upvotes: int
    organization: str | None
    snippet: str


def search(connection: Connection, query: str, chosen: PaperFilter, limit: int) -> list[Match]:
    """The ``limit`` best matches of ``query`` among the papers ``chosen``
    names: relevance first, then the newer listing, then ``arxiv_id``.

    Its cost follows the matches, not the archive: a filter's tables are
    read only when a filter is given (``queries.narrowed``), and a match's
    row and snippet only for the best ones.
    """
    missing = search_index_missing(connection)
    if missing is not None:
        raise SearchError(
            f"the archive's search index is damaged (it lacks {missing}):"
            " scrapy upgrade rebuilds it from the stored papers"
        )
    rows: Sequence[Row[*tuple[Any, ...]]]
    if connection.dialect.name == "sqlite":
        try:
            rows = _sqlite_search(connection, query, chosen, limit)
        except sa.exc.OperationalError:
            _check_fts5_query(connection, query)  # a SearchError if the query is at fault
            raise
    else:
        rows = connection.execute(_postgresql_search(query, chosen, limit)).all()
    matches = []
    for row in rows:
        snippet = row.snippet
        if snippet is None and connection.dialect.name == "sqlite":
            snippet = _long_snippet(connection, query, row.arxiv_id)
        fields = {name: row._mapping[name] for name in _FIELDS}
        matches.append(Match(**fields, snippet=" ".join((snippet or "").split())))
    return matches


def matching(dialect: str, query: str) -> sa.ColumnElement[bool]:
    """A condition on ``papers``: the paper matches ``query`` (every match,
    unranked: what a watch follows). Check the query with ``search`` first:
    FTS5 refuses one it cannot parse only when the statement runs."""
    if dialect == "sqlite":
        found = sa.select(_FTS.c.rowid).where(_FTS_NAME.op("MATCH")(query))
        return sa.literal_column("papers.rowid").in_(found.scalar_subquery())
    tsquery = sa.func.websearch_to_tsquery(sa.text("'english'::regconfig"), query)
    return sa.literal_column(f"papers.{SEARCH_VECTOR}").op("@@")(tsquery)


def _long_snippet(connection: Connection, query: str, arxiv_id: str) -> str:
    """The snippet of a paper whose texts are too long for FTS5's own
    ``snippet()`` (whose time grows with the square of the matches in a
    text: a minute for a megabyte of one word): the first matched word of
    the weightiest text that has one, with the words around it, from
    ``highlight()`` (whose time grows with the text)."""
    # Marks a stored text is unlikely to hold, made MARK's in the snippet.
    start, stop = "\x02", "\x03"
    for name in sorted(SEARCH_COLUMNS, key=lambda name: -search_weight(name).weight):
        column = SEARCH_COLUMNS.index(name)
        text = connection.execute(
            sa.select(sa.func.highlight(_FTS_NAME, column, start, stop))
            .select_from(_FTS.join(papers, _ITS_PAPER))
            .where(_FTS_NAME.op("MATCH")(query), papers.c.arxiv_id == arxiv_id)
        ).scalar()
        if text and start in text:
            words = text.split()
            first = next(i for i, word in enumerate(words) if start in word)
            begin = max(0, first - SNIPPET_WORDS // 3)
            shown = " ".join(words[begin : begin + SNIPPET_WORDS])
            cut = ("…" if begin else "", "…" if begin + SNIPPET_WORDS < len(words) else "")
            return (cut[0] + shown + cut[1]).replace(start, MARK[0]).replace(stop, MARK[1])
    return ""


def _check_fts5_query(connection: Connection, query: str) -> None:
    """A ``SearchError`` for a query FTS5 refuses (a lone quote, a bare
    ``AND``, ``self-supervised`` read as a column filter): asked on its own
    when the search failed, so that any other error of the search is not
    taken for the query's."""
    try:
        connection.exec_driver_sql(
            f"SELECT rowid FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH ? LIMIT 1", (query,)
        ).all()
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).splitlines()[0]
        raise SearchError(
            f"cannot parse the query {quoted(query)}: {reason[:200]} (FTS5 syntax: words,"
            ' "quoted phrases", OR, NOT, prefix*)'
        ) from None


#: The fields of a ``Match`` that are ``papers`` columns (all but the snippet).
_FIELDS = [field.name for field in dataclasses.fields(Match) if field.name != "snippet"]


def _columns() -> list[Any]:
    """The ``papers`` columns of a ``Match``."""
    return [papers.c[name] for name in _FIELDS]


def _sqlite_search(
    connection: Connection, query: str, chosen: PaperFilter, limit: int
) -> Sequence[Row[*tuple[Any, ...]]]:
    """The best matches, in two steps: FTS5 ranks every match alone (joined
    to ``papers`` only for a filter) and keeps the best ``limit`` with their
    ties; then only those are read, with their snippets, and put in order
    (relevance, the newer listing, ``arxiv_id``)."""
    ranked = _ranked()
    if narrows(chosen):
        ranked = narrowed(ranked.join(papers, _ITS_PAPER), chosen)
    # The best ``limit`` and every match that ties the last of them (which
    # of those come first is the listing date's and the id's to say).
    wanted = 2 * limit + 10
    while True:
        best = connection.execute(ranked, {"query": query, "wanted": wanted}).all()
        if len(best) < wanted or best[-1].score != best[limit - 1].score:
            break
        wanted *= 2
    if not best:
        return []
    last = best[min(limit, len(best)) - 1].score
    scores = {row.rowid: row.score for row in best if row.score <= last}
    rowids = list(scores)
    found = connection.execute(
        _read(), {"query": query, "rowids": rowids, "lo": min(rowids), "hi": max(rowids)}
    ).all()
    # SQLite compares text by its UTF-8 bytes, in the order of code points,
    # as Python compares strings.
    in_order = sorted(
        found, key=lambda r: (scores[r.rowid], -r.listing_date.toordinal(), r.arxiv_id)
    )
    return in_order[:limit]


# Built once: building them cost more than FTS5 takes to rank the matches
# of most queries.


@functools.cache
def _ranked() -> sa.Select[Any]:
    """The rowids and scores of the best ``wanted`` matches of ``query``."""
    # Each text's weight (``paper.Searched``): a word in the title outweighs the
    # same word in a long abstract.
    weights = [sa.literal(search_weight(name).weight) for name in SEARCH_COLUMNS]
    score = sa.func.bm25(_FTS_NAME, *weights).label("score")  # lower is better
    return (
        sa.select(_FTS.c.rowid, score)
        .select_from(_FTS)
        .where(_FTS_NAME.op("MATCH")(sa.bindparam("query")))
        .order_by(score)
        .limit(sa.bindparam("wanted", type_=sa.Integer))
    )


@functools.cache
def _read() -> sa.Select[Any]:
    """The ``Match`` columns and snippets of the matches of ``query`` whose
    rowids are ``rowids`` (from ``lo`` to ``hi``), read in one pass over the
    matches from ``lo`` to ``hi``: FTS5 would parse the query and seek its
    words anew for each rowid asked by itself (twice the time for 10)."""
    # Column -1: FTS5 picks the column whose snippet matches best; for texts
    # over SNIPPET_TEXT_LIMIT, _long_snippet (snippet() is quadratic).
    length: sa.ColumnElement[int] = sa.literal(0)
    for name in SEARCH_COLUMNS:
        length = length + sa.func.length(sa.func.coalesce(papers.c[name], ""))
    snippet = sa.case(
        (length <= SNIPPET_TEXT_LIMIT, sa.func.snippet(_FTS_NAME, -1, *MARK, "…", SNIPPET_WORDS)),
        else_=sa.null(),
    )
    rowids: sa.BindParameter[list[int]] = sa.bindparam("rowids", expanding=True)
    # (rowid + 0: a condition FTS5 is not given, which SQLite checks.)
    chosen = sa.and_(
        _FTS.c.rowid.between(sa.bindparam("lo"), sa.bindparam("hi")),
        (_FTS.c.rowid + 0).in_(rowids),
    )
    return (
        sa.select(*_columns(), snippet.label("snippet"), _FTS.c.rowid)
        .select_from(_FTS.join(papers, _ITS_PAPER))
        .where(_FTS_NAME.op("MATCH")(sa.bindparam("query")), chosen)
    )


def _postgresql_search(query: str, chosen: PaperFilter, limit: int) -> sa.Select[Any]:
    tsquery = sa.func.websearch_to_tsquery(sa.text("'english'::regconfig"), query)
    vector: sa.ColumnElement[Any] = sa.literal_column(f"papers.{SEARCH_VECTOR}")
    # The snippet is cut from the part of each text the index holds
    # (ts_headline, costly, runs after the limit: for the best matches only).
    text = sa.func.concat_ws(
        " — ",
        *(
            sa.func.left(papers.c[name], search_weight(name).indexed)
            for name in ("title", "abstract", "ai_summary")
        ),
    )
    options = f"StartSel={MARK[0]}, StopSel={MARK[1]}, MaxWords={SNIPPET_WORDS}, MinWords=6"
    snippet = sa.func.ts_headline(sa.text("'english'::regconfig"), text, tsquery, options)
    score = sa.func.ts_rank(vector, tsquery)
    statement = (
        sa.select(*_columns(), snippet.label("snippet"))
        .select_from(papers)
        .where(vector.op("@@")(tsquery))
    )
    return (
        narrowed(statement, chosen)
        .order_by(score.desc(), papers.c.listing_date.desc(), papers.c.arxiv_id)
        .limit(limit)
    )
