"""Adoption (issue 24): the real ``scrapy crawl`` asks the local site's Hub
answers (``/api/papers/{id}``) what cites each paper it reads, keeps the
counts with their history, and never lets a call cost its listing."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import pytest

from tests.support.cli import crawl, db_rows, export, feed_lines, scrapy
from tests.support.site import Answer, LocalSite, json_answer
from tests.support.sitegen import api_entries, paper_answer

pytestmark = pytest.mark.system  # the real commands, in subprocesses

DAY = "2026-07-31"
#: The local site answers at once: no pace between its API calls.
NO_PACE = ("-s", "DIGEST_API_DELAY=0", "-s", "RETRY_TIMES=1")


def adoption(site: LocalSite, workdir: Path, *arguments: str) -> tuple[int, str]:
    result = crawl(site.url, workdir, "-a", f"date={DAY}", *NO_PACE, *arguments, adoption=True)
    return result.returncode, result.stderr


def papers(database: Path) -> dict[str, dict[str, object]]:
    rows = db_rows(
        database,
        "SELECT arxiv_id, linked_models, linked_datasets, linked_spaces, adoption_read_at"
        " FROM papers",
    )
    return {str(row.pop("arxiv_id")): row for row in rows}


def test_counts_are_stored_with_their_history_and_no_call_costs_its_listing(
    site: LocalSite, tmp_path: Path
) -> None:
    entries = api_entries()
    ids = [entry["paper"]["id"] for entry in entries]
    counted, missing, broken, hostile = ids[:-3], ids[-3], ids[-2], ids[-1]
    for n, arxiv_id in enumerate(counted):
        site.routes[f"/api/papers/{arxiv_id}"] = json_answer(paper_answer(entries[n], n, 1, 2 * n))
    # Not indexed: a 404. Failing: a 500 after retries. Hostile: another paper's answer.
    site.routes[f"/api/papers/{missing}"] = Answer(status=404, body=b'{"error":"Paper not found"}')
    site.routes[f"/api/papers/{broken}"] = Answer(status=500, body=b"oops")
    site.routes[f"/api/papers/{hostile}"] = json_answer(paper_answer(entries[0], 7, 7, 7))

    code, log = adoption(site, tmp_path)
    database = tmp_path / "papers.sqlite"
    assert code == 1, log[-3000:]  # a call failed: work left for the next run
    stored = papers(database)
    assert len(stored) == 30  # the listing whole, whatever its papers' calls did
    assert all(
        stored[arxiv_id]["linked_models"] == n and stored[arxiv_id]["linked_spaces"] == 2 * n
        for n, arxiv_id in enumerate(counted)
    )
    for arxiv_id in (missing, broken, hostile):  # NULL, not 0
        assert stored[arxiv_id]["linked_models"] is None, arxiv_id
        assert stored[arxiv_id]["adoption_read_at"] is None, arxiv_id
    due = db_rows(database, "SELECT arxiv_id, failures, reason FROM adoption_due ORDER BY 1")
    assert due == sorted(
        [
            {"arxiv_id": broken, "failures": 1, "reason": "HTTP 500 after retries"},
            {
                "arxiv_id": hostile,
                "failures": 1,
                "reason": f"the answer is for paper {ids[0]!r}, not {hostile!r}",
            },
        ],
        key=lambda row: str(row["arxiv_id"]),
    )
    (reject,) = db_rows(database, "SELECT * FROM rejected_items")
    assert reject["page_url"].endswith(f"/api/papers/{hostile}")
    assert json.loads(reject["payload"])["id"] == ids[0]
    assert (
        "the Hub asked what cites 30 papers (1 not indexed, 1 rejected, 1 failed),"
        " 2 left for the next run" in log
    )
    assert "'digest/adoption_read': 27" in log
    snapshots = db_rows(database, "SELECT arxiv_id, linked_models FROM adoption_snapshots")
    assert len(snapshots) == 27

    # The next run: the failed and rejected calls are asked again and now
    # answer; one paper's counts moved, the others' did not.
    site.routes[f"/api/papers/{broken}"] = json_answer(paper_answer(entries[-2], 0, 0, 0))
    site.routes[f"/api/papers/{hostile}"] = json_answer(paper_answer(entries[-1], 1, 0, 0))
    site.routes[f"/api/papers/{ids[0]}"] = json_answer(paper_answer(entries[0], 50, 1, 0))
    code, log = adoption(site, tmp_path)
    assert code == 0, log[-3000:]
    assert db_rows(database, "SELECT * FROM adoption_due") == []
    stored = papers(database)
    assert stored[ids[0]]["linked_models"] == 50
    assert stored[broken]["linked_models"] == 0 and stored[hostile]["linked_models"] == 1
    history = db_rows(
        database, "SELECT arxiv_id, linked_models FROM adoption_snapshots ORDER BY id"
    )
    # One snapshot more for the paper that moved and one for each paper read
    # the first time; none for the 26 whose counts stayed.
    assert len(history) == 27 + 3
    assert [row["linked_models"] for row in history if row["arxiv_id"] == ids[0]] == [0, 50]

    # Every export carries the counts; --with-history their history.
    result = export(tmp_path, "--with-history", "-o", "out.jsonl")
    assert result.returncode == 0, result.stderr
    records = {record["arxiv_id"]: record for record in feed_lines(tmp_path / "out.jsonl")}
    first = records[ids[0]]
    assert (first["linked_models"], first["linked_datasets"], first["linked_spaces"]) == (50, 1, 0)
    assert [s["linked_models"] for s in first["adoption_snapshots"]] == [0, 50]
    assert records[missing]["linked_models"] is None
    assert records[missing]["adoption_snapshots"] == []

    # Papers with artifacts: the same filter in export and search.
    cited = {ids[0], ids[25], ids[26]}  # 50, 25 and 26 models
    result = export(tmp_path, "--min-models", "25", "-o", "cited.jsonl")
    assert result.returncode == 0, result.stderr
    assert {r["arxiv_id"] for r in feed_lines(tmp_path / "cited.jsonl")} == cited
    result = scrapy(tmp_path, "search", "model", "--min-models", "25", "--json", "--limit", "50")
    assert result.returncode == 0, result.stderr
    found = {json.loads(line)["arxiv_id"] for line in result.stdout.splitlines()}
    assert found and found <= cited
    result = export(tmp_path, "--min-spaces", "-1", "-o", "x.jsonl")
    assert result.returncode == 2 and "--min-spaces" in result.stderr

    # The report's most adopted papers: the one cited most first (26 models,
    # a dataset, 52 Spaces), with what cited it when first asked.
    result = scrapy(tmp_path, "report", "-o", "report.html")
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    section = page[page.index('id="adoption-heading"') :].split("</section>")[0]
    first_row = section.split("<tbody>")[1].split("</tr>")[0]
    assert ids[26] in first_row and ">52<" in first_row and ">79 on " in first_row
    assert section.count("<tr>") == 1 + 10 and "<svg" in section


def test_adoption_off_asks_nothing(site: LocalSite, tmp_path: Path) -> None:
    code, log = adoption(site, tmp_path, "-s", "DIGEST_ADOPTION=False")
    assert code == 0, log[-3000:]
    assert not [path for path in site.requests if path.startswith("/api/papers/")]
    assert db_rows(tmp_path / "papers.sqlite", "SELECT * FROM adoption_due") == []


def test_each_paper_is_asked_once_and_not_indexed_is_no_failure(
    site: LocalSite, tmp_path: Path
) -> None:
    code, log = adoption(site, tmp_path)
    assert code == 0, log[-3000:]  # the local site indexes nothing: 404s
    asked = [path for path in site.requests if path.startswith("/api/papers/")]
    assert len(asked) == len(set(asked)) == 30
    assert "'digest/adoption_not_indexed': 30" in log
    assert db_rows(tmp_path / "papers.sqlite", "SELECT * FROM adoption_due") == []


def test_the_scheduled_run_asks_for_its_tail_days(site: LocalSite, tmp_path: Path) -> None:
    """The daily run's slow tail: the papers of the listing day 30 days back
    are asked again (the site itself serves no day of the schedule)."""
    code, log = adoption(site, tmp_path, "-s", "DIGEST_ADOPTION=False")
    assert code == 0, log[-3000:]
    site.requests.clear()
    today = dt.date.fromisoformat(DAY) + dt.timedelta(days=30)
    result = crawl(
        site.url,
        tmp_path,
        *NO_PACE,
        "-s",
        f"DIGEST_TODAY={today}",
        "-s",
        "DIGEST_STALE_DAYS=100",
        adoption=True,
    )
    asked = [path for path in site.requests if path.startswith("/api/papers/")]
    assert len(asked) == 30, result.stderr[-3000:]


def test_listing_and_adoption_calls_share_the_api_s_published_pace(
    site: LocalSite, tmp_path: Path
) -> None:
    """One bucket, as the site counts it: the listing's API call and the 30
    papers' calls together never go faster than the policy the answers
    publish (here 10 calls per 2 s: 0.204 s a call with the margin)."""
    policy = '"fixed window";"api";q=10;w=2'
    site.answer(f"/api/daily_papers?date={DAY}&limit=100&p=0").headers["RateLimit-Policy"] = policy
    for entry in api_entries():
        answer = json_answer(paper_answer(entry, 1, 0, 0))
        answer.headers["RateLimit-Policy"] = policy
        site.routes[f"/api/papers/{entry['paper']['id']}"] = answer
    result = crawl(
        site.url, tmp_path, "-a", "source=api", "-a", f"date={DAY}", feed=None, adoption=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    calls = [moment for path, moment in site.times if path.startswith("/api/")]
    assert len(calls) == 31
    # The site's rule, from its side: no 2 s window holds more than 10 calls;
    # and once the policy is known (after the first answer), a pace apart on
    # average (one arrival may come a few ms late on a loaded machine, the
    # next as much early: the client times its requests, not their arrival).
    assert all(sum(t <= s < t + 2 for s in calls) <= 10 for t in calls)
    gaps = [later - earlier for earlier, later in itertools.pairwise(calls)]
    assert min(gaps) >= 0.204 * 0.8, gaps
    assert (calls[-1] - calls[1]) / 29 >= 0.204 * 0.98, gaps
    assert calls[-1] - calls[0] < 30 * 0.62  # the published pace, not DIGEST_API_DELAY's


@pytest.mark.parametrize(
    "refusal",
    [
        Answer(status=429, body=b"slow down", headers={"Retry-After": "999999"}),
        Answer(status=500, body=b"oops"),
    ],
    ids=["a pause of 277 h 46 min", "failures in a row"],
)
def test_a_hub_that_refuses_its_calls_is_asked_no_more_in_the_run(
    site: LocalSite, tmp_path: Path, refusal: Answer
) -> None:
    """A hostile Hub's Retry-After: 999999 kept a run going for days (each
    call waited DIGEST_RATELIMIT_MAX_WAIT, 5 times): now the calls stop at
    once (or after 3 failed in a row), the listing is stored, and the
    papers left stay due for the next run (exit 1, said)."""
    for entry in api_entries():
        site.routes[f"/api/papers/{entry['paper']['id']}"] = refusal
    code, log = adoption(site, tmp_path)
    assert code == 1, log[-3000:]
    calls = [path for path in site.requests if path.startswith("/api/papers/")]
    failed = 1 if refusal.status == 429 else 3
    assert len(calls) == failed * (1 if refusal.status == 429 else 2)  # (RETRY_TIMES=1)
    database = tmp_path / "papers.sqlite"
    assert len(papers(database)) == 30
    due = db_rows(database, "SELECT arxiv_id FROM adoption_due")
    assert len(due) == 30  # every paper still to ask, the failed ones and the rest
    summary = log.strip().splitlines()[-1]
    assert f" {failed} failed), 30 left for the next run" in summary, summary
    assert "Stopped asking the Hub what cites each paper" in log
    site.routes.update(
        {
            f"/api/papers/{entry['paper']['id']}": json_answer(paper_answer(entry, 1, 0, 0))
            for entry in api_entries()
        }
    )
    code, log = adoption(site, tmp_path)
    assert code == 0, log[-3000:]
    assert db_rows(database, "SELECT arxiv_id FROM adoption_due") == []


def test_a_redirect_from_the_hub_is_rejected_and_not_followed(
    site: LocalSite, tmp_path: Path
) -> None:
    """Followed, another port's counts were stored as every paper's."""
    for entry in api_entries():
        arxiv_id = entry["paper"]["id"]
        site.routes[f"/api/papers/{arxiv_id}"] = Answer(
            status=302, headers={"Location": f"http://127.0.0.1:9/api/papers/{arxiv_id}"}
        )
    code, log = adoption(site, tmp_path)
    assert code == 1, log[-3000:]
    stored = papers(tmp_path / "papers.sqlite")
    assert len(stored) == 30 and {row["linked_models"] for row in stored.values()} == {None}
    assert "(0 not indexed, 30 rejected, 0 failed)" in log.strip().splitlines()[-1]
    rejected = db_rows(tmp_path / "papers.sqlite", "SELECT reason FROM rejected_items")
    assert len(rejected) == 30
    assert all(row["reason"].endswith("': HTTP 302") for row in rejected)
