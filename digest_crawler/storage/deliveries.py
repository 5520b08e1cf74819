"""What a watch matches and what it delivered (``scrapy watch``).

A watch's matches are read with the readers' filter (``PaperFilter``), the
search index (``search.matching``) and its author, as the rows a message
and a feed need. ``watch_deliveries`` keeps each (watch, destination,
paper) a destination accepted, written only after it did. ``one_run_at_a_time``
makes two runs take turns (a PostgreSQL advisory lock; on SQLite a lock
file beside the database), so the second finds what the first delivered.
"""

from __future__ import annotations

import datetime as dt
import fcntl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from digest_crawler.storage.engine import is_sqlite, make_engine
from digest_crawler.storage.queries import PaperFilter, narrowed
from digest_crawler.storage.schema import DELIVERY_HOWS, papers, watch_deliveries
from digest_crawler.storage.search import matching

# Any number but the upgrade's (migrate._PG_LOCK): watch runs take turns.
_PG_LOCK = 73110225


@dataclass(frozen=True)
class Matched:
    """A paper a watch matches, with what a message says of it."""

    arxiv_id: str
    title: str
    url: str
    organization: str | None
    upvotes: int
    listing_date: dt.date


def author_key(name: str) -> str:
    """How an author's name is compared: spaces and case set aside.

    >>> author_key("  Zoë  ÜNLÜ ") == author_key("zoë ünlü")
    True
    """
    return " ".join(name.split()).casefold()


def matches(
    connection: Connection, chosen: PaperFilter, query: str | None, author: str | None
) -> list[Matched]:
    """The papers that ``chosen``, ``query`` and ``author`` name, newest
    listing first (then ``arxiv_id``, descending)."""
    columns = [papers.c[name] for name in Matched.__dataclass_fields__]
    statement: sa.Select[Any] = sa.select(*columns, papers.c.authors).select_from(papers)
    statement = narrowed(statement, chosen)
    if query is not None:
        statement = statement.where(matching(connection.dialect.name, query))
    statement = statement.order_by(papers.c.listing_date.desc(), papers.c.arxiv_id.desc())
    wanted = None if author is None else author_key(author)
    found = []
    for row in connection.execute(statement):
        if wanted is not None and not any(
            isinstance(name, str) and author_key(name) == wanted for name in row.authors or ()
        ):
            continue
        values = row._mapping
        found.append(Matched(**{name: values[name] for name in Matched.__dataclass_fields__}))
    return found


def delivered(connection: Connection, watch: str, destination: str) -> set[str]:
    """The papers already delivered (sent or seen) to ``destination`` for ``watch``."""
    return set(
        connection.execute(
            sa.select(watch_deliveries.c.arxiv_id).where(
                watch_deliveries.c.watch == watch,
                watch_deliveries.c.destination == destination,
            )
        ).scalars()
    )


def record(
    connection: Connection,
    watch: str,
    destination: str,
    hows: dict[str, str],
    at: dt.datetime,
) -> None:
    """Record each paper of ``hows`` (its id: ``sent`` or ``seen``) as
    delivered to ``destination`` for ``watch`` (a row already there is kept)."""
    rows = [
        {
            "watch": watch,
            "destination": destination,
            "arxiv_id": arxiv_id,
            "delivered_at": at,
            "how": how,
        }
        for arxiv_id, how in sorted(hows.items())
    ]
    assert all(row["how"] in DELIVERY_HOWS for row in rows)
    if not rows:
        return
    insert: Any = (postgresql if connection.dialect.name == "postgresql" else sqlite).insert
    connection.execute(insert(watch_deliveries).on_conflict_do_nothing(), rows)


@contextmanager
def one_run_at_a_time(url: str) -> Iterator[None]:
    """Held while a run reads what was delivered and sends: a second run
    waits for the first. PostgreSQL: a session's advisory lock; SQLite: an
    exclusive ``flock`` on ``<database>.watch-lock`` beside the file."""
    if is_sqlite(url):
        database = Path(sa.engine.make_url(url).database or "").expanduser()
        lock = database.with_name(database.name + ".watch-lock")
        with lock.open("a") as file:
            fcntl.flock(file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(file, fcntl.LOCK_UN)
        return
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f"SELECT pg_advisory_lock({_PG_LOCK})")
            connection.commit()
            try:
                yield
            finally:
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({_PG_LOCK})")
                connection.commit()
    finally:
        engine.dispose()


def sorted_best_first(found: Iterable[Matched]) -> list[Matched]:
    """Most upvotes first, then the newest listing (then ``arxiv_id``)."""
    return sorted(found, key=lambda m: (-m.upvotes, -m.listing_date.toordinal(), m.arxiv_id))
