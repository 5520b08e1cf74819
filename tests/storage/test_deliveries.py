"""What a watch matches (the readers' filter, the search index, the
author), what it delivered, and runs taking turns (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading

import sqlalchemy as sa

from digest_crawler.storage import deliveries, make_engine, papers, watch_deliveries
from digest_crawler.storage.queries import PaperFilter, reading
from digest_crawler.storage.search import search

AT = dt.datetime(2026, 8, 2, 21, 30, tzinfo=dt.UTC)


def test_matches_are_the_search_s_with_the_filters_newest_first(archive_url: str) -> None:
    chosen = PaperFilter(organization="KLING TEAM", min_upvotes=10)
    with reading(archive_url) as connection:
        found = deliveries.matches(connection, chosen, "abstract", None)
        searched = search(connection, "abstract", chosen, limit=10_000)
        everything = deliveries.matches(connection, PaperFilter(), None, None)
    assert {m.arxiv_id for m in found} == {m.arxiv_id for m in searched}
    assert found and all(m.organization == "Kling Team" and m.upvotes >= 10 for m in found)
    keys = [(m.listing_date, m.arxiv_id) for m in everything]
    assert keys == sorted(keys, reverse=True) and len(everything) == 20 * 50


def test_an_author_is_matched_by_the_whole_name_in_any_case(archive_url: str) -> None:
    with reading(archive_url) as connection:
        found = deliveries.matches(connection, PaperFilter(), None, "zoë  ünlü")
        one = deliveries.matches(connection, PaperFilter(), None, "Author 7")
        part = deliveries.matches(connection, PaperFilter(), None, "Zoë")
    # The archive helper's papers whose number is not a multiple of 3 have authors.
    assert len(found) == sum(1 for d in range(20) for n in range(50) if (d * 100 + n) % 3)
    assert [m.arxiv_id for m in one] == ["2607.00007"]
    assert part == []


def test_the_adoption_filters_are_the_readers_own(archive_url: str) -> None:
    engine = make_engine(archive_url)
    with engine.begin() as connection:
        connection.execute(
            sa.update(papers)
            .where(papers.c.arxiv_id.in_(["2607.00001", "2607.00002"]))
            .values(linked_models=30, linked_datasets=1, linked_spaces=0)
        )
    engine.dispose()
    with reading(archive_url) as connection:
        cited = deliveries.matches(connection, PaperFilter(min_models=25), None, None)
        none = deliveries.matches(connection, PaperFilter(min_spaces=1), None, None)
    assert [m.arxiv_id for m in cited] == ["2607.00002", "2607.00001"] and none == []


def test_what_was_delivered_is_recorded_once(archive_url: str) -> None:
    engine = make_engine(archive_url)
    try:
        with engine.begin() as connection:
            deliveries.record(connection, "a", "json://h/", {"2607.00001": "sent"}, AT)
            # Again, with another: the first row kept as it was.
            deliveries.record(
                connection, "a", "json://h/", {"2607.00001": "seen", "2607.00002": "seen"}, AT
            )
            deliveries.record(connection, "b", "json://h/", {"2607.00003": "sent"}, AT)
        with engine.connect() as connection:
            assert deliveries.delivered(connection, "a", "json://h/") == {
                "2607.00001",
                "2607.00002",
            }
            assert deliveries.delivered(connection, "a", "mailto://x/") == set()
            rows = connection.execute(
                sa.select(watch_deliveries.c.arxiv_id, watch_deliveries.c.how).where(
                    watch_deliveries.c.watch == "a"
                )
            ).all()
        assert sorted(map(tuple, rows)) == [("2607.00001", "sent"), ("2607.00002", "seen")]
    finally:
        engine.dispose()


def test_a_second_run_waits_for_the_first(archive_url: str) -> None:
    started, entered, release = threading.Event(), threading.Event(), threading.Event()

    def second() -> None:
        started.set()
        with deliveries.one_run_at_a_time(archive_url):
            entered.set()

    with deliveries.one_run_at_a_time(archive_url):
        thread = threading.Thread(target=second)
        thread.start()
        assert started.wait(10)
        assert not entered.wait(0.5)  # held by the first
        release.set()
    assert entered.wait(30)
    thread.join(30)
