"""The whole digest as a person's archive holds it, made by direct inserts:
about 1,300 days and 65,000 papers, for the report at archive scale.

Its history is that of a real deployment: a backfill read every day
before ``DAILY_FROM`` once (one upvote snapshot per paper, taken that
day), then the daily crawl read each day on its refresh schedule (the
listing day and 1, 2, 3, 7 and 14 days after it), a snapshot whenever the
upvotes had changed. Titles, organizations and keywords are those of the
real captures (``fixtures/sources/``), drawn again and again; papers are
listed on weekdays, more of them every year, as on the site; the keywords
drift (some rise, some fall) over the years.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import random
from typing import Any

import sqlalchemy as sa

from digest_crawler.storage import make_engine, migrate
from digest_crawler.storage.schema import listing_days, papers, upvote_snapshots
from tests.support.archive import paper_row
from tests.support.seed import seed_papers
from tests.support.sitegen import api_entries, api_entries_with_ai_fields

LAST = dt.date(2026, 7, 31)
FIRST = LAST - dt.timedelta(days=1_299)
#: The day the daily crawl began, after a backfill of every day before it.
DAILY_FROM = LAST - dt.timedelta(days=59)
#: The daily crawl's reads of a listing day: days after it (at 06:00 UTC).
REFRESH = (0, 1, 2, 3, 7, 14)

# Keywords whose share of papers falls (first) or rises (second) over the
# years; the others are as common every year.
_FALLING = ("diffusion models", "instruction tuning", "lora", "text-to-image")
_RISING = ("agents", "reinforcement learning", "test-time scaling", "vision-language-action")
_STEADY = (
    "large language models",
    "benchmark",
    "multimodal",
    "reasoning",
    "video generation",
    "retrieval",
    "mixture-of-experts",
    "flow matching",
)


@functools.cache
def _real() -> tuple[list[str], list[str | None], list[str]]:
    """Titles, organizations (None: a paper without one) and keywords of the captures."""
    entries = api_entries() + api_entries_with_ai_fields()
    titles = [p.title for p in seed_papers()] + [e["paper"]["title"] for e in entries]
    organizations = [p.organization for p in seed_papers()] + [
        (e["paper"].get("organization") or {}).get("fullname") for e in entries
    ]
    keywords = sorted({k for e in entries for k in e["paper"].get("ai_keywords") or ()})
    return sorted(set(titles)), organizations, keywords


def _keyword_weights(progress: float, captured: list[str]) -> list[float]:
    """How likely each keyword (``_FALLING``, ``_RISING``, ``_STEADY``, then
    ``captured``) is on a paper listed ``progress`` (0..1) of the way through."""
    return [
        *(1.0 - 0.9 * progress for _ in _FALLING),
        *(0.1 + 1.4 * progress**2 for _ in _RISING),
        *(0.5 for _ in _STEADY),
        *(0.05 for _ in captured),
    ]


def _reads(listing_date: dt.date) -> list[dt.datetime]:
    """When the archive's crawls read a paper of ``listing_date``."""
    if listing_date < DAILY_FROM:
        return [dt.datetime.combine(DAILY_FROM, dt.time(5), dt.UTC)]  # the backfill
    return [
        dt.datetime.combine(listing_date + dt.timedelta(days=after), dt.time(6), dt.UTC)
        for after in REFRESH
        if listing_date + dt.timedelta(days=after) <= LAST
    ]


def _upvotes_at(final: int, listing_date: dt.date, moment: dt.datetime) -> int:
    """Upvotes come mostly in the first days: ``final`` approached with a
    time constant of a day and a half."""
    days = (moment - dt.datetime.combine(listing_date, dt.time(), dt.UTC)).total_seconds() / 86_400
    return round(final * (1 - math.exp(-days / 1.5)))


def scale_rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The papers and upvote snapshots of the listing days ``FIRST``..``LAST``."""
    titles, organizations, captured = _real()
    keywords = [*_FALLING, *_RISING, *_STEADY, *captured]
    rng = random.Random(1_300)
    rows: list[dict[str, Any]] = []
    snapshots: list[dict[str, Any]] = []
    day = FIRST
    while day <= LAST:
        progress = (day - FIRST).days / (LAST - FIRST).days
        if day.weekday() < 5:
            weights = _keyword_weights(progress, captured)
            count = round(rng.gauss(30 + 80 * progress, 8))
            for number in range(1, max(count, 5) + 1):
                final = int(rng.lognormvariate(2.0, 1.15))
                organization = rng.choice(organizations)
                reads = _reads(day)
                row = paper_row(
                    day.day * 200 + number,
                    day,
                    title=rng.choice(titles),
                    organization=organization,
                    organization_id=organization and organization.replace(" ", ""),
                    organization_key=organization and organization.lower(),
                    organization_id_key=organization and organization.replace(" ", "").lower(),
                    ai_keywords=sorted(set(rng.choices(keywords, weights, k=5))),
                    scraped_at=reads[-1],
                    first_seen_at=reads[0],
                    last_seen_at=reads[-1],
                    changed_at=reads[-1],
                )
                seen: list[int] = []
                for moment in reads:
                    upvotes = _upvotes_at(final, day, moment) if len(reads) > 1 else final
                    if not seen or seen[-1] != upvotes:
                        seen.append(upvotes)
                        snapshots.append(
                            {
                                "arxiv_id": row["arxiv_id"],
                                "observed_at": moment,
                                "upvotes": upvotes,
                                "num_comments": row["num_comments"],
                                "github_stars": None,
                            }
                        )
                row["upvotes"] = seen[-1]
                rows.append(row)
        day += dt.timedelta(days=1)
    return rows, snapshots


def make_scale_archive(url: str) -> int:
    """The archive at ``url`` (a new one); returns how many papers it holds."""
    rows, snapshots = scale_rows()
    days = sorted({row["listing_date"] for row in rows})
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        with engine.begin() as connection:
            connection.execute(sa.insert(papers), rows)
            connection.execute(sa.insert(upvote_snapshots), snapshots)
            connection.execute(
                sa.insert(listing_days),
                [
                    {
                        "listing_date": day,
                        "first_read_at": _reads(day)[0],
                        "last_read_at": _reads(day)[-1],
                        "settled_at": _reads(day)[-1]
                        if len(_reads(day)) in (1, len(REFRESH))
                        else None,
                    }
                    for day in days
                ],
            )
        return len(rows)
    finally:
        engine.dispose()
