"""``scrapy search`` on an archive crawled with the real command (SQLite
and PostgreSQL), with the commands README shows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import crawl, scrapy
from tests.support.site import serve

pytestmark = pytest.mark.system  # the real commands, in subprocesses

DAYS = ("2026-03-09", "2026-07-31")  # crawled once: archive, workdir (conftest.py)


def test_the_commands_readme_shows(workdir: Path) -> None:
    best = scrapy(workdir, "search", "memory")
    assert best.returncode == 0, best.stderr
    lines = best.stdout.splitlines()
    assert lines[0] == "1. Memory Decoder at Scale: A Pretrained, Parametric Long-Term Memory"
    assert lines[1] == "   2607.27919 · listed 2026-07-31 · 49 upvotes"
    assert "**memory**" in lines[2].lower()
    assert best.stderr == "the 10 best matches for 'memory' (there may be more: --limit N)\n"
    fewer = scrapy(workdir, "search", "memory", "--limit", "1000")
    assert fewer.stderr.endswith(" matches for 'memory', best first\n"), fewer.stderr
    titles = [line for line in fewer.stdout.splitlines() if not line.startswith(" ")]
    assert 10 < len(titles) < 1000
    assert fewer.stderr == f"{len(titles)} matches for 'memory', best first\n"

    spanned = scrapy(
        workdir,
        "search",
        '"reinforcement learning" OR agent*',
        "--since",
        "2026-03-01",
        "--until",
        "2026-03-31",
        "--limit",
        "20",
    )
    assert spanned.returncode == 0, spanned.stderr
    assert spanned.stderr.startswith(
        "the 20 best matches for '\"reinforcement learning\" OR agent*' (there may be more: --limit N)"
    )
    assert "listed 2026-03-09" in spanned.stdout
    assert "listed 2026-07-31" not in spanned.stdout

    records = scrapy(workdir, "search", "agent*", "--organization", "Kling Team", "--json")
    assert records.returncode == 0, records.stderr
    assert [json.loads(line) for line in records.stdout.splitlines()] == [
        {
            "rank": 1,
            "arxiv_id": "2607.28595",
            "title": "Beacon: Knowing When and How to Perform Agentic Visual Reasoning",
            "url": json.loads(records.stdout)["url"],
            "listing_date": "2026-07-31",
            "upvotes": 47,
            "organization": "Kling Team",
            "snippet": json.loads(records.stdout)["snippet"],
        }
    ]
    assert "**agentic**" in json.loads(records.stdout)["snippet"].lower()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (['"unbalanced'], "scrapy search: error: cannot parse the query '\"unbalanced': "),
        (["AND"], "scrapy search: error: cannot parse the query 'AND': fts5: syntax error"),
        ([], 'scrapy search: error: no query (scrapy search "QUERY")'),
        (["x", "--limit", "0"], "scrapy search: error: option --limit: Input should be greater"),
        (["x", "--since", "2026-02-30"], "scrapy search: error: option --since: '2026-02-30'"),
    ],
)
def test_a_query_or_option_it_cannot_use_is_one_line_and_exit_2(
    workdir: Path, arguments: list[str], message: str
) -> None:
    result = scrapy(workdir, "search", *arguments)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1


def test_no_archive_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = scrapy(tmp_path, "search", "memory")
    assert result.returncode == 2
    assert result.stderr.startswith("scrapy search: error: no database at")


def test_search_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    with serve() as site:
        stored = crawl(
            site.url, tmp_path, "-a", "date=2026-07-31", "-s", f"DIGEST_DATABASE_URL={postgres_url}"
        )
        assert stored.returncode == 0, stored.stderr[-2000:]
    best = scrapy(tmp_path, "search", "memory", "--json", database_url=postgres_url)
    assert best.returncode == 0, best.stderr
    records = [json.loads(line) for line in best.stdout.splitlines()]
    assert records[0]["arxiv_id"] == "2607.27919"  # "Memory" twice in its title
    assert "**Memory**" in records[0]["snippet"] or "**memory**" in records[0]["snippet"]
    # websearch_to_tsquery reads any text: a lone quote is no error there.
    assert scrapy(tmp_path, "search", '"unbalanced', database_url=postgres_url).returncode == 0


def test_a_title_s_escape_sequences_are_shown_not_acted_on(workdir: Path) -> None:
    """Text a hostile site put in a paper (kept as served) reaches the
    terminal escaped; ``--json`` keeps it exact (JSON escapes it)."""
    import sqlite3

    title = "Pwned\x1b]0;owned\x07\x1b[2J\u202eevil"
    connection = sqlite3.connect(workdir / "papers.sqlite")
    with connection:  # the search index follows (its triggers)
        connection.execute(
            "UPDATE papers SET title = ?, organization = ? WHERE arxiv_id = '2607.27919'",
            (title, "Lab\x1b[31m"),
        )
    connection.close()
    shown = scrapy(workdir, "search", "pwned")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[0] == "1. Pwned\\x1b]0;owned\\x07\\x1b[2J\\u202eevil"
    assert "Lab\\x1b[31m" in shown.stdout
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in shown.stdout + shown.stderr
    records = scrapy(workdir, "search", "pwned", "--json")
    assert json.loads(records.stdout)["title"] == title
