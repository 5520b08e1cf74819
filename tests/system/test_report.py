"""``scrapy report`` on an archive crawled with the real command: the
commands README shows, the numbers against the archive, and the page opened
in headless Chromium (no console error, no request but the file itself; a
screenshot kept in tests/artifacts/, or DIGEST_TEST_ARTIFACTS)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.support.cli import db_rows, scrapy

pytestmark = pytest.mark.system  # the real commands, in subprocesses

# Crawled once (archive, workdir: conftest.py): three days, and a week's and a month's list.
DAYS = ("2026-03-09", "2026-07-13", "2026-07-31", "week=2026-W31", "month=2026-07")
ARTIFACTS = Path(
    os.environ.get("DIGEST_TEST_ARTIFACTS", Path(__file__).resolve().parents[1] / "artifacts")
)
# What the page's tables say, read in the browser.
TABLES = """Object.fromEntries(["per-day", "top-papers", "organizations", "keywords"].map(id => [
  id, [...document.querySelectorAll(`#${id} tbody tr`)].map(r => [...r.cells].map(c => c.textContent))
]))"""


def test_the_commands_readme_shows(workdir: Path) -> None:
    every = scrapy(workdir, "report", "-o", "report.html")
    assert every.returncode == 0, every.stderr
    assert every.stderr.strip() == (
        "Reported 99 papers on 3 listing days (2026-03-09 to 2026-07-31) to report.html"
    )
    july = scrapy(
        workdir, "report", "--since", "2026-07-01", "--until", "2026-07-31", "-o", "july.html"
    )
    assert july.stderr.strip().startswith(
        "Reported 44 papers on 2 listing days (2026-07-01 to 2026-07-31)"
    )
    # A month's list as the site ranks it: the same papers here.
    month = scrapy(workdir, "report", "--month", "2026-07", "-o", "july-list.html")
    assert month.stderr.strip().startswith(
        "Reported 44 papers on 2 listing days (2026-07-01 to 2026-07-31)"
    )
    week = scrapy(
        workdir, "report", "--week", "2026-W31", "--organization", "Kling Team", "-o", "kling.html"
    )
    assert week.stderr.strip().startswith(
        "Reported 2 papers on 1 listing day (2026-07-27 to 2026-08-02)"
    )
    spanned = scrapy(workdir, "report", "--since", "2026-07-01", "--until", "2026-07-15", "-o", "-")
    assert spanned.returncode == 0 and spanned.stdout.startswith("<!DOCTYPE html>")
    # Deterministic: the same archive gives the same bytes.
    assert scrapy(workdir, "report", "-o", "again.html").returncode == 0
    assert (workdir / "again.html").read_bytes() == (workdir / "report.html").read_bytes()


def test_the_report_renders_offline_in_chromium_and_its_numbers_match_the_archive(
    workdir: Path,
) -> None:
    if not Path(shutil.which("chromium") or "/usr/bin/chromium").exists():
        pytest.skip("no Chromium (apt-get install chromium) to open the report in")
    from tests.support.browser import visit

    assert scrapy(workdir, "report", "-o", "report.html").returncode == 0
    seen = visit(workdir / "report.html", ARTIFACTS / "report.png", TABLES)
    assert seen.console_errors == []
    assert seen.requests == [(workdir / "report.html").resolve().as_uri()]
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000

    database = workdir / "papers.sqlite"
    per_day = db_rows(
        database, "SELECT listing_date, count(*) AS n FROM papers GROUP BY 1 ORDER BY 1"
    )
    assert seen.values["per-day"] == [[r["listing_date"], str(r["n"])] for r in per_day]
    top = db_rows(database, "SELECT arxiv_id, upvotes FROM papers ORDER BY upvotes DESC, arxiv_id")
    assert seen.values["top-papers"][0][1:2] == [top[0]["arxiv_id"]]
    assert seen.values["top-papers"][0][5] == str(top[0]["upvotes"]) == "292"
    snapshots = db_rows(
        database,
        f"SELECT upvotes FROM upvote_snapshots WHERE arxiv_id = '{top[0]['arxiv_id']}' ORDER BY id",
    )
    assert seen.values["top-papers"][0][6] == " → ".join(str(r["upvotes"]) for r in snapshots)
    assert seen.values["organizations"][0] == ["muset.ai", "3", "114"]
    assert seen.values["keywords"]  # 2026-07-13's papers have keywords; 03-09's have none


def test_an_empty_span_gives_a_report_that_says_so(workdir: Path) -> None:
    result = scrapy(workdir, "report", "--until", "2025-12-31", "-o", "empty.html")
    assert result.returncode == 0, result.stderr
    page = (workdir / "empty.html").read_text(encoding="utf-8")
    assert "No papers in this span (until 2025-12-31)." in page
    assert "<svg" not in page
    assert (
        result.stderr.strip()
        == "Reported 0 papers on 0 listing days (until 2025-12-31) to empty.html"
    )


def test_a_list_the_archive_does_not_hold_is_an_empty_report_with_a_note(workdir: Path) -> None:
    result = scrapy(workdir, "report", "--month", "2026-01", "-o", "empty.html")
    assert result.returncode == 0, result.stderr
    note, summary = result.stderr.strip().splitlines()
    assert summary.startswith("Reported 0 papers on 0 listing days (2026-01-01 to 2026-01-31)")
    assert note == (
        "scrapy report: note: no list of the month 2026-01 is stored (crawl it with scrapy"
        " crawl daily -a month=2026-01; its days: --since 2026-01-01 --until 2026-01-31)"
    )
    page = (workdir / "empty.html").read_text(encoding="utf-8")
    assert "No papers in this span (the month list 2026-01, 2026-01-01 to 2026-01-31)." in page


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--week", "2026-W54"], "option --week: '2026-W54' is not a week (2026 has 53 ISO weeks)"),
        (["--month", "2026-13"], "option --month: '2026-13' is not a month"),
        (
            ["--month", "2026-07", "--since", "2026-07-20", "--until", "2026-07-02"],
            "option --since: 2026-07-20 is after --until 2026-07-02",
        ),
        (
            ["--week", "2026-W31", "--month", "2026-07"],
            "option --week and --month: give one list, not both",
        ),
        (["-o", "no/such/dir/report.html"], "option --output: no directory 'no/such/dir'"),
        (["extra"], "unexpected argument 'extra'"),
    ],
)
def test_bad_options_are_one_line_errors(workdir: Path, arguments: list[str], message: str) -> None:
    result = scrapy(workdir, "report", *arguments)
    assert result.returncode == 2
    assert result.stderr.startswith(f"scrapy report: error: {message}")
    assert result.stderr.count("\n") == 1 and not (workdir / "report.html").exists()
