"""A run of the watches in-process, against an archive of the archive
helper (SQLite and PostgreSQL) and a webhook on loopback: a new watch
starts from its newest matches, later ones are sent once each."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import sqlalchemy as sa

from digest_crawler import watching
from digest_crawler.storage import make_engine, papers, watch_deliveries
from digest_crawler.watchfile import read_watches
from tests.support.archive import paper_row
from tests.support.notified import webhook
from tests.support.readback import read_atom

BASE_URL = "https://huggingface.co"


def ids(text: str) -> list[str]:
    return re.findall(r"/papers/([0-9]{4}\.[0-9]{5})", text)


def hows(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(watch_deliveries.c.how, sa.func.count()).group_by(watch_deliveries.c.how)
            ).all()
        return {how: count for how, count in rows}
    finally:
        engine.dispose()


def test_a_new_watch_sends_its_newest_matches_and_records_the_rest_as_seen(
    archive_url: str, tmp_path: Path
) -> None:
    lines: list[str] = []
    with webhook() as hook:
        (tmp_path / "watches.toml").write_text(
            f'[watches.summaries]\nquery = "summary"\nnotify = ["{hook.url}"]\n'
            f'feed = "{tmp_path / "summaries.atom"}"\nlimit = 5\nfeed_size = 7\n',
            encoding="utf-8",
        )
        watches = read_watches(tmp_path / "watches.toml", {})
        watching.check(archive_url, watches)
        done = watching.run(archive_url, BASE_URL, watches, lines.append)
        assert (done.messages, done.papers, done.feeds, lines) == (1, 5, 1, [])
        (post,) = hook.posts
        # The odd papers have a summary: the newest day's 25, its 5 highest ids.
        newest = [f"2608.{n:05d}" for n in (1949, 1947, 1945, 1943, 1941)]
        assert sorted(ids(post["message"])) == sorted(newest)
        assert "495 older matches of this new watch recorded as seen" in post["message"]
        assert hows(archive_url) == {"sent": 5, "seen": 495}
        entries = read_atom((tmp_path / "summaries.atom").read_bytes())
        assert len(entries) == 7

        # The next night: one new match, and a paper that does not match.
        day = dt.date(2026, 8, 18)
        engine = make_engine(archive_url)
        with engine.begin() as connection:
            connection.execute(
                sa.insert(papers), [paper_row(3, day), paper_row(4, day, ai_summary=None)]
            )
        engine.dispose()
        again = watching.run(archive_url, BASE_URL, watches, lines.append)
        assert (again.messages, again.papers) == (1, 1)
        assert ids(hook.posts[-1]["message"]) == ["2608.00003"]
        assert hook.posts[-1]["title"] == "1 new paper for the watch summaries"
        assert watching.run(archive_url, BASE_URL, watches, lines.append).messages == 0
        assert len(hook.posts) == 2 and lines == []
