"""The pipelines: validation alone, and a listing through validation and
storage against SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from digest_crawler import storage
from digest_crawler.items import Listing
from digest_crawler.paper import COUNT_MAX, PAPER_FIELDS, Paper
from digest_crawler.pipelines import StoragePipeline, ValidatePipeline
from digest_crawler.spiders.daily import DailySpider
from digest_crawler.storage import queries
from digest_crawler.storage.archive import CrawlArchive
from tests.support.crawler import make_crawler

D = dt.date
NOW = dt.datetime(2026, 11, 26, 6, 0, tzinfo=dt.UTC)
DAYS = (D(2026, 7, 30), D(2026, 8, 1))


def paper(**changes: Any) -> dict[str, Any]:
    """One paper's fields as the loader gives them (the real 2026-07-31 entry)."""
    fields = {
        "arxiv_id": "2607.28618",
        "url": "https://huggingface.co/papers/2607.28618",
        "title": "AskChem: Claim-Centered Infrastructure for Chemistry Literature Synthesis",
        "abstract": "Chemistry literature synthesis often requires assembling specific findings.",
        "authors": ["Bing Yan", "Gregory Wolfe", "Stefano Martiniani", "Kyunghyun Cho"],
        "author_count": 4,
        "organization": "New York University",
        "organization_id": "newyorkuniversity",
        "published_at": D(2026, 7, 30),
        "listing_date": D(2026, 7, 31),
        "submitted_at": dt.datetime(2026, 7, 31, tzinfo=dt.UTC),
        "upvotes": 292,
        "num_comments": 2,
        "github_repo": "https://github.com/bingyan4science/askchem",
        "github_stars": 8,
        "project_page": "https://www.askchem.org",
        "submitted_by": "bing-yan",
        "scraped_at": NOW,
    }
    fields.update(changes)
    return {name: value for name, value in fields.items() if value is not None}


def listing(*papers: dict[str, Any], day: dt.date | None = None) -> Listing:
    day = day or papers[0]["listing_date"]
    return Listing(
        day=day,
        url=f"http://127.0.0.1/papers/date/{day}",
        outcome="served",
        papers=list(papers),
    )


def validated(*papers: dict[str, Any]) -> tuple[Listing, dict[str, Any]]:
    crawler = make_crawler()
    item = ValidatePipeline.from_crawler(crawler).process_item(listing(*papers))
    return item, {
        k.removeprefix("digest/"): v
        for k, v in crawler.stats.get_stats().items()
        if k.startswith("digest/")
    }


# -- validation -------------------------------------------------------------


def test_valid_papers_go_on_with_their_rank() -> None:
    item, stats = validated(paper(), paper(arxiv_id="2607.16922"))
    assert [(rank, p.arxiv_id) for rank, p in item.valid] == [(1, "2607.28618"), (2, "2607.16922")]
    assert item.rejected == [] and stats == {}
    assert item.valid[0][1] == Paper.model_validate(paper())


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"arxiv_id": None}, "arxiv_id: Field required"),
        ({"arxiv_id": "not-an-id"}, "arxiv_id: String should match pattern"),
        ({"arxiv_id": "a" * 40 + "/0000001"}, "arxiv_id: String should have at most 32 characters"),
        ({"title": None}, "title: Field required"),
        ({"upvotes": -1}, "upvotes: Input should be greater than or equal to 0"),
        ({"upvotes": 2**63}, f"upvotes: Input should be less than or equal to {COUNT_MAX}"),
        ({"github_stars": 2**31}, "github_stars: Input should be less than or equal to"),
        ({"upvotes": None}, "upvotes: Field required"),
        ({"listing_date": None}, "listing_date: Field required"),
        ({"published_at": "sometime"}, "published_at: Input should be a valid date"),
        ({"author_count": 2}, "author_count 2 is less than the 4 names listed"),
        ({"scraped_at": dt.datetime(2026, 11, 26, 6, 0)}, "scraped_at"),
    ],
)
def test_invalid_papers_are_kept_aside_with_a_reason_and_counted(
    changes: dict[str, Any], reason: str
) -> None:
    item, stats = validated(paper(arxiv_id="2607.00001"), paper(**changes))
    assert [p.arxiv_id for _, p in item.valid] == ["2607.00001"]  # the rest of the listing goes on
    (rejected,) = item.rejected
    assert reason in rejected.reason and "\n" not in rejected.reason
    assert rejected.payload == paper(**changes)
    assert stats == {"rejected_items": 1}


