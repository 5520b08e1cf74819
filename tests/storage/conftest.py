"""What the storage tests share: an empty archive's URL on each backend, and
crawls of it one after another."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from digest_crawler.periods import Period
from tests.storage.listings import TODAY, Clock, Crawl, NewCrawl


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where a new archive goes: a SQLite file, or a schema of its own on
    the PostgreSQL server (``postgres_url``)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'papers.sqlite'}"
    else:
        yield request.getfixturevalue("postgres_url")


@pytest.fixture
def crawl(database_url: str) -> NewCrawl:
    """Crawls of the archive at ``database_url`` on one clock: each later
    than the one before, as real crawls are."""
    clock = Clock()

    def new_crawl(listings: Sequence[Period] | None = None, today: dt.date = TODAY) -> Crawl:
        return Crawl(database_url, clock, listings, today)

    return new_crawl
