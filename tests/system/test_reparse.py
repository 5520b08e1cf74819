"""scrapy reparse, for real: an archive rebuilt from the raw answers alone
(the site gone) equals the one the crawls made, history and all; and an
archive an older parser read is repaired in place."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.support import docs
from tests.support.cli import crawl, crawl_env, db_rows, export, scrapy
from tests.support.site import Answer, json_answer, serve
from tests.support.sitegen import api_entries, paper_answer

pytestmark = pytest.mark.system

API_0731 = "/api/daily_papers?date=2026-07-31&limit=100&p=0"
#: The local site answers at once: its API calls need no pace.
NO_PACE = ("-s", "DIGEST_API_DELAY=0")


def more_upvotes(text: str, pattern: str, add: int) -> str:
    """The answer ``text`` with every upvote count ``add`` higher."""
    return re.sub(pattern, lambda m: m.group(1) + str(int(m.group(2)) + add), text)


def crawl_history(workdir: Path) -> None:
    """Several reads through both doors: a day without a digest, a day
    read from its cards (no hydration JSON), upvotes that move between
    reads, and a day read again at its horizon (settled); and what cites
    each paper, asked beside the listings: counts that move between reads,
    papers the Hub has not indexed (the seed days': 404)."""
    page = (FIXTURES / "listing-2026-03-09.html").read_text(encoding="utf-8")
    api = (FIXTURES / "sources" / "api-daily-papers-2026-07-31.json").read_text(encoding="utf-8")
    entries = api_entries()
    with serve() as site:
        for n, entry in enumerate(entries):
            answer = json_answer(paper_answer(entry, n, n % 3, 0))
            site.routes[f"/api/papers/{entry['paper']['id']}"] = answer
        runs: list[tuple[str, ...]] = [
            ("-a", "start=2026-03-08", "-a", "end=2026-03-11", "-s", "DIGEST_TODAY=2026-03-11"),
            ("-a", "date=2026-07-31", "-a", "source=api", "-s", "DIGEST_TODAY=2026-07-31"),
        ]
        for arguments in runs:
            result = crawl(site.url, workdir, *arguments, *NO_PACE, feed=None, adoption=True)
            assert result.returncode == 0, result.stderr[-2000:]
        for entry in entries[:10]:
            answer = json_answer(paper_answer(entry, 100, 1, 1))
            site.routes[f"/api/papers/{entry['paper']['id']}"] = answer
        site.routes["/papers/date/2026-03-09"] = Answer(
            body=more_upvotes(page, r"(&quot;upvotes&quot;:)(\d+)", 3).encode()
        )
        site.routes[API_0731] = json_answer(more_upvotes(api, r'("upvotes":)(\d+)', 5).encode())
        runs = [
            ("-a", "date=2026-03-09", "-s", "DIGEST_TODAY=2026-03-23"),  # its horizon: settled
            ("-a", "date=2026-07-31", "-a", "source=api", "-s", "DIGEST_TODAY=2026-08-01"),
        ]
        for arguments in runs:
            result = crawl(site.url, workdir, *arguments, *NO_PACE, feed=None, adoption=True)
            assert result.returncode == 0, result.stderr[-2000:]


def test_an_archive_rebuilt_from_the_raw_answers_alone_equals_the_crawled_one(
    tmp_path: Path,
) -> None:
    crawl_history(tmp_path)
    crawled = export(tmp_path, "--with-history", "-o", "crawled.jsonl")
    assert crawled.returncode == 0, crawled.stderr
    (tmp_path / "papers.sqlite").rename(tmp_path / "crawled.sqlite")
    for wal in tmp_path.glob("papers.sqlite-*"):
        wal.unlink()
    # The site is gone: no request can be made.
    rebuilt = scrapy(tmp_path, "reparse")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert rebuilt.stderr.splitlines()[-1].startswith(
        "Read again 7 reads of 5 listings from 4 files"
    )
    assert "1 without a digest, 0 failed" in rebuilt.stderr
    assert export(tmp_path, "--with-history", "-o", "rebuilt.jsonl").returncode == 0
    text = (tmp_path / "crawled.jsonl").read_text()
    assert (tmp_path / "rebuilt.jsonl").read_text() == text
    # What was compared holds the history: changed upvotes, a settled day, the cards' read.
    assert text.count('"upvote_snapshots": [{') > 50 and '"settled": true' in text
    assert text.count('"adoption_snapshots": [{"observed_at"') == 30
    # Ten papers' counts moved: on the paper and in its latest snapshot.
    assert text.count('"linked_models": 100') == 2 * 10
    cards = db_rows(
        tmp_path / "papers.sqlite", "SELECT * FROM listings WHERE listing_date = '2026-03-11'"
    )
    assert len(cards) == 20  # the day read from its cards
    snapshots = db_rows(tmp_path / "papers.sqlite", "SELECT count(*) AS n FROM upvote_snapshots")
    assert snapshots == db_rows(
        tmp_path / "crawled.sqlite", "SELECT count(*) AS n FROM upvote_snapshots"
    )
    # The lines docs/raw-answers.md shows, as given (their span within the days kept).
    for line in docs.shell_lines(docs.text("raw-answers.md"), ".venv/bin/"):
        command = line.replace(".venv/bin/", f"{Path(sys.executable).parent}/")
        shown = subprocess.run(
            ["/bin/sh", "-c", command],
            cwd=tmp_path,
            env=crawl_env(),
            capture_output=True,
            text=True,
        )
        assert shown.returncode == 0, (line, shown.stderr)
        if "warcio index" in line:
            records = [json.loads(record) for record in shown.stdout.splitlines()]
            kinds = [
                r["warc-type"]
                for r in records
                if "/api/papers/" not in r.get("warc-target-uri", "")
            ]
            # Each run's robots.txt after the first is the same body: a revisit.
            assert (kinds.count("response"), kinds.count("revisit")) == (8, 3)
            # The Hub's answers for the papers: the 20 whose counts did not
            # move, read again, are revisits.
            asked = [r for r in records if "/api/papers/2607." in r.get("warc-target-uri", "")]
            assert len([r for r in asked if r["warc-type"] == "revisit"]) == 20
    # Read again onto itself: nothing changes, and it says so.
    again = scrapy(tmp_path, "reparse")
    assert again.returncode == 0, again.stderr
    assert "(0 new, 0 changed), 0 upvote snapshots added" in again.stderr
    assert export(tmp_path, "--with-history", "-o", "again.jsonl").returncode == 0
    assert (tmp_path / "again.jsonl").read_text() == text


OLDER_RULES = (
    "SELECT DISTINCT listing FROM crawl_listings WHERE outcome = 'stored'"
    " EXCEPT SELECT listing FROM crawl_listings WHERE reading_rules >= 1 ORDER BY listing"
)


def test_reparse_repairs_what_an_older_parser_read_and_says_what_changed(
    tmp_path: Path,
) -> None:
    crawl_history(tmp_path)
    database = tmp_path / "papers.sqlite"
    assert export(tmp_path, "--with-history", "-o", "crawled.jsonl").returncode == 0
    # As an older parser left it: abstracts it missed, titles it garbled,
    # and no reading rules' version in the ledger.
    shutil.copy(database, tmp_path / "before-repair.sqlite")
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE papers SET abstract = NULL WHERE listing_date = '2026-07-31'")
        connection.execute("UPDATE papers SET title = 'garbled' WHERE listing_date = '2026-03-09'")
        connection.execute("UPDATE crawl_listings SET reading_rules = NULL")
    assert [row["listing"] for row in db_rows(database, OLDER_RULES)] == [
        "2026-03-09",
        "2026-03-10",
        "2026-03-11",
        "2026-07-31",
    ]
    repaired = scrapy(tmp_path, "reparse", "--since", "2026-03-01")
    assert repaired.returncode == 0, repaired.stderr
    notes = [line for line in repaired.stderr.splitlines() if " note: " in line]
    # The first read of 2026-07-31 fills the abstracts (an older read only
    # fills); the last read of 2026-03-09 puts its titles right.
    garbled = len(
        db_rows(
            tmp_path / "before-repair.sqlite",
            "SELECT 1 FROM papers WHERE listing_date = '2026-03-09'",
        )
    )
    assert [line.split(" as read at ")[0].rsplit(" ", 1)[1] for line in notes] == [
        "2026-07-31",
        "2026-03-09",
    ]
    assert notes[0].endswith(": 0 papers new, 30 changed")
    assert notes[1].endswith(f": 0 papers new, {garbled} changed")
    assert export(tmp_path, "--with-history", "-o", "repaired.jsonl").returncode == 0
    crawled = (tmp_path / "crawled.jsonl").read_text().splitlines()
    repaired_lines = (tmp_path / "repaired.jsonl").read_text().splitlines()
    # Every record as crawled, but for when its repair changed it (changed_at).
    assert [re.sub(r'"changed_at": "[^"]*", ', "", line) for line in repaired_lines] == [
        re.sub(r'"changed_at": "[^"]*", ', "", line) for line in crawled
    ]
    assert db_rows(database, OLDER_RULES) == []