def test_a_paper_listed_twice_is_kept_once_at_its_first_rank() -> None:
    item, stats = validated(paper(), paper(arxiv_id="2607.16922"), paper(upvotes=300))
    assert [(rank, p.arxiv_id, p.upvotes) for rank, p in item.valid] == [
        (1, "2607.28618", 292),
        (2, "2607.16922", 292),
    ]
    assert stats == {"duplicate_items": 1}


# -- storage ------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'papers.sqlite'}"
    else:
        yield request.getfixturevalue("postgres_url")


class Run:
    """One crawl's pipelines, driven the way Scrapy drives them."""

    def __init__(self, database_url: str, days: tuple[dt.date, dt.date] = DAYS) -> None:
        self.crawler = make_crawler(DIGEST_DATABASE_URL=database_url)
        self.spider = DailySpider.from_crawler(self.crawler, start=str(days[0]), end=str(days[1]))
        self.crawler.spider = self.spider
        self.validate = ValidatePipeline.from_crawler(self.crawler)
        self.storage = StoragePipeline.from_crawler(self.crawler)
        self.finish_reason = "finished"

    def __enter__(self) -> Run:
        self.storage.open_spider()
        return self

    @property
    def archive(self) -> CrawlArchive:
        assert self.storage.archive is not None
        return self.storage.archive

    def store(self, *papers: dict[str, Any], day: dt.date | None = None) -> Listing:
        stored: Listing = self.storage.process_item(
            self.validate.process_item(listing(*papers, day=day))
        )
        return stored

    def record(self, day: dt.date, outcome: str, reason: str) -> None:
        url = f"http://127.0.0.1/papers/date/{day}"
        self.storage.process_item(Listing(day=day, url=url, outcome=outcome, reason=reason))  # type: ignore[arg-type]

    def __exit__(self, *exc: object) -> None:
        self.storage.spider_closed(self.spider, self.finish_reason)

    def stat(self, name: str) -> Any:
        return self.crawler.stats.get_value(f"digest/{name}")


def rows(database_url: str, table: sa.Table = storage.papers) -> list[dict[str, Any]]:
    engine = storage.make_reader(database_url)
    try:
        with engine.connect() as connection:
            return [
                dict(r._mapping)
                for r in connection.execute(sa.select(table).order_by(*table.primary_key))
            ]
    finally:
        engine.dispose()


def test_storage_writes_every_field(database_url: str) -> None:
    with Run(database_url) as run:
        run.store(paper())
    (row,) = rows(database_url)
    assert {k: row[k] for k in PAPER_FIELDS} == Paper.model_validate(paper()).model_dump()
    assert row["first_seen_at"] == row["last_seen_at"] == row["changed_at"]
    assert row["first_seen_at"].tzinfo is not None and row["scraped_at"] == NOW
    assert run.stat("papers_new") == 1 and run.stat("papers_stored") == 1


