"""Archives made by inserting rows directly (no crawl): the readers' tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from digest_crawler.storage import make_engine, migrate
from digest_crawler.storage.schema import listing_days, papers, period_listings

SCRAPED = dt.datetime(2026, 8, 1, 12, 0, tzinfo=dt.UTC)


def paper_row(number: int, day: dt.date, **values: Any) -> dict[str, Any]:
    """A ``papers`` row of the ``number``-th paper listed on ``day``; an id
    ending in 0 (2607.00010) is the kind a type-guessing reader turns into a number."""
    arxiv_id = f"{day:%y%m}.{number:05d}"
    row: dict[str, Any] = {
        "arxiv_id": arxiv_id,
        "url": f"https://huggingface.co/papers/{arxiv_id}",
        "title": f"Paper {number} of {day} & <friends>",
        "abstract": f'The abstract of paper {number}: ünïcödé, "quotes", commas, and\na line break.',
        "ai_summary": f"A summary of paper {number}." if number % 2 else None,
        "ai_keywords": ["retrieval", "agents"] if number % 2 else None,
        "authors": [f"Author {number}", "Zoë Ünlü"] if number % 3 else None,
        "author_count": 2 if number % 3 else None,
        "organization": "Kling Team" if number % 4 == 0 else None,
        "organization_id": "KlingTeam" if number % 4 == 0 else None,
        # As the writer keys them (storage/write.py).
        "organization_key": "kling team" if number % 4 == 0 else None,
        "organization_id_key": "klingteam" if number % 4 == 0 else None,
        "published_at": day - dt.timedelta(days=2) if number % 5 else None,
        "listing_date": day,
        "submitted_at": dt.datetime(
            day.year, day.month, day.day, 9, number % 60, 0, number, tzinfo=dt.UTC
        ),
        "upvotes": number * 7 % 120,
        "num_comments": number % 4,
        "github_repo": None,
        "github_stars": None,
        "project_page": None,
        "thumbnail": f"https://cdn.example/{arxiv_id}.png",
        "submitted_by": "akhaliq",
        "scraped_at": SCRAPED + dt.timedelta(minutes=number),
        "first_seen_at": SCRAPED,
        "last_seen_at": SCRAPED,
        "changed_at": SCRAPED,
    }
    row.update(values)
    return row


def make_archive(url: str, days: int = 3, per_day: int = 12) -> list[dict[str, Any]]:
    """An archive of ``days`` listing days from 2026-07-29 (the first settled),
    ``per_day`` papers each, and a week's list of 2026-W31 (ranks by upvotes);
    returns the paper rows."""
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        first = dt.date(2026, 7, 29)
        rows = [
            paper_row(d * 100 + n, first + dt.timedelta(days=d))
            for d in range(days)
            for n in range(per_day)
        ]
        week = sorted(rows, key=lambda r: (-r["upvotes"], r["arxiv_id"]))[:10]
        with engine.begin() as connection:
            connection.execute(sa.insert(papers), rows)
            connection.execute(
                sa.insert(listing_days),
                [
                    {
                        "listing_date": first + dt.timedelta(days=d),
                        "first_read_at": SCRAPED,
                        "last_read_at": SCRAPED,
                        "settled_at": SCRAPED if d == 0 else None,
                    }
                    for d in range(days)
                ],
            )
            connection.execute(
                sa.insert(period_listings),
                [
                    {
                        "period": "week",
                        "period_start": dt.date(2026, 7, 27),
                        "arxiv_id": row["arxiv_id"],
                        "rank": rank,
                        "first_seen_at": SCRAPED,
                        "last_seen_at": SCRAPED,
                    }
                    for rank, row in enumerate(week, start=1)
                ],
            )
        return rows
    finally:
        engine.dispose()
