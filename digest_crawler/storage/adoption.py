"""Writing what cites a paper on the Hub (its adoption), inside the caller's
transaction: the paper's current counts, a snapshot of each change, and the
papers still due to be asked for (``adoption_due``)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from digest_crawler.items import Adoption, payload_json
from digest_crawler.paper import ADOPTION, fields_in
from digest_crawler.storage.schema import (
    REJECTED_ID_LENGTH,
    UTCDateTime,
    adoption_due,
    adoption_snapshots,
    listings,
    papers,
    rejected_items,
)
from digest_crawler.storage.write import _storable, dialect_insert

#: The counts an adoption snapshot keeps.
COUNTS = fields_in(ADOPTION)

#: What storing one answer did: its counts changed the paper's (or were its
#: first), left them as they were, or the paper is not in the archive (it
#: was rejected, or its listing could not be stored); the others as read.
Stored = Literal["changed", "unchanged", "unknown", "not_indexed", "rejected", "failed"]


def mark_due(connection: Connection, arxiv_ids: Sequence[str], now: dt.datetime) -> None:
    """Note that the adoption of the (stored) papers ``arxiv_ids`` is to be
    read; one already due keeps its moment."""
    if not arxiv_ids:
        return
    connection.execute(
        _due_insert(connection.dialect.name),
        [{"arxiv_id": arxiv_id, "due_since": now} for arxiv_id in sorted(set(arxiv_ids))],
    )


@functools.cache
def _due_insert(dialect: str) -> Any:
    return dialect_insert(dialect, adoption_due).on_conflict_do_nothing(
        index_elements=[adoption_due.c.arxiv_id]
    )


def to_read(connection: Connection, today: dt.date, tail: Sequence[int]) -> list[str]:
    """The papers a run is to ask for besides those of its listings: the
    ones due (oldest first), then the papers listed on the days ``tail``
    days before ``today`` (by day, then rank)."""
    due = list(
        connection.scalars(
            sa.select(adoption_due.c.arxiv_id).order_by(
                adoption_due.c.due_since, adoption_due.c.arxiv_id
            )
        )
    )
    days = sorted({today - dt.timedelta(days=n) for n in tail})
    listed = (
        list(
            connection.scalars(
                sa.select(listings.c.arxiv_id)
                .where(listings.c.listing_date.in_(days))
                .order_by(listings.c.listing_date, listings.c.rank, listings.c.arxiv_id)
            )
        )
        if days
        else []
    )
    return list(dict.fromkeys(due + listed))


def write_adoption(
    connection: Connection,
    read: Adoption,
    now: dt.datetime,
    repaired_at: dt.datetime | None = None,
) -> Stored:
    """Store one answer for a paper, as read at ``now``.

    Counts: a read newer than the stored one sets each count it gives (a
    count it lacks keeps the stored one), an older one (``scrapy reparse``)
    only fills what is missing; a change moves ``changed_at`` to the read's
    moment, or for an older read's to ``repaired_at`` (a repair is polled as
    a change of then). A snapshot is
    added at ``now`` when its counts differ from the snapshot before it.
    The paper is no longer due once read, or found not indexed (a 404:
    its counts stay as they are, NULL for a paper never read); a failed or
    rejected answer leaves it due, with the reason (a rejected answer is
    also kept aside, as a rejected listing paper is)."""
    arxiv_id = read.arxiv_id
    stored = connection.execute(
        sa.select(papers.c.adoption_read_at, *(papers.c[name] for name in COUNTS)).where(
            papers.c.arxiv_id == arxiv_id
        )
    ).first()
    if stored is None:
        return "unknown"
    due = adoption_due.c
    if read.outcome in ("failed", "rejected"):
        if read.outcome == "rejected":
            _keep_rejected(connection, read, now)
        reason = _storable((read.reason or "")[:1000])
        connection.execute(
            dialect_insert(connection.dialect.name, adoption_due).on_conflict_do_update(
                index_elements=[due.arxiv_id],
                set_={"failures": due.failures + 1, "reason": reason},
            ),
            {"arxiv_id": arxiv_id, "due_since": now, "failures": 1, "reason": reason},
        )
        return read.outcome
    connection.execute(sa.delete(adoption_due).where(due.arxiv_id == arxiv_id))
    if read.outcome == "not_indexed":
        return "not_indexed"
    newer = stored.adoption_read_at is None or now >= stored.adoption_read_at
    values = {
        name: (
            read.counts.get(name) if read.counts.get(name) is not None else getattr(stored, name)
        )
        if newer
        else (getattr(stored, name) if getattr(stored, name) is not None else read.counts.get(name))
        for name in COUNTS
    }
    changed = any(values[name] != getattr(stored, name) for name in COUNTS)
    update: dict[str, Any] = dict(values)
    if newer:
        update["adoption_read_at"] = now
    if changed:
        update["changed_at"] = now if newer else (repaired_at or now)
    connection.execute(sa.update(papers).where(papers.c.arxiv_id == arxiv_id).values(**update))
    _record_snapshot(connection, arxiv_id, read.counts, now)
    return "changed" if changed else "unchanged"


def _record_snapshot(
    connection: Connection, arxiv_id: str, counts: dict[str, int | None], now: dt.datetime
) -> bool:
    """A snapshot of ``counts`` at ``now`` (a count the read lacks: the
    snapshot's before it), unless one is there or the one before holds the
    same counts. Whether one was added."""
    snapshot = adoption_snapshots.c
    mine = snapshot.arxiv_id == arxiv_id
    moment = sa.bindparam("now", now, type_=UTCDateTime())
    if connection.execute(
        sa.select(snapshot.id).where(mine, snapshot.observed_at == moment)
    ).first():
        return False
    before = connection.execute(
        sa.select(*(snapshot[name] for name in COUNTS))
        .where(mine, snapshot.observed_at < moment)
        .order_by(snapshot.observed_at.desc(), snapshot.id.desc())
        .limit(1)
    ).first()
    values = {
        name: counts.get(name)
        if counts.get(name) is not None or before is None
        else getattr(before, name)
        for name in COUNTS
    }
    if before is not None and all(values[name] == getattr(before, name) for name in COUNTS):
        return False
    connection.execute(
        adoption_snapshots.insert().values(arxiv_id=arxiv_id, observed_at=now, **values)
    )
    return True


def _keep_rejected(connection: Connection, read: Adoption, now: dt.datetime) -> None:
    """A rejected answer kept aside with its reason (once: the same reason
    and payload for the same call are not kept again)."""
    reason = _storable(f"invalid adoption answer for {read.arxiv_id!r}: {read.reason}")
    payload = payload_json(read.payload or {})
    kept = connection.execute(
        sa.select(rejected_items.c.id).where(
            rejected_items.c.page_url == read.url,
            rejected_items.c.reason == reason,
            rejected_items.c.payload == payload,
        )
    ).first()
    if kept is None:
        connection.execute(
            rejected_items.insert().values(
                arxiv_id=read.arxiv_id[:REJECTED_ID_LENGTH],
                page_url=read.url,
                reason=reason,
                payload=payload,
                rejected_at=now,
            )
        )