def test_recrawl_updates_counts_and_text_keeps_first_seen_and_earliest_listing(
    database_url: str,
) -> None:
    with Run(database_url) as run:
        run.store(paper(listing_date=D(2026, 7, 31)))
    (first,) = rows(database_url)
    with Run(database_url) as run:
        run.store(
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
    assert (run.stat("papers_new"), run.stat("papers_updated")) == (0, 1)


def test_fields_a_fallback_page_does_not_give_keep_their_stored_values(database_url: str) -> None:
    """A day read from its cards (broken JSON) after a good read of it: no
    names, abstract, dates or links on the cards, and none is erased."""
    with Run(database_url) as run:
        run.store(paper())
    (before,) = rows(database_url)
    cards = {
        name: paper()[name]
        for name in ("arxiv_id", "url", "title", "author_count", "listing_date", "upvotes")
    }
    with Run(database_url) as run:
        run.store({**cards, "upvotes": 300, "scraped_at": NOW + dt.timedelta(days=1)})
    (after,) = rows(database_url)
    kept = ("authors", "abstract", "published_at", "submitted_at", "github_repo", "project_page")
    assert {name: after[name] for name in kept} == {name: before[name] for name in kept}
    assert after["authors"] == paper()["authors"] and after["upvotes"] == 300


def test_a_paper_without_author_names_is_stored_as_sql_null(database_url: str) -> None:
    with Run(database_url) as run:
        run.store(paper(authors=None))
    engine = storage.make_reader(database_url)
    with engine.connect() as connection:
        nulls = connection.execute(
            sa.select(sa.func.count()).where(storage.papers.c.authors.is_(None))
        ).scalar()
    engine.dispose()
    assert nulls == 1


def test_a_value_the_columns_cannot_hold_costs_only_its_paper(database_url: str) -> None:
    with Run(database_url) as run:
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


def test_unchanged_recrawl_does_not_move_changed_at(database_url: str) -> None:
    with Run(database_url) as run:
        run.store(paper())
    (first,) = rows(database_url)
    with Run(database_url) as run:
        run.store(paper(scraped_at=NOW + dt.timedelta(days=1)))
    (second,) = rows(database_url)
    assert second["changed_at"] == first["changed_at"]
    assert second["last_seen_at"] > first["last_seen_at"]


def test_a_snapshot_is_added_only_when_a_paper_s_latest_counts_change(database_url: str) -> None:
    other = {"arxiv_id": "2607.16922", "url": "https://huggingface.co/papers/2607.16922"}
    crawls = [  # (the paper's counts, the other paper's counts) on each crawl
        ((292, 2, 8), (5, 0, None)),
        ((292, 2, 8), (5, 0, None)),  # nothing changed (a NULL equals a NULL)
        ((300, 2, 8), (292, 2, 8)),  # one changed; the other now shows the first's old counts
        ((292, 2, 8), (292, 2, 8)),  # back to counts of an older snapshot: still a change
    ]
    names = ("upvotes", "num_comments", "github_stars")
    for counts, other_counts in crawls:
        with Run(database_url) as run:
            run.store(
                paper(**dict(zip(names, counts, strict=True))),
                paper(**other, **dict(zip(names, other_counts, strict=True))),
            )
    history: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows(database_url, storage.upvote_snapshots):
        history.setdefault(row["arxiv_id"], []).append(tuple(row[name] for name in names))
    assert history == {
        "2607.28618": [(292, 2, 8), (300, 2, 8), (292, 2, 8)],
        "2607.16922": [(5, 0, None), (292, 2, 8)],
    }


def test_earlier_listing_date_replaces_a_later_one(database_url: str) -> None:
    with Run(database_url) as run:
        run.store(paper(listing_date=D(2026, 8, 1)))
    with Run(database_url) as run:
        run.store(paper(listing_date=D(2026, 7, 31)))
    assert rows(database_url)[0]["listing_date"] == D(2026, 7, 31)


def test_rejected_papers_are_kept_with_page_url_reason_and_payload(database_url: str) -> None:
    with Run(database_url) as run:
        run.store(paper(), paper(arxiv_id="2607.99999", upvotes=-4))
    (rejected,) = rows(database_url, storage.rejected_items)
    assert rejected["arxiv_id"] == "2607.99999"
    assert rejected["page_url"] == "http://127.0.0.1/papers/date/2026-07-31"
    assert "upvotes: Input should be greater than or equal to 0" in rejected["reason"]
    payload = json.loads(rejected["payload"])
    assert payload["upvotes"] == -4 and payload["title"].startswith("AskChem")
    assert len(rows(database_url)) == 1


def test_one_transaction_per_listing(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'papers.sqlite'}"
    statements: list[str] = []
    with Run(url) as run:
        sa.event.listen(
            run.archive.engine,
            "before_cursor_execute",
            lambda conn, cursor, statement, *a: statements.append(statement.split()[0]),
        )
        for day, numbers in ((D(2026, 7, 30), range(50)), (D(2026, 7, 31), range(50, 100))):
            run.store(*(paper(arxiv_id=f"2607.{n:05d}", listing_date=day) for n in numbers))
            assert len(rows(url)) == numbers.stop  # written as soon as the listing arrives
        run.record(D(2026, 8, 1), "no_digest", "the site redirects to 2026-07-31")
    # One transaction per listing (papers, listings, snapshots, the day's
    # outcome) plus the run record's closing (its opening came before the listener).
    assert statements.count("BEGIN") == 3 + 1
    assert len(rows(url)) == 100
    days = {
        row["listing"]: (row["outcome"], row["papers"]) for row in rows(url, storage.crawl_listings)
    }
    assert days == {
        D(2026, 7, 30): ("stored", 50),
        D(2026, 7, 31): ("stored", 50),
        D(2026, 8, 1): ("no_digest", 0),
    }
    (record,) = rows(url, storage.crawl_runs)
    assert (record["listings_served"], record["listings_no_digest"], record["complete"]) == (
        2,
        1,
        True,
    )
    assert record["items_stored"] == 100 and record["papers_new"] == 100


def test_a_run_with_days_left_is_incomplete_and_counted(database_url: str) -> None:
    with Run(database_url) as run:
        run.store(paper(listing_date=D(2026, 7, 30)))
        run.record(D(2026, 7, 31), "failed", "HTTP 500 after retries")
    assert run.stat("listings_left") == 2  # 07-31 failed, 08-01 never read
    (record,) = rows(database_url, storage.crawl_runs)
    assert (record["finish_reason"], record["complete"]) == ("finished", False)
    assert (record["listings_served"], record["listings_failed"]) == (1, 1)


def test_an_interrupted_run_is_resumed_by_the_next_with_the_same_days(database_url: str) -> None:
    with Run(database_url) as run:
        run.store(paper(listing_date=D(2026, 7, 30)))
        run.record(D(2026, 7, 31), "no_digest", "the site redirects to 2026-07-30")
        run.record(D(2026, 8, 1), "failed", "HTTP 500 after retries")
        run.finish_reason = "shutdown"
    with Run(database_url) as resumed:
        assert resumed.spider.done == {D(2026, 7, 30), D(2026, 7, 31)}  # not fetched again
        resumed.store(paper(arxiv_id="2608.00001", listing_date=D(2026, 8, 1)))
    first, second = rows(database_url, storage.crawl_runs)
    assert first["resumed_by"] == second["id"] and first["complete"] is False
    assert (second["listings_served"], second["listings_no_digest"], second["complete"]) == (
        2,
        1,
        True,
    )
    assert resumed.stat("listings_carried_over") == 2
    with Run(database_url) as fresh:  # the resumed run completed: all days again
        assert fresh.spider.done == set()


def test_sqlite_is_in_wal_mode_with_a_busy_timeout_and_16_kb_pages(tmp_path: Any) -> None:
    engine = storage.make_engine(f"sqlite:///{tmp_path / 'x' / 'papers.sqlite'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert (
            connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
            == storage.SQLITE_BUSY_TIMEOUT_MS
        )
        connection.exec_driver_sql("CREATE TABLE t (x)")
        assert connection.exec_driver_sql("PRAGMA page_size").scalar() == 16384
    engine.dispose()


def test_storage_failure_is_counted_logged_and_keeps_the_listings_before(
    tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'papers.sqlite'}"
    with Run(url) as run:
        run.store(paper(listing_date=D(2026, 7, 30)))
        with run.archive.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE upvote_snapshots")
        with pytest.raises(Exception, match="could not be stored"):
            run.store(paper(arxiv_id="2607.00002", listing_date=D(2026, 7, 31)))
    assert run.stat("storage_errors") == 1
    assert "Could not store 1 papers listed on 2026-07-31" in caplog.text
    # The day before stays intact; the failed day wrote nothing.
    assert [row["arxiv_id"] for row in rows(url)] == ["2607.28618"]


def test_a_rejected_paper_holding_what_no_text_column_takes_costs_only_itself(
    database_url: str,
) -> None:
    """A lone surrogate (a JSON ``\\ud800`` escape) fails validation; the
    reject is stored with its payload intact, and so is the rest of the listing."""
    with Run(database_url) as run:
        run.store(
            paper(arxiv_id="2607.00001"),
            paper(arxiv_id="2607.0000\ud800", title="x\ud800y\x00"),
            paper(arxiv_id="2607.00003"),
        )
    assert [row["arxiv_id"] for row in rows(database_url)] == ["2607.00001", "2607.00003"]
    (rejected,) = rows(database_url, storage.rejected_items)
    assert rejected["arxiv_id"] == "2607.0000\\ud800"
    assert json.loads(rejected["payload"])["title"] == "x\ud800y\x00"


def test_a_shorter_read_of_a_day_keeps_what_an_earlier_read_listed(database_url: str) -> None:
    day = [paper(arxiv_id=f"2607.{n:05d}") for n in range(5)]
    with Run(database_url) as run:
        run.store(*day)
    with Run(database_url) as run:
        run.store(day[0], day[3])  # a partial list (say, read early in the day)
    assert run.stat("papers_missing_from_reread") == 3
    listings = rows(database_url, storage.listings)
    assert [(r["arxiv_id"], r["rank"]) for r in listings] == [
        ("2607.00000", 1),
        ("2607.00001", 2),
        ("2607.00002", 3),
        ("2607.00003", 2),  # its rank on the latest read
        ("2607.00004", 5),
    ]
    assert len(rows(database_url)) == 5


def test_a_week_list_keeps_its_ranks_apart_from_the_days(database_url: str) -> None:
    """A week's list: each paper's rank in it, first and last seen; the
    papers filed under their own days; no day's ranks or reads touched."""
    crawler = make_crawler(DIGEST_DATABASE_URL=database_url, DIGEST_TODAY="2026-08-02")
    spider = DailySpider.from_crawler(crawler, week="2026-W31")
    crawler.spider = spider
    validate, store = ValidatePipeline.from_crawler(crawler), StoragePipeline.from_crawler(crawler)
    store.open_spider()
    week = Listing(
        day=D(2026, 7, 27),
        period="week",
        url="http://127.0.0.1/papers/week/2026-W31",
        outcome="served",
        papers=[paper(arxiv_id="2607.16922", listing_date=D(2026, 7, 30)), None, paper()],
    )
    store.process_item(validate.process_item(week))
    # A later read of the week in which the ranks changed.
    again = Listing(
        day=D(2026, 7, 27),
        period="week",
        url=week.url,
        outcome="served",
        papers=[paper(), paper(arxiv_id="2607.16922", listing_date=D(2026, 7, 30))],
    )
    store.process_item(validate.process_item(again))
    store.spider_closed(spider, "finished")
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
    (run,) = rows(database_url, storage.crawl_runs)
    assert (run["period"], run["first_listing"], run["complete"]) == ("week", D(2026, 7, 27), True)
    (day,) = rows(database_url, storage.crawl_listings)
    assert (day["listing"], day["outcome"], day["papers"]) == (D(2026, 7, 27), "stored", 2)


def test_a_run_of_weeks_never_resumes_a_run_of_days(database_url: str) -> None:
    with Run(database_url, days=(D(2026, 7, 27), D(2026, 7, 27))) as run:
        run.record(D(2026, 7, 27), "stored", None)  # type: ignore[arg-type]
        run.finish_reason = "shutdown"
    crawler = make_crawler(DIGEST_DATABASE_URL=database_url, DIGEST_TODAY="2026-08-02")
    spider = DailySpider.from_crawler(crawler, week="2026-W31")
    crawler.spider = spider
    store = StoragePipeline.from_crawler(crawler)
    store.open_spider()
    store.spider_closed(spider, "finished")
    assert spider.done == set()  # the interrupted run was of a day, not of the week


def test_the_organization_keys_follow_the_names_they_are_made_of(database_url: str) -> None:
    with Run(database_url) as run:
        run.store(paper(organization="École Polytechnique", organization_id="EcolePolytechnique"))
        run.store(paper(organization=None, organization_id=None))  # cards: names unknown
    (row,) = rows(database_url)
    assert (row["organization_key"], row["organization_id_key"]) == (
        "école polytechnique",
        "ecolepolytechnique",
    )
    with Run(database_url) as run:
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
