"""``scrapy report`` on an archive crawled with the real command: the
commands README shows, the numbers against the archive, and the page opened
in headless Chromium (no console error, no request but the file itself);
then the report of a week, a quarter and the whole digest (about 1,300
days, 65,000 papers: tests/support/scale.py) opened the same way, each
read as a person would: a few rows a table, no date broken across lines,
curves labelled with titles.

The screenshots are kept in tests/artifacts/ (or the folder
DIGEST_TEST_ARTIFACTS names): report.png, report-week.png,
report-quarter.png and report-digest.png.
"""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path

import pytest

from digest_crawler.outputs.report import label
from tests.support import browser
from tests.support.cli import db_rows, scrapy

pytestmark = pytest.mark.system  # the real commands, in subprocesses

# Crawled once (archive, workdir: conftest.py): three days, and a week's and a month's list.
DAYS = ("2026-03-09", "2026-07-13", "2026-07-31", "week=2026-W31", "month=2026-07")
ARTIFACTS = Path(
    os.environ.get("DIGEST_TEST_ARTIFACTS", Path(__file__).resolve().parents[1] / "artifacts")
)
# What the page's tables say, read in the browser.
TABLES = """Object.fromEntries([...document.querySelectorAll("table")].map(table => [
  table.id, [...table.tBodies[0].rows].map(r => [...r.cells].map(c => c.textContent))
]))"""
# How the page reads: its height, the dates broken across lines (outside
# the charts), each table's rows, its headings.
LAYOUT = """(() => {
  const wrapped = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node; (node = walker.nextNode());) {
    for (const date of node.data.matchAll(/[0-9]{4}-[0-9]{2}-[0-9]{2}/g)) {
      const range = document.createRange();
      range.setStart(node, date.index);
      range.setEnd(node, date.index + date[0].length);
      const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
      if (lines.size > 1) wrapped.push(date[0]);
    }
  }
  return {
    height: document.documentElement.scrollHeight,
    wrapped: wrapped,
    rows: Object.fromEntries([...document.querySelectorAll("table")].map(
      table => [table.id, table.tBodies[0].rows.length])),
    headings: [...document.querySelectorAll("h2, h3")].map(h => h.textContent),
    columns: [...document.querySelectorAll("#top-papers th")].map(th => th.textContent),
    curves: [...document.querySelectorAll("#curves tbody tr")].map(
      r => [...r.cells].map(c => c.textContent)),
  };
})()"""


@pytest.fixture
def chromium() -> None:
    """Chromium to open a report in (skipped, or failed under CI's DIGEST_REQUIRE_SERVICES=1)."""
    browser.require_chromium()


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
    workdir: Path, chromium: None
) -> None:
    assert scrapy(workdir, "report", "-o", "report.html").returncode == 0
    seen = browser.visit(workdir / "report.html", ARTIFACTS / "report.png", TABLES)
    assert seen.console_errors == []
    assert seen.requests == [(workdir / "report.html").resolve().as_uri()]
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000

    database = workdir / "papers.sqlite"
    # 2026-03-09 to 2026-07-31: by month, a row for 2026; April to June had no papers.
    per_month = {
        int(r["month"]): r["n"]
        for r in db_rows(
            database,
            "SELECT substr(listing_date, 6, 2) AS month, count(*) AS n FROM papers GROUP BY 1",
        )
    }
    assert per_month == {3: 55, 7: 44}
    assert seen.values["over-time"] == [
        ["2026", "", "", "55", "0", "0", "0", "44", "", "", "", "", "", "99"]
    ]
    top = db_rows(
        database,
        "SELECT arxiv_id, title, listing_date, upvotes FROM papers ORDER BY upvotes DESC, arxiv_id",
    )
    assert seen.values["top-papers"][0][1:3] == [top[0]["title"], top[0]["arxiv_id"]]
    assert seen.values["top-papers"][0][4:] == [top[0]["listing_date"], "292"]
    # Each day was read once (a crawl of a day, then a list whose counts
    # are the same): no curve, and the page says so.
    assert curves_of(database) == []
    assert "curves" not in seen.values
    assert seen.values["organizations"][0] == ["muset.ai", "3", "114"]
    assert (workdir / "report.html").read_text(encoding="utf-8").count(
        "No paper of this span was read more than once, so there is no curve"
    ) == 1


