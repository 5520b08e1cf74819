"""The archive as a crawl writes it: upgraded when opened, one run's record
in the ledger, and each listing in one transaction with its ledger row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Engine

from digest_crawler.items import Adoption, Listing
from digest_crawler.periods import Period
from digest_crawler.storage import adoption, ledger, migrate
from digest_crawler.storage.engine import make_engine
from digest_crawler.storage.write import Written, record_read, write_listing


class CrawlArchive:
    """The archive at ``url`` for one crawl.

    ``batch_size`` bounds the rows of one upsert; ``horizon`` is the refresh
    schedule's last day: a read that many days or more after a listing day
    (counted from ``today``, the run's today) settles it. With
    ``adoption``, the papers of each listing stored are due to be asked
    what cites them (``storage.adoption``).
    """

    def __init__(
        self, url: str, batch_size: int, horizon: int, today: dt.date, adoption: bool = False
    ) -> None:
        self.engine: Engine = make_engine(url)
        self.batch_size = batch_size
        self.horizon = horizon
        self.today = today
        self.adoption = adoption
        #: The papers whose Hub answer this run stored (a listing read after
        #: it does not make them due again).
        self.adoption_read: set[str] = set()
        self.run: ledger.Run | None = None

    @property
    def shown(self) -> str:
        """The archive's URL without a password."""
        return self.engine.url.render_as_string(hide_password=True)

    def upgrade(self) -> tuple[int | None, int]:
        """Bring the archive to this release's schema (see ``migrate.upgrade``)."""
        return migrate.upgrade(self.engine)

    def start_run(
        self,
        spider: str,
        arguments: Mapping[str, Any],
        listings: Sequence[Period],
        now: dt.datetime,
    ) -> ledger.Run:
        """Record the run of ``listings`` (resuming an interrupted one of the
        same listings: ``Run.done`` are not to be read again)."""
        with self.engine.begin() as connection:
            self.run = ledger.start_run(
                connection,
                spider,
                arguments,
                [period.start for period in listings],
                now,
                listings[0].kind,
            )
        return self.run

    def store(
        self, listing: Listing, now: dt.datetime, repaired_at: dt.datetime | None = None
    ) -> Written:
        """``listing`` in one transaction: its valid papers (with their ranks
        and new upvote snapshots), its rejected papers, the read of its day
        (settling it at the horizon), and its row in the run's record."""
        with self.engine.begin() as connection:
            written = write_listing(
                connection,
                listing.valid,
                listing.rejected,
                listing.url,
                now,
                self.batch_size,
                Period(listing.period, listing.day),
                repaired_at,
            )
            if self.adoption:
                ids = [paper.arxiv_id for _, paper in listing.valid]
                adoption.mark_due(connection, [i for i in ids if i not in self.adoption_read], now)
            if listing.outcome == "served" and listing.period == "day":
                settles = (self.today - listing.day).days >= self.horizon
                record_read(connection, listing.day, now, settles)
            if self.run is not None:
                ledger.record_listing(connection, self.run.id, listing, written.papers, now)
        return written

    def adoption_to_read(self, tail: Sequence[int]) -> list[str]:
        """The papers to ask the Hub for besides the listings': the ones due,
        then those listed ``tail`` days before today (``adoption.to_read``)."""
        with self.engine.connect() as connection:
            return adoption.to_read(connection, self.today, tail)

    def store_adoption(
        self, read: Adoption, now: dt.datetime, repaired_at: dt.datetime | None = None
    ) -> adoption.Stored:
        """One paper's Hub answer (or its failure), in one transaction, as
        read at ``now`` (``adoption.write_adoption``)."""
        with self.engine.begin() as connection:
            stored = adoption.write_adoption(connection, read, now, repaired_at)
        self.adoption_read.add(read.arxiv_id)
        return stored

    def finish_run(
        self, now: dt.datetime, reason: str | None, counts: Mapping[str, int]
    ) -> ledger.Summary | None:
        """Close the run's record; ``None`` when no run was started."""
        if self.run is None:
            return None
        with self.engine.begin() as connection:
            return ledger.finish_run(connection, self.run.id, now, reason, counts)

    def close(self) -> None:
        self.engine.dispose()
