"""The raw answers a real crawl keeps as WARC (digest_crawler/raw.py):
every answer it reads, read back by warcio, each the moment its papers
were read, a settled answer kept once, and the crawl honest when they
cannot be kept."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from digest_crawler.raw import DECODED, kept_files, read_kept
from tests.conftest import FIXTURES
from tests.support.cli import crawl, db_rows
from tests.support.site import Answer, LocalSite

pytestmark = pytest.mark.system


def test_a_crawl_keeps_every_answer_it_reads_each_at_its_moment(
    site: LocalSite, tmp_path: Path
) -> None:
    pages = crawl(site.url, tmp_path, "-a", "start=2026-03-08", "-a", "end=2026-03-09")
    api = crawl(site.url, tmp_path, "-a", "date=2026-07-31", "-a", "source=api")
    assert (pages.returncode, api.returncode) == (0, 0), pages.stderr + api.stderr
    damaged: list[str] = []
    kept = list(read_kept(tmp_path / "raw", damaged))
    assert damaged == []
    assert [(k.url.removeprefix(site.url), k.status) for k in kept] == [
        ("/robots.txt", 200),
        ("/papers/date/2026-03-08", 302),  # a day without a digest: the redirect answers it
        ("/papers/date/2026-03-09", 200),
        ("/robots.txt", 200),
        ("/api/daily_papers?date=2026-07-31&limit=100&p=0", 200),
    ]
    assert kept[2].body == (FIXTURES / "listing-2026-03-09.html").read_bytes()
    assert kept[1].header("Location") == "/papers/date/2026-07-31"
    # Each paper was read at the moment its answer was received, to the microsecond.
    moments = {
        row["listing_date"]: row["scraped_at"]
        for row in db_rows(
            tmp_path / "papers.sqlite", "SELECT listing_date, scraped_at FROM papers"
        )
    }
    assert moments == {
        "2026-03-09": kept[2].received_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "2026-07-31": kept[4].received_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    # warcio reads every file whole, every digest right.
    for path in kept_files(tmp_path / "raw"):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream, check_digests=True):
                record.content_stream().read()
                assert record.digest_checker.passed is not False


def test_a_gzip_answer_is_kept_as_read_and_a_settled_one_once(
    site: LocalSite, tmp_path: Path
) -> None:
    page = (FIXTURES / "listing-2026-07-31.html").read_bytes()
    served = gzip.compress(page)
    site.routes["/papers/date/2026-07-31"] = Answer(
        body=served,
        headers={"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"},
    )
    for _ in range(2):
        result = crawl(site.url, tmp_path, "-a", "date=2026-07-31")
        assert result.returncode == 0, result.stderr
    first, second = kept_files(tmp_path / "raw")
    listing = [k for k in read_kept(tmp_path / "raw") if k.url.endswith("2026-07-31")]
    assert [k.body for k in listing] == [page, page]
    assert listing[0].header(DECODED) == f"gzip; served-length={len(served)}"
    assert listing[0].header("Content-Encoding") is None
    # The second read of the same bytes is a revisit: no second copy.
    assert second.stat().st_size < 3_000 < len(served) < first.stat().st_size
    assert "'digest/answers_revisited': 2" in result.stderr


def test_raw_answers_go_where_the_settings_say_or_nowhere(site: LocalSite, tmp_path: Path) -> None:
    off = crawl(site.url, tmp_path, "-a", "date=2026-07-31", "-s", "DIGEST_RAW_ANSWERS=False")
    assert off.returncode == 0, off.stderr
    assert not (tmp_path / "raw").exists()
    elsewhere = tmp_path / "kept" / "answers"
    on = crawl(site.url, tmp_path, "-a", "date=2026-07-31", "-s", f"DIGEST_RAW_DIR={elsewhere}")
    assert on.returncode == 0, on.stderr
    assert len(kept_files(elsewhere)) == 1 and not (tmp_path / "raw").exists()
    (tmp_path / "a-file").write_text("")
    bad = crawl(
        site.url, tmp_path, "-a", "date=2026-07-31", "-s", f"DIGEST_RAW_DIR={tmp_path / 'a-file'}"
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines()[-1].endswith("is not a directory")
    under = crawl(
        site.url,
        tmp_path,
        "-a",
        "date=2026-07-31",
        "-s",
        f"DIGEST_RAW_DIR={tmp_path / 'a-file' / 'raw'}",
    )
    assert under.returncode == 2
    assert (
        under.stderr.strip()
        .splitlines()[-1]
        .endswith(
            f"{str(tmp_path / 'a-file' / 'raw')!r} cannot be made:"
            f" {str(tmp_path / 'a-file')!r} is not a directory"
        )
    )


def test_answers_that_cannot_be_kept_fail_the_run_not_the_listing(
    site: LocalSite, tmp_path: Path
) -> None:
    """A raw folder on a file system that takes nothing (read-only): the
    listing is stored, the run says what was not kept and exits 1."""
    mount = tmp_path / "raw"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(mount)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        result = crawl(site.url, tmp_path, "-a", "date=2026-07-31")
    finally:
        subprocess.run(["umount", str(mount)], check=True)
    assert result.returncode == 1
    assert len(db_rows(tmp_path / "papers.sqlite", "SELECT arxiv_id FROM papers")) > 0
    assert result.stderr.strip().splitlines()[-1].endswith("; 2 answers could not be kept as WARC")
    assert result.stderr.count("Could not keep the raw answer") == 1