def curves_of(database: Path, since: str = "0001-01-01") -> list[list[str]]:
    """The title and the upvotes of each snapshot of the five most upvoted
    papers listed since ``since`` that have more than one, as the curves'
    table should have them (its empty cells left out)."""
    rows = db_rows(
        database,
        "SELECT p.arxiv_id, p.title, s.upvotes FROM upvote_snapshots s JOIN"
        f" (SELECT arxiv_id, title, upvotes FROM papers WHERE listing_date >= '{since}'"
        " AND arxiv_id IN (SELECT arxiv_id FROM upvote_snapshots GROUP BY 1 HAVING count(*) > 1)"
        " ORDER BY upvotes DESC, arxiv_id LIMIT 5) p USING (arxiv_id)"
        " ORDER BY p.upvotes DESC, p.arxiv_id, s.id",
    )
    curves: dict[str, list[str]] = {}
    for row in rows:
        curves.setdefault(row["arxiv_id"], [row["title"]]).append(f"{row['upvotes']:,}")
    return list(curves.values())


# Each span's report: its name, its options, and how it counts the papers.
SPANS = (
    ("week", ("--since", "2026-07-25", "--until", "2026-07-31"), "Papers per listing day"),
    ("quarter", ("--since", "2026-05-03", "--until", "2026-07-31"), "Papers per week"),
    ("digest", (), "Papers per month"),
)


def test_a_week_a_quarter_and_the_whole_digest_each_read_in_a_few_screens(
    tmp_path: Path, chromium: None
) -> None:
    """On the whole digest (tests/support/scale.py: a backfill, then two
    months of daily crawls), each span's report has its counts in a table
    of a few rows (per-day detail is export's); no table longer than a
    screen; no date broken across lines; the upvote curves (the last two
    months' papers: the older ones were read once, by the backfill)
    labelled with their titles; no column repeating another; and the page
    a few screens high (the whole digest's was 24,700 px). One test: the
    archive is built once."""
    from tests.support.scale import make_scale_archive

    assert make_scale_archive(f"sqlite:///{tmp_path / 'papers.sqlite'}") > 60_000
    for name, span, counts in SPANS:
        report = tmp_path / f"report-{name}.html"
        result = scrapy(tmp_path, "report", *span, "-o", report.name)
        assert result.returncode == 0, result.stderr
        screenshot = ARTIFACTS / f"report-{name}.png"
        seen = browser.visit(report, screenshot, LAYOUT)
        assert seen.console_errors == []
        layout = seen.values
        assert layout["wrapped"] == [], name
        assert layout["headings"][:3] == [
            counts,
            "The most upvoted papers",
            "Upvotes over the days after listing",
        ]
        assert max(layout["rows"].values()) <= 14, (name, layout["rows"])
        assert layout["columns"] == ["#", "paper", "arXiv", "organization", "listed", "upvotes"]
        # The curves' table: each paper's snapshots, a column per day; the
        # chart: each curve labelled with its paper's title.
        since = span[1] if span else "0001-01-01"
        curves = [[cell for cell in row if cell] for row in layout["curves"]]
        assert curves == curves_of(tmp_path / "papers.sqlite", since) and len(curves) == 5
        drawn = re.findall(r"<!-- (.*?) -->", report.read_text(encoding="utf-8"))
        assert all(label(title) in drawn for title, *_ in curves)
        width, height = struct.unpack(">II", screenshot.read_bytes()[16:24])
        # 3,489 px for the quarter before the most adopted papers' section
        # (here its one line: this archive's crawls did not ask).
        assert height == layout["height"] <= 3_800 and width > 1_000, (name, width, height)


def test_without_chromium_the_browser_tests_skip_or_under_ci_fail(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(browser, "CHROMIUM", str(tmp_path / "chromium"))
    monkeypatch.setenv("DIGEST_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match=r"no Chromium at .*apt-get install chromium"):
        browser.require_chromium()
    monkeypatch.delenv("DIGEST_REQUIRE_SERVICES")
    with pytest.raises(pytest.skip.Exception):
        browser.require_chromium()


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
