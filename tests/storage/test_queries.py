"""The readers' queries: each order and filter of ``scrapy export`` is served
by an index (no sort of the archive, no full scan where a filter names a
range or a value), on SQLite and PostgreSQL; week and month lists."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from digest_crawler.periods import Period
from digest_crawler.storage import queries
from tests.support.archive import make_archive

# Each named filter, and the index it must search (None: the default
# order's full read, in the listing date index's order).
FILTERS: dict[str, tuple[dict[str, Any], str]] = {
    "default": ({}, "ix_papers_listing_date"),
    "since-until": (
        {"since": dt.date(2026, 7, 30), "until": dt.date(2026, 7, 30)},
        "ix_papers_listing_date",
    ),
    "by-published": ({"by": "published"}, "ix_papers_published_at"),
    "by-published-since": (
        {"by": "published", "since": dt.date(2026, 7, 1)},
        "ix_papers_published_at",
    ),
    "organization": ({"organization": "Kling Team"}, "ix_papers_organization_key"),
    "week": ({"week": "2026-W31"}, "ix_period_listings_rank"),
}


def plan(connection: sa.Connection, query: sa.Select[Any]) -> str:
    sql = str(query.compile(connection.engine, compile_kwargs={"literal_binds": True}))
    if connection.dialect.name == "sqlite":
        return "\n".join(row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    return "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {sql}"))


@pytest.mark.parametrize("newest_first", [False, True], ids=["oldest-first", "newest-first"])
@pytest.mark.parametrize("name", FILTERS)
def test_every_export_order_and_filter_is_served_by_an_index(
    archive_url: str, name: str, newest_first: bool
) -> None:
    options, index = FILTERS[name]
    engine = sa.create_engine(archive_url)
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # On a small table the planner may rightly prefer a scan and a
            # sort; forbidding them shows that an index serves the query.
            connection.exec_driver_sql("ANALYZE")
            connection.exec_driver_sql("SET enable_seqscan = off")
            if name != "organization":
                connection.exec_driver_sql("SET enable_sort = off")
        chosen = queries.select_papers(queries.PaperFilter(**options), newest_first)
        assert chosen  # at least one query, each planned below
        for query in chosen:
            shown = plan(connection, query)
            assert index in shown, shown
            if connection.dialect.name == "sqlite":
                assert "SCAN papers\n" not in shown + "\n", shown  # never a scan without an index
                if name != "default":
                    assert "SCAN papers" not in shown, shown  # a search of the range or value
                if name != "organization":
                    assert "TEMP B-TREE" not in shown, shown
            else:
                assert "Seq Scan on papers" not in shown, shown
                if name != "organization":
                    assert "Sort" not in shown, shown
    engine.dispose()


def test_sqlite_archives_have_no_index_of_lower(tmp_path: Path) -> None:
    """SQLite's lower() knows ASCII only and the reader replaces it: an index
    of it would find no "École" for "école". The organization filter reads
    keys the writer lowered in Python instead (above)."""
    url = f"sqlite:///{tmp_path / 'papers.sqlite'}"
    make_archive(url, days=1, per_day=2)
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        definitions: dict[str, str] = dict(
            connection.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            ).all()
        )
    engine.dispose()
    assert "ix_papers_organization_key" in definitions  # the organization filter's own
    assert not [sql for sql in definitions.values() if "lower(" in sql.lower()]


def test_exports_come_in_index_order_on_both_backends(archive_url: str) -> None:
    rows = make_rows(archive_url, {})
    keys = [(r.listing_date, r.arxiv_id) for r in rows]
    assert keys == sorted(keys) and len(rows) == 1000
    newest = make_rows(archive_url, {}, newest_first=True)
    assert [r.arxiv_id for r in newest] == [r.arxiv_id for r in reversed(rows)]
    published = make_rows(archive_url, {"by": "published"})
    dated = [r for r in published if r.published_at is not None]
    assert dated and published[: len(dated)] == dated  # undated last
    assert [(r.published_at, r.arxiv_id) for r in dated] == sorted(
        (r.published_at, r.arxiv_id) for r in dated
    )
    undated = [r.arxiv_id for r in published[len(dated) :]]
    assert undated == sorted(undated) and undated
    # A feed's order: the newest dated first, the undated still last.
    newest_published = make_rows(archive_url, {"by": "published"}, newest_first=True)
    assert [r.arxiv_id for r in newest_published] == [
        *(r.arxiv_id for r in reversed(dated)),
        *reversed(undated),
    ]


def test_a_week_comes_in_rank_order_with_ranks(archive_url: str) -> None:
    rows = make_rows(archive_url, {"week": "2026-W31"})
    assert [r.rank for r in rows] == list(range(1, 11))
    assert [r.upvotes for r in rows] == sorted((r.upvotes for r in rows), reverse=True)
    popular = make_rows(archive_url, {"week": "2026-W31", "min_upvotes": 110})
    assert [r.rank for r in popular] == [r.rank for r in rows if r.upvotes >= 110] and popular
    assert make_rows(archive_url, {"week": "2026-W30"}) == []
    days = make_rows(archive_url, {"since": dt.date(2026, 8, 1)})
    assert days and all(r.rank is None for r in days)
    engine = sa.create_engine(archive_url)
    with engine.connect() as connection:
        assert queries.list_is_stored(connection, Period("week", dt.date(2026, 7, 27)))
        assert not queries.list_is_stored(connection, Period("month", dt.date(2026, 7, 1)))
    engine.dispose()


def make_rows(url: str, options: dict[str, Any], newest_first: bool = False) -> list[Any]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return [
                row
                for chunk in queries.paper_chunks(
                    connection, queries.PaperFilter(**options), size=100, newest_first=newest_first
                )
                for row in chunk
            ]
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"week": "2026-W54"}, "'2026-W54' is not a week (2026 has 53 ISO weeks)"),
        ({"week": "2025-W53"}, "'2025-W53' is not a week (2025 has 52 ISO weeks)"),
        ({"week": "2026-5"}, "'2026-5' is not a week (expected YYYY-Www)"),
        ({"month": "2026-13"}, "'2026-13' is not a month (expected YYYY-MM)"),
        ({"month": "2026-00"}, "'2026-00' is not a month"),
        ({"week": dt.date(2026, 7, 28)}, "2026-07-28 is not the first day of a week"),
        ({"month": dt.date(2026, 7, 2)}, "2026-07-02 is not the first day of a month"),
    ],
)
def test_bad_weeks_and_months_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        queries.PaperFilter(**options)


def test_weeks_and_months_name_their_first_day() -> None:
    chosen = queries.PaperFilter(week="2026-W01")
    assert chosen.week == dt.date(2025, 12, 29) and chosen.period == Period("week", chosen.week)
    assert queries.PaperFilter(month="2026-02").period == Period("month", dt.date(2026, 2, 1))
    assert queries.PaperFilter().period is None
