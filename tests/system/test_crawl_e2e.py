"""The real ``scrapy crawl daily`` command against a local server of the fixtures."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from digest_crawler.paper import PAPER_FIELDS
from digest_crawler.site.pages import parse_listing
from digest_crawler.storage.migrate import head_version
from tests.conftest import FIXTURES, fixture_text
from tests.support.cli import crawl as run_crawl
from tests.support.cli import db_rows as sql_rows
from tests.support.cli import export, feed_lines, scrapy, table
from tests.support.site import Answer, LocalSite
from tests.support.sitegen import hostile_entries

pytestmark = pytest.mark.system  # the real commands, in subprocesses


def crawl(
    site: LocalSite | Any, workdir: Path, *arguments: str, feed: str | None = "papers.jsonl"
) -> Any:
    return run_crawl(site.url, workdir, *arguments, feed=feed)


def run_export(workdir: Path, database_url: str | None) -> Any:
    return export(workdir, "-o", "export.jsonl", database_url=database_url)


def db_rows(path: Path, name: str = "papers") -> list[dict[str, Any]]:
    """A table's rows; papers in the order of their (first) listing's page."""
    if name != "papers":
        return table(path, name)
    return sql_rows(
        path,
        "SELECT papers.* FROM papers JOIN listings USING (arxiv_id)"
        " GROUP BY papers.arxiv_id ORDER BY min(listings.listing_date), min(listings.rank)",
    )


def test_crawl_stores_every_paper_of_the_day_and_writes_the_feed(
    site: LocalSite, tmp_path: Path
) -> None:
    result = crawl(site, tmp_path, "-a", "date=2026-07-31")
    assert result.returncode == 0, result.stderr
    # The default database: papers.sqlite in the working directory.
    rows = db_rows(tmp_path / "papers.sqlite")
    feed = feed_lines(tmp_path / "papers.jsonl")
    page = parse_listing(
        fixture_text("listing-2026-07-31.html"), f"{site.url}/papers/date/2026-07-31"
    )
    assert (
        [r["arxiv_id"] for r in rows]
        == [p["arxiv_id"] for p in page.papers]
        == [f["arxiv_id"] for f in feed]
    )
    assert site.page_requests() == ["/papers/date/2026-07-31"]
    assert site.requests.count("/robots.txt") == 1

    for line in feed:
        assert list(line) == list(PAPER_FIELDS)  # exactly the contract's fields, in order
    by_id = {row["arxiv_id"]: row for row in rows}
    line = next(f for f in feed if f["arxiv_id"] == "2607.28618")
    row = by_id["2607.28618"]
    expected = {
        "arxiv_id": "2607.28618",
        "url": f"{site.url}/papers/2607.28618",
        "title": "AskChem: Claim-Centered Infrastructure for Chemistry Literature Synthesis",
        "authors": ["Bing Yan", "Gregory Wolfe", "Stefano Martiniani", "Kyunghyun Cho"],
        "author_count": 4,
        "organization": "New York University",
        "organization_id": "newyorkuniversity",
        "published_at": "2026-07-30",
        "listing_date": "2026-07-31",
        "submitted_at": "2026-07-31T00:00:00Z",
        "upvotes": 292,
        "num_comments": 2,
        "github_repo": "https://github.com/bingyan4science/askchem",
        "github_stars": 8,
        "project_page": "https://www.askchem.org",
        "submitted_by": "bing-yan",
    }
    assert {k: line[k] for k in expected} == expected
    assert line["abstract"].startswith("Chemistry literature synthesis often requires")
    assert line["abstract"].endswith("AskChem is live at https://askchem.org.")
    scraped = dt.datetime.fromisoformat(line["scraped_at"])
    assert line["scraped_at"].endswith("Z") and abs(
        dt.datetime.now(dt.UTC) - scraped
    ) < dt.timedelta(minutes=5)
    # The row holds the same values (SQLite keeps dates as text, moments as
    # ISO 8601 UTC text with a Z and six decimals, so that they sort as text).
    assert {k: row[k] for k in expected if k != "authors"} | {
        "authors": json.loads(row["authors"])
    } == (expected | {"submitted_at": "2026-07-31T00:00:00.000000Z"})
    assert row["abstract"] == line["abstract"]
    assert row["first_seen_at"] == row["last_seen_at"]
    assert "'digest/papers_stored': 30" in result.stderr


def test_second_crawl_updates_instead_of_duplicating(site: LocalSite, tmp_path: Path) -> None:
    assert crawl(site, tmp_path, "-a", "date=2026-07-31").returncode == 0
    before = {r["arxiv_id"]: r for r in db_rows(tmp_path / "papers.sqlite")}
    page = fixture_text("listing-2026-07-31.html")
    # 292 upvotes become 311 for AskChem: the counts grow after a paper is listed.
    changed = page.replace("&quot;upvotes&quot;:292", "&quot;upvotes&quot;:311").replace(
        '<div class="leading-none">292</div>', '<div class="leading-none">311</div>'
    )
    assert changed != page
    site.routes["/papers/date/2026-07-31"] = Answer(body=changed.encode())

    result = crawl(site, tmp_path, "-a", "date=2026-07-31")
    assert result.returncode == 0, result.stderr
    after = {r["arxiv_id"]: r for r in db_rows(tmp_path / "papers.sqlite")}
    assert len(after) == len(before) == 30
    assert after["2607.28618"]["upvotes"] == 311
    assert after["2607.28618"]["first_seen_at"] == before["2607.28618"]["first_seen_at"]
    assert after["2607.28618"]["last_seen_at"] > before["2607.28618"]["last_seen_at"]
    assert after["2607.28618"]["changed_at"] > before["2607.28618"]["changed_at"]
    assert (
        after["2607.23193"]["changed_at"] == before["2607.23193"]["changed_at"]
    )  # unchanged paper
    assert len(feed_lines(tmp_path / "papers.jsonl")) == 30  # -O overwrites the feed
    assert (
        "'digest/papers_new': 0" in result.stderr and "'digest/papers_updated': 30" in result.stderr
    )


def test_hostile_text_is_stored_and_exported_exactly(site: LocalSite, tmp_path: Path) -> None:
    result = crawl(site, tmp_path, "-a", "date=2026-03-10")
    assert result.returncode == 0, result.stderr
    expected = [" ".join(e["paper"]["title"].split()) for e in hostile_entries()]
    assert [r["title"] for r in db_rows(tmp_path / "papers.sqlite")] == expected
    feed = feed_lines(tmp_path / "papers.jsonl")
    assert [f["title"] for f in feed] == expected
    raw = (tmp_path / "papers.jsonl").read_text(encoding="utf-8")
    assert "中文 テスト 🚀" in raw  # UTF-8, not \\u escapes
    assert (
        feed[0]["abstract"]
        == "We write &amp; literally, keep <script>alert(1)</script> as text, and say \"hi\" & 'bye'."
    )
    assert feed[2]["organization"] == 'AT&T <Labs> "Research"'


def test_redirected_day_stores_nothing_and_logs_the_served_day(
    site: LocalSite, tmp_path: Path
) -> None:
    result = crawl(site, tmp_path, "-a", "date=2026-03-08")
    assert result.returncode == 0, result.stderr  # a day without a digest is normal
    assert db_rows(tmp_path / "papers.sqlite") == []
    assert feed_lines(tmp_path / "papers.jsonl") == []
    assert site.page_requests() == ["/papers/date/2026-03-08"]  # the redirect is read, not followed
    assert "No digest for 2026-03-08: the site redirects to 2026-07-31" in result.stderr
    assert "'digest/no_digest_listings': 1" in result.stderr


def test_page_without_hydration_is_stored_from_its_cards(site: LocalSite, tmp_path: Path) -> None:
    result = crawl(site, tmp_path, "-a", "date=2026-03-11")
    assert result.returncode == 0, result.stderr
    rows = db_rows(tmp_path / "papers.sqlite")
    assert len(rows) == 20
    assert all(r["abstract"] is None and r["published_at"] is None for r in rows)
    assert rows[1]["organization"] == "Apple" and rows[0]["author_count"] == 6
    assert "WARNING" in result.stderr and "'digest/fallback_pages': 1" in result.stderr


def test_invalid_papers_are_kept_aside_with_their_reason(site: LocalSite, tmp_path: Path) -> None:
    page = fixture_text("listing-2026-07-31.html").replace(
        "&quot;upvotes&quot;:292", "&quot;upvotes&quot;:-5"
    )
    site.routes["/papers/date/2026-07-31"] = Answer(body=page.encode())
    result = crawl(site, tmp_path, "-a", "date=2026-07-31")
    assert result.returncode == 0, result.stderr
    assert len(db_rows(tmp_path / "papers.sqlite")) == 29
    (rejected,) = db_rows(tmp_path / "papers.sqlite", "rejected_items")
    assert rejected["arxiv_id"] == "2607.28618"
    assert rejected["page_url"] == f"{site.url}/papers/date/2026-07-31"
    assert "upvotes" in rejected["reason"] and json.loads(rejected["payload"])["upvotes"] == -5
    assert "'digest/rejected_items': 1" in result.stderr


def test_a_fallback_read_of_a_day_keeps_what_a_good_read_stored(
    site: LocalSite, tmp_path: Path
) -> None:
    """2026-03-12 has broken JSON: its 20 papers come from the cards, without
    names, abstracts or dates. Read after 2026-03-09 (the same papers in
    full), it erases none of them."""
    assert crawl(site, tmp_path, "-a", "date=2026-03-09").returncode == 0
    before = {r["arxiv_id"]: r for r in db_rows(tmp_path / "papers.sqlite")}
    result = crawl(site, tmp_path, "-a", "date=2026-03-12")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "'digest/fallback_pages': 1" in result.stderr
    after = {r["arxiv_id"]: r for r in db_rows(tmp_path / "papers.sqlite")}
    read_again = [
        arxiv_id
        for arxiv_id, row in after.items()
        if row["scraped_at"] != before[arxiv_id]["scraped_at"]
    ]
    assert len(read_again) == 20
    for arxiv_id in read_again:
        for name in ("authors", "abstract", "published_at", "submitted_at"):
            assert after[arxiv_id][name] == before[arxiv_id][name] is not None, (arxiv_id, name)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_number_no_column_holds_costs_only_its_paper(
    site: LocalSite, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    page = fixture_text("listing-2026-07-31.html")
    page = page.replace("&quot;upvotes&quot;:292", f"&quot;upvotes&quot;:{2**63}")
    page = page.replace("&quot;githubStars&quot;:111", f"&quot;githubStars&quot;:{2**31}")
    site.routes["/papers/date/2026-07-31"] = Answer(body=page.encode())
    url = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    settings = ("-s", f"DIGEST_DATABASE_URL={url}") if url else ()
    result = crawl(site, tmp_path, "-a", "date=2026-07-31", *settings, feed="crawl.jsonl")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "'digest/papers_stored': 28" in result.stderr
    assert "'digest/rejected_items': 2" in result.stderr
    assert len(feed_lines(tmp_path / "crawl.jsonl")) == 28
    export = run_export(tmp_path, url)
    assert export.returncode == 0, export.stderr
    assert len(feed_lines(tmp_path / "export.jsonl")) == 28
    if url is None:
        rejected = db_rows(tmp_path / "papers.sqlite", "rejected_items")
        assert sorted(r["arxiv_id"] for r in rejected) == ["2607.28568", "2607.28618"]
        (day,) = db_rows(tmp_path / "papers.sqlite", "crawl_listings")
        assert (day["outcome"], day["papers"]) == ("stored", 28)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_texts_beyond_postgresql_s_indexes_cost_nothing(
    site: LocalSite, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    # A 3,000-character organization (a btree row holds about 2,700 bytes)
    # and two abstracts of 1.3 MB of words (a tsvector holds 1 MB): the run
    # once stopped with storage_error on PostgreSQL, on every rerun.
    long_name = "Alaya " + " ".join(f"lab{n:04d}" for n in range(375))[:2994]
    words = " ".join(f"w{n:06d}x" for n in range(130_000))
    page = fixture_text("listing-2026-07-31.html").replace("Alaya Lab", long_name)
    page = page.replace(
        "&quot;summary&quot;:&quot;Existing token compression",
        f"&quot;summary&quot;:&quot;{words} Existing token compression",
    )
    site.routes["/papers/date/2026-07-31"] = Answer(body=page.encode())
    url = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    settings = ("-s", f"DIGEST_DATABASE_URL={url}") if url else ()
    result = crawl(site, tmp_path, "-a", "date=2026-07-31", *settings)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "'digest/papers_stored': 30" in result.stderr
    assert "digest/rejected_items" not in result.stderr
    found = scrapy(tmp_path, "search", "w000000x", "--json", database_url=url)
    assert found.returncode == 0, found.stderr
    assert len(found.stdout.splitlines()) == 1
    chosen = export(tmp_path, "-o", "-", "--organization", long_name.upper(), database_url=url)
    assert chosen.returncode == 0, chosen.stderr
    assert {json.loads(line)["organization"] for line in chosen.stdout.splitlines()} == {long_name}


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("date=2026-02-30", "argument date: '2026-02-30' is not a valid date"),
        ("date=yesterday", "argument date: 'yesterday' is not a date (expected YYYY-MM-DD)"),
    ],
)
def test_bad_argument_is_one_line_and_non_zero_before_any_request(
    site: LocalSite, tmp_path: Path, argument: str, message: str
) -> None:
    result = crawl(site, tmp_path, "-a", argument)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"scrapy crawl daily: error: {result.stderr.strip().split('error: ', 1)[1]}"
    ]
    assert message in result.stderr
    assert site.requests == []
    assert not (tmp_path / "papers.sqlite").exists()


@pytest.mark.parametrize("base_url", ["http://", "huggingface.co", "ftp://example.org"])
def test_unusable_base_url_is_a_one_line_error(tmp_path: Path, base_url: str) -> None:
    class Bad:
        url = base_url

    result = crawl(Bad(), tmp_path, "-a", "date=2026-07-31")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"scrapy crawl daily: error: setting DIGEST_BASE_URL: {base_url!r} is not an http(s) URL with a host"
    )
    assert not (tmp_path / "papers.sqlite").exists()


def test_unreachable_site_is_reported_and_fails_the_run(tmp_path: Path) -> None:
    class Nowhere:
        url = "http://127.0.0.1:9"  # the discard port: connection refused

    result = crawl(Nowhere(), tmp_path, "-a", "date=2026-07-31", "-s", "RETRY_TIMES=0")
    assert result.returncode == 1
    fetch_error = next(line for line in result.stderr.splitlines() if "Could not fetch" in line)
    assert "Could not fetch http://127.0.0.1:9/papers/date/2026-07-31: " in fetch_error
    assert (
        "Connection was refused" in fetch_error and "nothing stored for 2026-07-31" in fetch_error
    )
    assert "'digest/failed_pages': 1" in result.stderr


def test_http_error_page_is_reported_and_fails_the_run(site: LocalSite, tmp_path: Path) -> None:
    site.routes["/papers/date/2026-07-31"] = Answer(status=500, body=b"oops")
    result = crawl(site, tmp_path, "-a", "date=2026-07-31", "-s", "RETRY_TIMES=1")
    assert result.returncode == 1
    assert site.page_requests() == ["/papers/date/2026-07-31"] * 2  # one retry
    assert "Could not fetch http://" in result.stderr and "500" in result.stderr
    assert db_rows(tmp_path / "papers.sqlite") == []


def test_a_crawl_upgrades_an_archive_of_version_1_before_its_first_write(
    site: LocalSite, tmp_path: Path
) -> None:
    shutil.copy(FIXTURES / "archive-v1.sqlite", tmp_path / "papers.sqlite")
    runs_before = len(db_rows(tmp_path / "papers.sqlite", "crawl_runs"))
    result = crawl(site, tmp_path, "-a", "date=2026-07-31")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (
        f"Upgraded the archive sqlite:///papers.sqlite from schema version 1 to {head_version()}"
        in result.stderr
    )
    runs = db_rows(tmp_path / "papers.sqlite", "crawl_runs")
    assert len(runs) == runs_before + 1 and runs[-1]["started_at"].endswith("Z")


def test_scrapy_s_own_tools_work_on_the_spider(site: LocalSite, tmp_path: Path) -> None:
    """scrapy parse, scrapy shell with parse_listing, and crawl -h, as README
    shows them. Parse and shell only read: an archive (of schema version 1,
    which a writer would upgrade) is left as it was, byte for byte; before,
    parse wrote an unfinished 6-day run into it (which the next daily run
    resumed) and logged a stale site."""
    from tests.support.cli import FAST, scrapy

    url = f"{site.url}/papers/date/2026-07-31"
    shutil.copy(FIXTURES / "archive-v1.sqlite", tmp_path / "papers.sqlite")
    before = (tmp_path / "papers.sqlite").read_bytes()
    # FAST: robots.txt, then the page without the real site's 3.5 s between them.
    parsed = scrapy(
        tmp_path, "parse", "--spider", "daily", "-s", f"DIGEST_BASE_URL={site.url}", *FAST, url
    )
    assert parsed.returncode == 0, parsed.stderr[-3000:]
    assert "'outcome': 'served'" in parsed.stdout and "Traceback" not in parsed.stderr
    assert "served nothing new" not in parsed.stderr and "ERROR" not in parsed.stderr
    code = "len(__import__('digest_crawler.site.pages').site.pages.parse_listing(response.text, response.url).papers)"
    shell = scrapy(tmp_path, "shell", "--nolog", *FAST, url, "-c", code)
    assert (shell.returncode, shell.stdout.strip()) == (0, "30"), shell.stderr[-3000:]
    with_spider = scrapy(
        tmp_path, "shell", "--nolog", "--spider", "daily", *FAST, url, "-c", "response.status"
    )
    assert (with_spider.returncode, with_spider.stdout.strip()) == (0, "200")
    assert (tmp_path / "papers.sqlite").read_bytes() == before
    assert [path.name for path in tmp_path.iterdir()] == ["papers.sqlite"]
    usage = scrapy(tmp_path, "crawl", "daily", "-h")
    assert usage.returncode == 0
    # The spider's arguments, a list: one line each.
    starts = [line.split("=...")[0].strip() for line in usage.stdout.splitlines()]
    for name in ("date", "start", "end", "days", "refresh", "refresh_days", "source"):
        assert f"-a {name}" in starts


def test_parse_needs_no_setting_but_the_site_and_says_when_a_url_is_not_of_it(
    site: LocalSite, tmp_path: Path
) -> None:
    """Without --spider (the project has one) and with the site from the
    environment, nothing is made. A URL of another site was dropped by
    Scrapy's offsite filter: "No response downloaded", exit status 0."""
    from tests.support.cli import FAST, scrapy

    url = f"{site.url}/papers/date/2026-07-31"
    parsed = scrapy(tmp_path, "parse", *FAST, url, environment={"DIGEST_BASE_URL": site.url})
    assert parsed.returncode == 0, parsed.stderr[-3000:]
    assert "'outcome': 'served'" in parsed.stdout
    assert list(tmp_path.iterdir()) == []
    elsewhere = scrapy(tmp_path, "parse", *FAST, url)
    assert (elsewhere.returncode, elsewhere.stderr.splitlines()) == (
        2,
        [
            f"scrapy parse: error: {url} is not on the configured site https://huggingface.co"
            f" (give -s DIGEST_BASE_URL={site.url}, or set it in the environment)"
        ],
    )
    no_listing = scrapy(
        tmp_path,
        "parse",
        *FAST,
        f"{site.url}/papers/trending",
        environment={"DIGEST_BASE_URL": site.url},
    )
    assert no_listing.returncode == 2 and len(no_listing.stderr.splitlines()) == 1
    assert "names no listing" in no_listing.stderr
    assert site.requests.count("/papers/date/2026-07-31") == 1  # the refused ones asked nothing
    assert list(tmp_path.iterdir()) == []


