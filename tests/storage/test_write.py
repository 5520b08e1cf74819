"""What storing a listing writes (``storage/write.py``), on SQLite and
PostgreSQL: every field, the re-crawl rules, upvote snapshots, rejected
papers, ranks of a day and of a week, the organization keys. Listings are
validated as the pipeline validates them and stored through the crawl's
session on the archive (``CrawlArchive``)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from digest_crawler import storage
from digest_crawler.items import Listing
from digest_crawler.paper import PAPER_FIELDS, Paper
from digest_crawler.periods import Period
from digest_crawler.storage import queries
from tests.storage.listings import NOW, Crawl, NewCrawl, listing, paper, rows, validated

D = dt.date


def test_storage_writes_every_field(database_url: str, crawl: NewCrawl) -> None:
    with crawl() as run:
        written = run.store(paper())
    (row,) = rows(database_url)
    assert {k: row[k] for k in PAPER_FIELDS} == Paper.model_validate(paper()).model_dump()
    assert row["first_seen_at"] == row["last_seen_at"] == row["changed_at"]
    assert row["first_seen_at"].tzinfo is not None and row["scraped_at"] == NOW
    assert written.new == 1 and written.papers == 1


def test_recrawl_updates_counts_and_text_keeps_first_seen_and_earliest_listing(
    database_url: str, crawl: NewCrawl
) -> None:
    with crawl() as run:
        run.store(paper(listing_date=D(2026, 7, 31)))
    (first,) = rows(database_url)
    with crawl() as run:
        written = run.store(
            paper(
                listing_date=D(2026, 8, 1),
                upvotes=300,
                num_comments=5,
                github_stars=9,
                title="AskChem v2",
                abstract=None,
            )
        )
    (second,) = rows(database_url)
    assert (second["upvotes"], second["num_comments"], second["github_stars"]) == (300, 5, 9)
    assert second["title"] == "AskChem v2"
    assert second["abstract"] == first["abstract"]  # a page that does not give it does not erase it
    assert second["listing_date"] == D(2026, 7, 31)  # the earliest listing date stays
    assert second["first_seen_at"] == first["first_seen_at"]
    assert second["last_seen_at"] > first["last_seen_at"]
    assert second["changed_at"] > first["changed_at"]
    assert (written.new, written.updated) == (0, 1)


def test_fields_a_fallback_page_does_not_give_keep_their_stored_values(
    database_url: str, crawl: NewCrawl
) -> None:
    """A day read from its cards (broken JSON) after a good read of it: no
    names, abstract, dates or links on the cards, and none is erased."""
    with crawl() as run:
        run.store(paper())
    (before,) = rows(database_url)
    cards = {
        name: paper()[name]
        for name in ("arxiv_id", "url", "title", "author_count", "listing_date", "upvotes")
    }
    with crawl() as run:
        run.store({**cards, "upvotes": 300, "scraped_at": NOW + dt.timedelta(days=1)})
    (after,) = rows(database_url)
    kept = ("authors", "abstract", "published_at", "submitted_at", "github_repo", "project_page")
    assert {name: after[name] for name in kept} == {name: before[name] for name in kept}
    assert after["authors"] == paper()["authors"] and after["upvotes"] == 300


def test_a_paper_without_author_names_is_stored_as_sql_null(
    database_url: str, crawl: NewCrawl
) -> None:
    with crawl() as run:
        run.store(paper(authors=None))
    engine = storage.make_reader(database_url)
    with engine.connect() as connection:
        nulls = connection.execute(
            sa.select(sa.func.count()).where(storage.papers.c.authors.is_(None))
        ).scalar()
    engine.dispose()
    assert nulls == 1


def test_a_value_the_columns_cannot_hold_costs_only_its_paper(
    database_url: str, crawl: NewCrawl
) -> None:
    with crawl() as run:
        run.store(
            paper(arxiv_id="2607.00001"),
            paper(arxiv_id="2607.00002", upvotes=2**63),
            paper(arxiv_id="2607.00003", github_stars=2**31),
            paper(arxiv_id="a" * 30 + "/0000001"),
            paper(arxiv_id="2607.00004"),
        )
    assert [row["arxiv_id"] for row in rows(database_url)] == ["2607.00001", "2607.00004"]
    rejected = rows(database_url, storage.rejected_items)
    assert [row["arxiv_id"] for row in rejected] == [
        "2607.00002",
        "2607.00003",
        "a" * 30 + "/0000001",
    ]
    (day,) = rows(database_url, storage.crawl_listings)
    assert (day["listing"], day["outcome"], day["papers"]) == (D(2026, 7, 31), "stored", 2)
    assert [row["rank"] for row in rows(database_url, storage.listings)] == [1, 5]


def test_unchanged_recrawl_does_not_move_changed_at(database_url: str, crawl: NewCrawl) -> None:
    with crawl() as run:
        run.store(paper())
    (first,) = rows(database_url)
    with crawl() as run:
        run.store(paper(scraped_at=NOW + dt.timedelta(days=1)))
    (second,) = rows(database_url)
    assert second["changed_at"] == first["changed_at"]
    assert second["last_seen_at"] > first["last_seen_at"]


def test_a_snapshot_is_added_only_when_a_paper_s_latest_counts_change(
    database_url: str, crawl: NewCrawl
) -> None:
    other = {"arxiv_id": "2607.16922", "url": "https://huggingface.co/papers/2607.16922"}
    crawls = [  # (the paper's counts, the other paper's counts) on each crawl
        ((292, 2, 8), (5, 0, None)),
        ((292, 2, 8), (5, 0, None)),  # nothing changed (a NULL equals a NULL)
        ((300, 2, 8), (292, 2, 8)),  # one changed; the other now shows the first's old counts
        ((292, 2, 8), (292, 2, 8)),  # back to counts of an older snapshot: still a change
    ]
    names = ("upvotes", "num_comments", "github_stars")
    added = []  # what each write says it added (digest/upvote_snapshots)
    for counts, other_counts in crawls:
        with crawl() as run:
            written = run.store(
                paper(**dict(zip(names, counts, strict=True))),
                paper(**other, **dict(zip(names, other_counts, strict=True))),
            )
        added.append(written.snapshots)
    assert added == [2, 0, 2, 1]
    history: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows(database_url, storage.upvote_snapshots):
        history.setdefault(row["arxiv_id"], []).append(tuple(row[name] for name in names))
    assert history == {
        "2607.28618": [(292, 2, 8), (300, 2, 8), (292, 2, 8)],
        "2607.16922": [(5, 0, None), (292, 2, 8)],
    }


def test_earlier_listing_date_replaces_a_later_one(database_url: str, crawl: NewCrawl) -> None:
    with crawl() as run:
        run.store(paper(listing_date=D(2026, 8, 1)))
    with crawl() as run:
        run.store(paper(listing_date=D(2026, 7, 31)))
    assert rows(database_url)[0]["listing_date"] == D(2026, 7, 31)


def test_rejected_papers_are_kept_with_page_url_reason_and_payload(
    database_url: str, crawl: NewCrawl
) -> None:
    with crawl() as run:
        run.store(paper(), paper(arxiv_id="2607.99999", upvotes=-4))
    (rejected,) = rows(database_url, storage.rejected_items)
    assert rejected["arxiv_id"] == "2607.99999"
    assert rejected["page_url"] == "http://127.0.0.1/papers/date/2026-07-31"
    assert "upvotes: Input should be greater than or equal to 0" in rejected["reason"]
    payload = json.loads(rejected["payload"])
    assert payload["upvotes"] == -4 and payload["title"].startswith("AskChem")
    assert len(rows(database_url)) == 1


def test_a_re_read_of_a_listing_keeps_no_second_copy_of_the_same_reject(
    database_url: str, crawl: NewCrawl
) -> None:
    """Each read of a day (six in the refresh schedule) finds the same bad
    paper: one row, until what the page gives of it changes. A paper with a
    lone surrogate compares as it is stored."""
    for upvotes in (-4, -4, -5):
        with crawl() as run:
            run.store(
                paper(),
                paper(arxiv_id="2607.99999", upvotes=upvotes),
                paper(arxiv_id="2607.0000\ud800", title="x\ud800y\x00"),
            )
    rejected = rows(database_url, storage.rejected_items)
    assert [(r["arxiv_id"], json.loads(r["payload"])["upvotes"]) for r in rejected] == [
        ("2607.99999", -4),
        ("2607.0000\\ud800", 292),
        ("2607.99999", -5),
    ]


def test_a_rejected_paper_holding_what_no_text_column_takes_costs_only_itself(
    database_url: str, crawl: NewCrawl
) -> None:
    """A lone surrogate (a JSON ``\\ud800`` escape) fails validation; the
    reject is stored with its payload intact, and so is the rest of the listing."""
    with crawl() as run:
        run.store(
            paper(arxiv_id="2607.00001"),
            paper(arxiv_id="2607.0000\ud800", title="x\ud800y\x00"),
            paper(arxiv_id="2607.00003"),
        )
    assert [row["arxiv_id"] for row in rows(database_url)] == ["2607.00001", "2607.00003"]
    (rejected,) = rows(database_url, storage.rejected_items)
    assert rejected["arxiv_id"] == "2607.0000\\ud800"
    assert json.loads(rejected["payload"])["title"] == "x\ud800y\x00"


def test_a_shorter_read_of_a_day_keeps_what_an_earlier_read_listed(
    database_url: str, crawl: NewCrawl
) -> None:
    day = [paper(arxiv_id=f"2607.{n:05d}") for n in range(5)]
    with crawl() as run:
        run.store(*day)
    with crawl() as run:
        written = run.store(day[0], day[3])  # a partial list (say, read early in the day)
    assert written.missing == 3
    listings = rows(database_url, storage.listings)
    assert [(r["arxiv_id"], r["rank"]) for r in listings] == [
        ("2607.00000", 1),
        ("2607.00001", 2),
        ("2607.00002", 3),
        ("2607.00003", 2),  # its rank on the latest read
        ("2607.00004", 5),
    ]
    assert len(rows(database_url)) == 5


def test_a_week_list_keeps_its_ranks_apart_from_the_days(
    database_url: str, crawl: NewCrawl
) -> None:
    """A week's list: each paper's rank in it, first and last seen; the
    papers filed under their own days; no day's ranks or reads touched."""
    with crawl(listings=[Period.parse("week", "2026-W31")], today=D(2026, 8, 2)) as run:
        week = Listing(
            day=D(2026, 7, 27),
            period="week",
            url="http://127.0.0.1/papers/week/2026-W31",
            outcome="served",
            papers=[paper(arxiv_id="2607.16922", listing_date=D(2026, 7, 30)), None, paper()],
        )
        run.store_listing(validated(week))
        # A later read of the week in which the ranks changed.
        again = Listing(
            day=D(2026, 7, 27),
            period="week",
            url=week.url,
            outcome="served",
            papers=[paper(), paper(arxiv_id="2607.16922", listing_date=D(2026, 7, 30))],
        )
        run.store_listing(validated(again))
    ranks = rows(database_url, storage.period_listings)
    assert [(r["period"], r["period_start"], r["arxiv_id"], r["rank"]) for r in ranks] == [
        ("week", D(2026, 7, 27), "2607.16922", 2),
        ("week", D(2026, 7, 27), "2607.28618", 1),
    ]
    assert all(r["first_seen_at"] < r["last_seen_at"] for r in ranks)
    assert {r["arxiv_id"]: r["listing_date"] for r in rows(database_url)} == {
        "2607.16922": D(2026, 7, 30),
        "2607.28618": D(2026, 7, 31),
    }
    assert rows(database_url, storage.listings) == []
    assert rows(database_url, storage.listing_days) == []
    (record,) = rows(database_url, storage.crawl_runs)
    assert (record["period"], record["first_listing"], record["complete"]) == (
        "week",
        D(2026, 7, 27),
        True,
    )
    (day,) = rows(database_url, storage.crawl_listings)
    assert (day["listing"], day["outcome"], day["papers"]) == (D(2026, 7, 27), "stored", 2)


