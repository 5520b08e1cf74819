"""``scrapy watch``: send each watch of the watch file (``DIGEST_WATCHES``,
default ``watches.toml`` here) the papers its destinations were not yet
sent, and write its feed (``watching`` runs them; docs/watches.md).

Exit status 0: everything sent and written (or no watch file at the
default place: nothing to do); 1: a destination or feed failed, said in
one line each (its papers wait for the next run); 2: a watch file, setting
or archive no run can use, said in one line, nothing sent.
"""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict

from digest_crawler import watchfile, watching
from digest_crawler.cli import ReaderCommand, say
from digest_crawler.words import counted


class WatchOptions(BaseModel):
    """No option: the watch file says it all."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Command(ReaderCommand[WatchOptions]):
    options_model = WatchOptions

    def short_desc(self) -> str:
        return "Send the watches' new papers (Apprise) and write their feeds"

    def execute(self, options: WatchOptions) -> str:
        path, named = watchfile.default_or(self.config.watches)
        if not named and not path.is_file():
            return f"scrapy watch: no watch file ({path} here, or DIGEST_WATCHES): nothing to do"
        if named and not path.is_file():
            raise watchfile.WatchFileError(
                f"{self.config.source('watches')}: no file {str(path)!r}"
            )
        watches = watchfile.read_watches(path, dict(os.environ))
        watching.check(self.config.database_url, watches, self.config.kept)
        done = watching.run(self.config.database_url, self.config.base_url, watches, self.fail)
        summary = (
            f"{counted(len(watches), 'watch', 'watches')}: {counted(done.messages, 'message')}"
            f" sent ({counted(done.papers, 'paper')}), {counted(done.feeds, 'feed')} written"
        )
        if done.failures:
            self.exitcode = 1
            return f"scrapy watch: FAILED: {summary}; failed: {', '.join(done.failed)}"
        return f"Watched {summary}"

    def left_when_interrupted(self, options: WatchOptions | None) -> str:
        return (
            "what a destination accepted is recorded, but a message sent as it stopped,"
            " which the next run sends again; each feed is whole or as it was"
        )

    def fail(self, line: str) -> None:
        say(f"scrapy watch: failed: {line}")