def test_an_option_for_a_spider_argument_is_one_line_saying_the_form(tmp_path: Path) -> None:
    """Scrapy said "running 'scrapy crawl' with more than one spider is not
    supported" after 16 lines of its start-up log."""
    from tests.support.cli import scrapy

    result = scrapy(tmp_path, "crawl", "daily", "--date", "2026-07-31")
    assert (result.returncode, result.stderr.splitlines()) == (
        2,
        [
            "scrapy crawl: error: unknown option '--date': a spider argument is given as"
            " -a NAME=VALUE (-a date=2026-07-31)"
        ],
    )
    assert list(tmp_path.iterdir()) == []


def test_the_site_s_ai_summary_keywords_and_thumbnail_are_stored_and_exported(
    site: LocalSite, tmp_path: Path
) -> None:
    result = crawl(site, tmp_path, "-a", "date=2026-07-13", feed="crawl.jsonl")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {r["arxiv_id"]: r for r in db_rows(tmp_path / "papers.sqlite")}
    flow = rows["2607.06957"]
    assert flow["ai_summary"].startswith("Flow-ERD is a multi-agent traffic simulator")
    assert json.loads(flow["ai_keywords"])[:2] == ["multi-agent simulator", "flow matching"]
    assert all(
        r["thumbnail"].startswith("https://cdn-thumbnails.huggingface.co/") for r in rows.values()
    )
    assert sum(r["ai_summary"] is not None for r in rows.values()) == 2
    exported = run_export(tmp_path, None)
    assert exported.returncode == 0, exported.stderr
    records = {r["arxiv_id"]: r for r in feed_lines(tmp_path / "export.jsonl")}
    assert records["2607.06957"]["ai_keywords"] == json.loads(flow["ai_keywords"])
    crawled = {r["arxiv_id"]: r for r in feed_lines(tmp_path / "crawl.jsonl")}
    assert crawled["2607.06957"]["thumbnail"] == flow["thumbnail"]
