"""README's first hour, followed word for word: each line of its code block,
run as a person runs it from a checkout, against a local copy of the site
that the environment names (DIGEST_BASE_URL, DIGEST_TODAY: the commands
themselves are README's, unchanged)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from digest_crawler.periods import Period
from tests.support import docs
from tests.support.cli import PROJECT, crawl_env, db_rows
from tests.support.seed import seed_papers
from tests.support.site import serve
from tests.support.sitegen import seed_entries

pytestmark = pytest.mark.system

TODAY = dt.date(2026, 7, 31)  # the fixtures' day: the site's real API answer for it


def test_the_first_hour_as_readme_gives_it(tmp_path: Path) -> None:
    lines = docs.shell_lines(docs.section("README.md", "Your first hour"))
    assert [line.split()[1] for line in lines] == ["crawl", "export", "search", "install"]
    checkout = tmp_path / "digest_crawler"
    checkout.mkdir()
    shutil.copy(PROJECT / "scrapy.cfg", checkout / "scrapy.cfg")
    (checkout / ".venv").symlink_to(Path(sys.executable).parent.parent)
    papers = seed_papers()
    with serve() as site:
        for back in range(1, 14):  # the 13 days before: five seed papers each
            day = TODAY - dt.timedelta(days=back)
            site.add_api(Period.parse("day", str(day)), seed_entries(day, papers[back::13][:5]))
        env = {
            **crawl_env(),
            "PYTHONPATH": "",  # the installed project, as from a checkout
            "DIGEST_BASE_URL": site.url,
            "DIGEST_TODAY": str(TODAY),
            # The local site answers at once: its API calls need no pace.
            "DIGEST_API_DELAY": "0",
        }
        results = []
        for line in lines:
            # The installs are what this test's environment already did.
            command = " && ".join(part for part in line.split(" && ") if " install " not in part)
            results.append(
                subprocess.run(
                    ["/bin/sh", "-c", command],
                    cwd=checkout,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=180,
                )
            )
        api_calls = [path for path in site.page_requests() if path.startswith("/api/daily")]
        adoption_calls = [path for path in site.page_requests() if path.startswith("/api/papers")]
    crawled, _, searched, reported = results
    for result in results:
        assert result.returncode == 0, result.stderr[-2000:]
    assert len(api_calls) == 14
    stored = db_rows(checkout / "papers.sqlite", "SELECT arxiv_id FROM papers")
    # What cites each paper was asked once (the local site indexes none: 404s).
    assert sorted(adoption_calls) == sorted(f"/api/papers/{r['arxiv_id']}" for r in stored)
    assert crawled.stderr.splitlines()[-1].startswith(
        "scrapy crawl daily: OK: 14 of 14 days stored"
    )
    records = [json.loads(line) for line in (checkout / "papers.jsonl").read_text().splitlines()]
    assert sorted(r["arxiv_id"] for r in records) == sorted(r["arxiv_id"] for r in stored)
    assert len({r["listing_date"] for r in records}) == 14
    assert searched.stdout.startswith("1. ") and "language model" in searched.stderr
    page = (checkout / "report.html").read_text(encoding="utf-8")
    assert page.count("<svg") >= 2  # the papers per day, the organizations
    assert reported.stderr.startswith(f"Reported {len(stored)} papers on 14 listing days")