def test_the_organization_keys_follow_the_names_they_are_made_of(
    database_url: str, crawl: NewCrawl
) -> None:
    with crawl() as run:
        run.store(paper(organization="École Polytechnique", organization_id="EcolePolytechnique"))
        run.store(paper(organization=None, organization_id=None))  # cards: names unknown
    (row,) = rows(database_url)
    assert (row["organization_key"], row["organization_id_key"]) == (
        "école polytechnique",
        "ecolepolytechnique",
    )
    with crawl() as run:
        run.store(paper(organization="ÉCOLE NORMALE", organization_id="ENS"))
    (row,) = rows(database_url)
    assert (row["organization_key"], row["organization_id_key"]) == ("école normale", "ens")
    engine = storage.make_reader(database_url)
    with engine.connect() as connection:
        found = connection.execute(
            queries.select_papers(queries.PaperFilter(organization="école NORMALE"))[0]
        ).all()
    engine.dispose()
    assert [r.arxiv_id for r in found] == ["2607.28618"]


def test_a_read_stored_again_at_its_own_moment_changes_the_archive_as_of_then(
    database_url: str, crawl: NewCrawl
) -> None:
    """``scrapy reparse``: a read older than the stored ones fills what is
    missing, never overwrites a newer read's value, takes its place among
    the paper's snapshots, and a second time changes nothing."""
    t1, t2, t3 = (NOW + dt.timedelta(hours=n) for n in (1, 2, 3))
    names = ("upvotes", "num_comments", "github_stars")
    with crawl() as run:
        store = run.archive.store
        store(validated(listing(paper(upvotes=10, abstract=None))), t1)
        store(validated(listing(paper(upvotes=30, title="Newest", abstract=None))), t3)
        repaired_at = t3 + dt.timedelta(days=30)
        older = validated(listing(paper(upvotes=20, title="Older", num_comments=None)))
        written = store(older, t2, repaired_at)
        assert (written.new, written.changed, written.snapshots) == (0, 1, 1)
        (row,) = rows(database_url)
        assert (row["title"], row["upvotes"], row["abstract"]) == (
            "Newest",
            30,
            paper()["abstract"],
        )
        assert (row["first_seen_at"], row["last_seen_at"], row["changed_at"]) == (
            t1,
            t3,
            repaired_at,
        )
        history = sorted(
            (snapshot["observed_at"], *(snapshot[name] for name in names))
            for snapshot in rows(database_url, storage.upvote_snapshots)
        )
        # The older read's comments were not given: the snapshot before it's.
        comments = paper()["num_comments"]
        stars = paper()["github_stars"]
        assert history == [
            (t1, 10, comments, stars),
            (t2, 20, comments, stars),
            (t3, 30, comments, stars),
        ]
        again = store(
            validated(listing(paper(upvotes=20, title="Older", num_comments=None))), t2, repaired_at
        )
        assert (again.changed, again.snapshots) == (0, 0)
        # The newest read, stored again: its rank and values stay the newest.
        newest = store(
            validated(listing(paper(upvotes=30, title="Newest", abstract=None))), t3, repaired_at
        )
        assert (newest.changed, newest.snapshots) == (0, 0)
    assert len(rows(database_url, storage.upvote_snapshots)) == 3


def test_sqlite_indexes_a_listing_s_papers_in_one_segment(tmp_path: Path) -> None:
    """The papers' upsert is one statement: SQLite's full-text index writes
    what its triggers gave it at the start of every statement, and a
    statement per paper wrote (and then merged) an index segment per paper."""
    url = f"sqlite:///{tmp_path / 'papers.sqlite'}"
    listed = [paper(arxiv_id=f"2607.{n:05d}", title=f"Paper {n} on quokkas") for n in range(30)]
    with Crawl(url) as run:
        run.store(*listed)
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        segments = connection.exec_driver_sql("SELECT DISTINCT segid FROM papers_fts_idx").all()
        found = connection.exec_driver_sql(
            "SELECT count(*) FROM papers_fts WHERE papers_fts MATCH 'quokkas'"
        ).scalar()
    engine.dispose()
    assert (len(segments), found) == (1, 30)
