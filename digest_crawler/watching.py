"""A run of the watches (``scrapy watch``): everything checked, then for
each watch and destination one message of the papers it was not yet
sent, recorded once the destination accepted it, and each watch's feed.

- **Checked first**: the file (``watchfile``), the archive (of this
  release's schema, as the readers want it), each query (run once against
  the archive: FTS5 refuses one it cannot parse) and each feed's folder;
  a fault is one line and nothing is sent.
- **Never twice**: runs take turns (``deliveries.one_run_at_a_time``); a
  paper is recorded for a destination only after it accepted the message.
  A destination that did not is said in one line; its papers wait for the
  next run, the other destinations are sent all the same.
- **Nothing floods**: a message lists at most the watch's ``limit`` papers,
  best first, and says how many more matched (recorded as sent: the feed
  holds them). A watch's first run for a destination sends its newest
  ``limit`` matches and records the older ones as seen.
- **A feed per watch**: Atom, its latest ``feed_size`` matches, written
  whole or not at all, on every run (a failed destination or not).
"""

from __future__ import annotations

import datetime as dt
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from digest_crawler.outputs import formats
from digest_crawler.outputs.files import OutputError, check_target, write_output
from digest_crawler.outputs.messages import message
from digest_crawler.outputs.notify import send
from digest_crawler.outputs.records import records
from digest_crawler.storage import deliveries, queries
from digest_crawler.storage.engine import make_engine
from digest_crawler.storage.search import SearchError, search
from digest_crawler.watchfile import Watched, WatchFileError, described


@dataclass
class Outcome:
    """What a run did."""

    messages: int = 0
    papers: int = 0
    feeds: int = 0
    #: One line per destination that did not accept its message, or feed
    #: that could not be written.
    failures: list[str] = field(default_factory=list)
    #: What failed, each named short (``[watches.NAME] destination``).
    failed: list[str] = field(default_factory=list)


def check(url: str, watches: list[Watched], kept: Sequence[tuple[Path, str]] = ()) -> None:
    """The archive can be read and each watch used with it (no feed is one
    of the archive's own files, ``kept``): a ``WatchFileError`` (or the
    readers' ``ArchiveError``) otherwise."""
    with queries.reading(url) as connection:
        for watched in watches:
            query = watched.watch.query
            if query is not None:
                try:
                    search(connection, query, watched.watch.chosen, 1)
                except SearchError as exc:
                    raise WatchFileError(f"[watches.{watched.name}] query: {exc}") from None
    for watched in watches:
        if watched.feed is not None:
            try:
                check_target(str(watched.feed), kept)
            except OutputError as exc:
                reason = str(exc).removeprefix("option --output: ")
                raise WatchFileError(f"[watches.{watched.name}] feed: {reason}") from None


def run(
    url: str,
    base_url: str,
    watches: list[Watched],
    say: Callable[[str], None],
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> Outcome:
    """Send and write every watch (``check`` them first); ``say`` is given
    a line for each destination or feed that failed."""
    outcome = Outcome()
    reader, writer = queries.open_archive(url), make_engine(url)
    try:
        with deliveries.one_run_at_a_time(url):
            for watched in watches:
                _watch(_Archive(reader, writer), base_url, watched, outcome, now)
    except OSError as exc:  # the lock file beside a SQLite archive
        raise queries.ArchiveError(
            f"cannot lock the archive for the watches: {exc.strerror or exc} ({exc.filename or ''})"
        ) from None
    except sa.exc.SQLAlchemyError as exc:
        first = (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0]
        raise queries.ArchiveError(f"cannot read or write the archive: {first}") from None
    finally:
        reader.dispose()
        writer.dispose()
    for line in outcome.failures:
        say(line)
    return outcome


@dataclass(frozen=True)
class _Archive:
    """The archive read (a reader's engine: no lock a crawl waits for) and
    written (what was delivered)."""

    reader: Engine
    writer: Engine


def _watch(
    archive: _Archive,
    base_url: str,
    watched: Watched,
    outcome: Outcome,
    now: Callable[[], dt.datetime],
) -> None:
    watch = watched.watch
    with archive.reader.connect() as connection:
        found = deliveries.matches(connection, watch.chosen, watch.query, watch.author)
    where = str(watched.feed) if watched.feed is not None else _command(watched)
    for destination in watched.destinations:
        with archive.reader.connect() as connection:
            done = deliveries.delivered(connection, watched.name, destination.shown)
        new = [paper for paper in found if paper.arxiv_id not in done]
        if not new:
            continue
        if done:  # the destination had this watch's earlier matches
            listed, more = _best(new, watch.limit)
            seen: list[deliveries.Matched] = []
        else:  # a first run: its newest matches, the older ones seen
            listed, more = _best(new[: watch.limit], watch.limit)
            seen = new[watch.limit :]
        text = message(watched.name, listed, len(more), len(seen), where)
        reason = send(destination.url, text, destination.secrets)
        if reason is not None:
            outcome.failures.append(
                f"[watches.{watched.name}] {destination.shown}: not sent ({reason});"
                f" its {len(new)} new papers wait for the next run"
            )
            outcome.failed.append(f"[watches.{watched.name}] {destination.shown}")
            continue
        hows = {paper.arxiv_id: "sent" for paper in (*listed, *more)}
        hows.update({paper.arxiv_id: "seen" for paper in seen})
        with archive.writer.begin() as connection:
            deliveries.record(connection, watched.name, destination.shown, hows, now())
        outcome.messages += 1
        outcome.papers += len(listed) + len(more)
    if watched.feed is not None:
        _write_feed(archive.reader, base_url, watched, [p.arxiv_id for p in found], outcome)


def _best(
    new: list[deliveries.Matched], limit: int
) -> tuple[list[deliveries.Matched], list[deliveries.Matched]]:
    """The papers a message lists (the best ``limit``) and the others."""
    ranked = deliveries.sorted_best_first(new)
    return ranked[:limit], ranked[limit:]


def _write_feed(
    reader: Engine,
    base_url: str,
    watched: Watched,
    newest: list[str],
    outcome: Outcome,
) -> None:
    """The watch's feed: its latest ``feed_size`` matches, newest first."""
    assert watched.feed is not None
    among = newest[: watched.watch.feed_size]
    about = formats.about(queries.PaperFilter(), base_url, with_history=False)
    title = f"Hugging Face Daily Papers: watch {watched.name} ({described(watched.watch)})"
    about = formats.About(about.fields, title, about.link)
    try:
        with reader.connect() as connection:
            stream = records(connection, queries.PaperFilter(), newest_first=True, among=among)
            write_output(str(watched.feed), lambda out: formats.write_atom(stream, out, about))
    except OutputError as exc:
        reason = str(exc).removeprefix("option --output: ")
        outcome.failures.append(f"[watches.{watched.name}] feed: {reason}")
        outcome.failed.append(f"[watches.{watched.name}] feed")
        return
    outcome.feeds += 1


def _command(watched: Watched) -> str:
    """The command that lists a watch's matches, for a watch without a feed."""
    watch = watched.watch
    options = []
    if watch.organization is not None:
        options += ["--organization", watch.organization]
    for name in ("min_upvotes", "min_models", "min_datasets", "min_spaces"):
        least = getattr(watch, name)
        if least is not None:
            options += [f"--{name.replace('_', '-')}", str(least)]
    if watch.query is not None:
        command = ["scrapy", "search", watch.query, *options, "--limit", "1000"]
    else:
        command = ["scrapy", "export", *options]
    shown = shlex.join(command)
    return shown + (f" (by {watch.author})" if watch.author is not None else "")
