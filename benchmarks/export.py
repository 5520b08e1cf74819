"""``scrapy export`` against a bare ``sqlite3`` + ``json.dumps`` dump of the
same rows: CPU seconds per record, on an archive built by inserting rows."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from digest_crawler.storage import make_engine, migrate
from digest_crawler.storage.schema import listing_days, papers

#: The issue's archive: 110,000 papers over 2,000 days.
DAYS_PER_PAPERS = 2_000 / 110_000


def build_archive(path: Path, count: int) -> None:
    """``count`` papers of realistic size over ``count * 2,000 / 110,000``
    days, every tenth day settled; rows inserted directly (no crawl)."""
    days = max(1, round(count * DAYS_PER_PAPERS))
    first = dt.date(2020, 1, 1)
    moment = dt.datetime(2026, 8, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)

    def rows() -> Iterator[dict[str, Any]]:
        for n in range(count):
            day = first + dt.timedelta(days=n % days)
            arxiv_id = f"{2000 + n // 100_000:04d}.{n % 100_000:05d}"
            yield {
                "arxiv_id": arxiv_id,
                "url": f"https://huggingface.co/papers/{arxiv_id}",
                "title": f"Paper {n}: a title of a realistic length for the Daily Papers digest",
                "abstract": "An abstract sentence of a realistic length. " * 25,
                "ai_summary": "A summary of the paper in two sentences. " * 3,
                "ai_keywords": ["retrieval", "agents", "benchmarks", "reasoning"],
                "authors": [f"Author {k}" for k in range(8)],
                "author_count": 8,
                "organization": "Some Lab" if n % 3 else None,
                "organization_id": "some-lab" if n % 3 else None,
                "organization_key": "some lab" if n % 3 else None,
                "organization_id_key": "some-lab" if n % 3 else None,
                "published_at": day - dt.timedelta(days=1) if n % 7 else None,
                "listing_date": day,
                "submitted_at": moment,
                "upvotes": n % 300,
                "num_comments": n % 5,
                "github_repo": "https://github.com/example/repo",
                "github_stars": n % 1000,
                "project_page": None,
                "thumbnail": f"https://cdn.example/{n}.png",
                "submitted_by": "akhaliq",
                "scraped_at": moment,
                "first_seen_at": moment,
                "last_seen_at": moment,
                "changed_at": moment,
            }

    insert_archive(path, rows(), first, days, moment)


def insert_archive(
    path: Path, rows: Iterable[dict[str, Any]], first: dt.date, days: int, moment: dt.datetime
) -> None:
    """A new archive at ``path`` of the papers ``rows`` (5,000 a statement)
    and ``days`` listing days from ``first``, every tenth settled."""
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with engine.begin() as connection:
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == 5_000:
                connection.execute(sa.insert(papers), batch)
                batch.clear()
        if batch:
            connection.execute(sa.insert(papers), batch)
        connection.execute(
            sa.insert(listing_days),
            [
                {
                    "listing_date": first + dt.timedelta(days=d),
                    "first_read_at": moment,
                    "last_read_at": moment,
                    "settled_at": moment if d % 10 == 0 else None,
                }
                for d in range(days)
            ],
        )
    engine.dispose()


def bare_dump(database: Path, output: Path) -> int:
    """The same rows, ordered the same way, as JSON lines with the bare
    driver: the list columns parsed, everything else as stored."""
    from digest_crawler.paper import PAPER_FIELDS

    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    columns = ", ".join(f"p.{name}" for name in PAPER_FIELDS)
    cursor = connection.execute(
        f"SELECT {columns}, d.settled_at IS NOT NULL FROM papers p"
        " LEFT JOIN listing_days d ON d.listing_date = p.listing_date"
        " ORDER BY p.listing_date, p.arxiv_id"
    )
    names = [*PAPER_FIELDS, "settled"]
    lists = [names.index("authors"), names.index("ai_keywords")]
    count = 0
    with output.open("w", encoding="utf-8") as stream:
        for row in cursor:
            values = list(row)
            for index in lists:
                if values[index] is not None:
                    values[index] = json.loads(values[index])
            record = dict(zip(names, values, strict=True))
            record["schema_version"], record["rank"] = 4, None
            stream.write(json.dumps(record, ensure_ascii=False))
            stream.write("\n")
            count += 1
    connection.close()
    return count


def ours(database: Path, output: Path, kind: str) -> int:
    """``scrapy export -o output --format kind``, in this process."""
    from digest_crawler.outputs.export import export
    from digest_crawler.storage.queries import PaperFilter

    url = f"sqlite:///{database}"
    return export(url, PaperFilter(), str(output), kind, "https://huggingface.co").records


def cpu_of(repeats: int, work: Callable[[], int]) -> tuple[float, int]:
    """The fewest CPU seconds (this process) of ``repeats`` runs, and the count."""
    best, count = float("inf"), 0
    for _ in range(repeats):
        started = time.process_time()
        count = work()
        best = min(best, time.process_time() - started)
    return best, count


def cpu_in_turns(repeats: int, works: dict[str, Callable[[], int]]) -> dict[str, tuple[float, int]]:
    """``cpu_of`` each of ``works``, taken in turns (one run of each, then
    again): on a shared machine a neighbour's burst slows one run, not one side."""
    best: dict[str, tuple[float, int]] = {}
    for work in works.values():  # a first run of each: imports, caches
        work()
    for _ in range(repeats):
        for name, work in works.items():
            seconds, count = cpu_of(1, work)
            if name not in best or seconds < best[name][0]:
                best[name] = (seconds, count)
    return best
