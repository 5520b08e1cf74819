"""``scrapy reparse``: the raw answers kept (``DIGEST_RAW_DIR``) read again
with today's reading rules, and stored as a crawl stores them.

It makes no request. Every read a crawl made is read again from the
answers it was given (``site.replay``), in the order they were received,
validated as a crawl validates, and stored at the moment its answer was
received: on an empty archive that rebuilds it (upvote snapshots,
first-seen moments and settled days as they were); on an existing one it
repairs it (a read stored again changes what today's rules read
differently, and fills what an older read lacked). The ledger records the
run (``reparse``) and the reading rules that read each listing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from pydantic import BaseModel, model_validator

from digest_crawler.cli import OptionError, ReaderCommand, option
from digest_crawler.periods import Period
from digest_crawler.storage import migrate
from digest_crawler.storage.queries import ArchiveError

# Scrapy imports every command's module for any command: what only a
# reparse needs (the raw answers, the reading rules, the crawl's storage)
# is imported where it is used.
if TYPE_CHECKING:
    from digest_crawler.storage.archive import CrawlArchive

#: Listings whose changes are named one by one on standard error.
SHOWN_CHANGES = 20


class ReparseOptions(BaseModel):
    """Which listings to read again: by their first day."""

    since: dt.date | None = option(None, "first listing day, inclusive", "DATE")
    until: dt.date | None = option(None, "last listing day, inclusive", "DATE")

    @model_validator(mode="after")
    def _ordered(self) -> ReparseOptions:
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"--since {self.since} is after --until {self.until}")
        return self

    def chooses(self, period: Period) -> bool:
        return (self.since is None or period.end >= self.since) and (
            self.until is None or period.start <= self.until
        )


class Command(ReaderCommand[ReparseOptions]):
    options_model = ReparseOptions

    def short_desc(self) -> str:
        return "Read the raw answers kept (DIGEST_RAW_DIR) again into the archive, no request made"

    def execute(self, options: ReparseOptions) -> str:
        from digest_crawler.raw import kept_files, read_kept
        from digest_crawler.site.replay import listing_of
        from digest_crawler.storage.archive import CrawlArchive

        folder = self.config.raw_folder
        if folder is None:
            raise OptionError("DIGEST_RAW_ANSWERS is off: there are no raw answers to read")
        files = kept_files(folder) if folder.is_dir() else []
        if not files:
            raise OptionError(f"no raw answers (*.warc.gz) in {str(folder)!r}")
        planned: dict[str, set[dt.date]] = {}
        for kept in read_kept(folder):
            period = listing_of(kept)
            if period is not None and options.chooses(period):
                planned.setdefault(period.kind, set()).add(period.start)
        now = dt.datetime.now(dt.UTC)
        archive = CrawlArchive(
            self.config.database_url, self.config.batch_size, self.config.horizon, now.date()
        )
        try:
            return self._reparse(archive, folder, len(files), options, planned, now)
        except (sa.exc.SQLAlchemyError, migrate.SchemaError) as exc:
            raise ArchiveError(
                f"cannot store in {archive.shown}: {str(exc).splitlines()[0]}"
            ) from None
        finally:
            archive.close()

    def _reparse(
        self,
        archive: CrawlArchive,
        folder: Path,
        files: int,
        options: ReparseOptions,
        planned: dict[str, set[dt.date]],
        now: dt.datetime,
    ) -> str:
        from digest_crawler.pipelines import validate
        from digest_crawler.raw import read_kept
        from digest_crawler.site.reading import READING_RULES, Tally
        from digest_crawler.site.replay import AdoptionRead, Replayed, replay

        archive.upgrade()
        arguments = options.model_dump(mode="json", exclude_none=True)
        runs = {}
        for kind, days in sorted(planned.items()):
            periods = [Period(kind, day) for day in sorted(days)]  # type: ignore[arg-type]
            # Every read is stored again, whatever an interrupted reparse did.
            runs[kind] = archive.start_run("reparse", arguments, periods, now)
        totals: Counter[str] = Counter()
        changes: list[str] = []
        damaged: list[str] = []
        replayed = Replayed()
        notes = Tally()
        count: Callable[..., None] = lambda name, value=1: notes.count(name, value)  # noqa: E731
        for read in replay(read_kept(folder, damaged), notes, replayed):
            if isinstance(read, AdoptionRead):
                answer = read.adoption
                assert answer.read_at is not None
                if options.chooses(Period("day", answer.read_at.date())):
                    stored = archive.store_adoption(answer, answer.read_at, repaired_at=now)
                    totals["adoption"] += 1
                    totals["adoption_changed"] += stored == "changed"
                continue
            listing = read.listing
            if not options.chooses(Period(listing.period, listing.day)):
                continue
            validate(listing, count)
            archive.run, archive.today = runs[listing.period], read.today
            written = archive.store(listing, listing.read_at or now, repaired_at=now)
            totals["reads"] += 1
            totals[listing.outcome] += 1
            totals["papers"] += written.papers
            totals["new"] += written.new
            totals["changed"] += written.changed - written.new
            totals["snapshots"] += written.snapshots
            if written.changed:
                changes.append(
                    f"{listing.name} as read at {listing.read_at:%Y-%m-%dT%H:%M:%SZ}:"
                    f" {written.new} papers new, {written.changed - written.new} changed"
                )
        counts = {
            "items_stored": totals["papers"],
            "papers_new": totals["new"],
            "papers_updated": totals["papers"] - totals["new"],
            "items_rejected": notes.counts["rejected_items"],
        }
        for run in runs.values():
            archive.run = run
            archive.finish_run(dt.datetime.now(dt.UTC), "finished", counts)
        for line in changes[:SHOWN_CHANGES]:
            self.note(line)
        if len(changes) > SHOWN_CHANGES:
            self.note(f"and {len(changes) - SHOWN_CHANGES} more reads changed the archive")
        trouble = damaged + [f"{replayed.unfinished} reads a stopped run left unfinished"] * bool(
            replayed.unfinished
        )
        for line in trouble:
            self.note(line)
        if damaged:
            self.exitcode = 1
        listings = sum(len(days) for days in planned.values())
        return (
            f"{'FAILED: ' if damaged else ''}Read again {totals['reads']} reads of {listings}"
            f" listings from {files} files in {str(folder)!r} with reading rules"
            f" {READING_RULES}: {totals['papers']} papers stored ({totals['new']} new,"
            f" {totals['changed']} changed), {totals['snapshots']} upvote snapshots added,"
            f" {totals['no_digest']} without a digest, {totals['failed']} failed;"
            f" {totals['adoption']} Hub answers of what cites a paper read again"
            f" ({totals['adoption_changed']} changed its counts)"
            + (f"; {len(damaged)} damaged records not read" if damaged else "")
        )
