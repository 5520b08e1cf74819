"""The validation and storage pipelines alone: papers in day-sized listings, rows per second."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from typing import Any

import sqlalchemy as sa

from digest_crawler import storage
from digest_crawler.items import Listing

PAPERS_PER_DAY = 50


def make_days(papers: int) -> list[tuple[dt.date, list[dict[str, Any]]]]:
    """Papers as the loader hands them on: a day's worth at a time."""
    now = dt.datetime.now(dt.UTC)
    first = dt.date(2020, 1, 1)
    days = []
    for d in range(papers // PAPERS_PER_DAY):
        day = first + dt.timedelta(days=d)
        items = [
            {
                "arxiv_id": f"{day:%y%m}.{day.day:02d}{n:03d}",
                "url": f"https://huggingface.co/papers/{d}.{n}",
                "title": f"Paper {n} of {day}: a title of a realistic length for the Daily Papers digest",
                "abstract": "An abstract. " * 80,
                "authors": [f"Author {k}" for k in range(8)],
                "author_count": 8,
                "organization": "Some Lab",
                "organization_id": "some-lab",
                "published_at": day - dt.timedelta(days=1),
                "listing_date": day,
                "submitted_at": now,
                "upvotes": (d * 7 + n) % 300,
                "num_comments": n % 5,
                "github_repo": "https://github.com/example/repo",
                "github_stars": n,
                "submitted_by": "akhaliq",
                "scraped_at": now,
            }
            for n in range(PAPERS_PER_DAY)
        ]
        days.append((day, items))
    return days


def store_papers(
    database_url: str, papers: int, *, fresh_schema: bool = False
) -> tuple[float, float]:
    """Through the validation and storage pipelines (one transaction per
    day): papers per second, and rows written per second in all tables (each
    new paper is a ``papers``, a ``listings`` and an ``upvote_snapshots``
    row; each day a ``crawl_listings`` row)."""
    from scrapy.settings import Settings
    from scrapy.utils.reactor import install_reactor
    from scrapy.utils.test import get_crawler

    from digest_crawler.pipelines import StoragePipeline, ValidatePipeline
    from digest_crawler.spiders.daily import DailySpider
    from tests.support.crawler import run_async

    # A crawler needs the reactor Scrapy would install (the pipelines run
    # here as a crawl runs them).
    with contextlib.suppress(Exception):
        install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")

    if fresh_schema:  # PostgreSQL: a schema of its own, dropped afterwards
        schema = f"digest_bench_{int(time.time())}"
        engine = sa.create_engine(database_url)
        with engine.begin() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
        database_url = f"{database_url}?options=-csearch_path%3D{schema}"
    days = make_days(papers)
    try:
        settings = Settings()
        settings.setmodule("digest_crawler.settings")
        crawler = get_crawler(
            DailySpider,
            {**{k: settings[k] for k in settings}, "DIGEST_DATABASE_URL": database_url},
        )
        crawler.stats.open_spider()
        # A run record to write the days' outcomes under (the days themselves
        # are made up, far more of them than the digest has).
        crawler.spider = DailySpider.from_crawler(crawler, date="2023-05-01")
        validate = ValidatePipeline.from_crawler(crawler)
        pipeline = StoragePipeline.from_crawler(crawler)
        pipeline.open_spider()

        async def store_days() -> None:
            for day, items in days:
                listing = Listing(
                    day=day, url="http://127.0.0.1/", outcome="served", papers=list(items)
                )
                await pipeline.process_item(validate.process_item(listing))

        started = time.perf_counter()
        run_async(store_days())
        pipeline.spider_closed(crawler.spider, "finished")
        elapsed = time.perf_counter() - started
        stored = crawler.stats.get_value("digest/papers_stored")
        assert stored == len(days) * PAPERS_PER_DAY, stored
        engine_ = storage.make_reader(database_url)
        with engine_.connect() as connection:
            written = sum(
                connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                for table in (
                    storage.papers,
                    storage.listings,
                    storage.upvote_snapshots,
                    storage.crawl_listings,
                )
            )
        engine_.dispose()
        return stored / elapsed, written / elapsed
    finally:
        if fresh_schema:
            with engine.begin() as connection:
                connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
            engine.dispose()


def raw_sqlite_baseline(path: str, papers: int) -> float:
    """Rows per second of the bare driver: the same rows, one plain INSERT
    per paper into one table, one commit per day (no upsert, no history)."""
    import json
    import sqlite3

    days = make_days(papers)
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(
        "CREATE TABLE papers (arxiv_id TEXT PRIMARY KEY, url TEXT, title TEXT, abstract TEXT, authors TEXT,"
        " author_count INT, organization TEXT, organization_id TEXT, published_at TEXT, listing_date TEXT,"
        " submitted_at TEXT, upvotes INT, num_comments INT, github_repo TEXT, github_stars INT,"
        " project_page TEXT, submitted_by TEXT, scraped_at TEXT)"
    )
    started = time.perf_counter()
    for _, items in days:
        rows = [
            (
                i["arxiv_id"],
                i["url"],
                i["title"],
                i["abstract"],
                json.dumps(i["authors"]),
                i["author_count"],
                i["organization"],
                i["organization_id"],
                str(i["published_at"]),
                str(i["listing_date"]),
                str(i["submitted_at"]),
                i["upvotes"],
                i["num_comments"],
                i["github_repo"],
                i["github_stars"],
                None,
                i["submitted_by"],
                str(i["scraped_at"]),
            )
            for i in items
        ]
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(f"INSERT INTO papers VALUES ({', '.join('?' * 18)})", rows)
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return len(days) * PAPERS_PER_DAY / elapsed
