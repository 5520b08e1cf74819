"""``scrapy crawl`` (``commands/crawl.py``): the paths checked before the
crawl, and which finished crawls go wrong (exit status 1). The command
itself runs in tests/system/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scrapy.settings import Settings

from digest_crawler.commands.crawl import _check_feeds, _check_paths, _resolver_for, _went_wrong
from tests.support.crawler import make_crawler


def test_a_log_file_needs_its_directory_and_a_jobdir_is_made(tmp_path: Path) -> None:
    _check_paths(Settings({"LOG_FILE": str(tmp_path / "crawl.log"), "JOBDIR": str(tmp_path / "j")}))
    assert (tmp_path / "j").is_dir() and not (tmp_path / "crawl.log").exists()
    with pytest.raises(ValueError, match=r"^setting LOG_FILE: no directory '.*/logs'$"):
        _check_paths(Settings({"LOG_FILE": str(tmp_path / "logs" / "crawl.log")}))
    with pytest.raises(ValueError, match=r"^setting JOBDIR: cannot make '/proc/nope/job': "):
        _check_paths(Settings({"JOBDIR": "/proc/nope/job"}))
    # A traceback each before: a directory, a name too long.
    with pytest.raises(ValueError, match=r"^setting LOG_FILE: '.*' is a directory$"):
        _check_paths(Settings({"LOG_FILE": str(tmp_path)}))
    with pytest.raises(ValueError, match=r"^setting LOG_FILE: cannot write '.*': File name too"):
        _check_paths(Settings({"LOG_FILE": str(tmp_path / ("a" * 300))}))
    assert list(tmp_path.iterdir()) == [tmp_path / "j"]


def test_a_feed_to_a_file_that_cannot_be_written_is_refused_before_the_crawl(
    tmp_path: Path,
) -> None:
    """Scrapy opens a feed at its first item: one it cannot write was a
    traceback in the log, and the run passed for done without its feed."""

    def feeds(*uris: str) -> Settings:
        return Settings({"FEEDS": {uri: {"format": "jsonl"} for uri in uris}})

    old = tmp_path / "old.jsonl"
    old.write_text("kept\n")
    _check_feeds(feeds(str(old), str(tmp_path / "new" / "x.jsonl"), "stdout:", "s3://b/x.jsonl"))
    _check_feeds(feeds(f"file://{tmp_path}/y.csv"))
    assert old.read_text() == "kept\n" and sorted(p.name for p in tmp_path.iterdir()) == [
        "old.jsonl"
    ]
    for uri, message in [
        (str(tmp_path), "is a directory"),
        (str(tmp_path / ("a" * 300 + ".jsonl")), "File name too long"),
        ("/proc/x.jsonl", "cannot write '/proc/x.jsonl'"),
        (f"file://{tmp_path / ('b' * 300)}.csv", "File name too long"),
    ]:
        with pytest.raises(ValueError, match=f"^option -O/-o: .*{message}"):
            _check_feeds(feeds(uri))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.jsonl"]


def test_a_base_url_at_an_ipv6_address_gets_a_resolver_that_knows_ipv6() -> None:
    """Scrapy's default resolver failed every request to ``[::1]`` as an
    unknown host name; the project's own choice of resolver is kept."""
    resolver = "scrapy.resolver.CachingHostnameResolver"
    for base_url, expected in (("http://[::1]:8080", resolver), ("http://127.0.0.1:8080", None)):
        settings = Settings()
        _resolver_for(base_url, settings)
        assert (settings.get("TWISTED_DNS_RESOLVER") == resolver) is (expected is not None)
    own = Settings({"TWISTED_DNS_RESOLVER": "my.Resolver"}, priority="project")
    _resolver_for("http://[::1]:8080", own)
    assert own.get("TWISTED_DNS_RESOLVER") == "my.Resolver"


@pytest.mark.parametrize(
    ("stats", "wrong"),
    [
        (
            {"finish_reason": "finished", "digest/papers_seen": 30, "digest/papers_stored": 30},
            False,
        ),
        ({"finish_reason": "finished"}, False),  # nothing served: nothing to store
        ({"finish_reason": "shutdown", "digest/papers_stored": 30}, True),
        ({}, True),  # never closed: a forced shutdown
        ({"finish_reason": "finished", "digest/papers_seen": 30}, True),  # none stored
        ({"finish_reason": "finished", "digest/listings_failed": 1}, True),  # DIGEST_FAILURE_STATS
        # A feed (-O) Scrapy could not store, a full disk: it passed for done.
        ({"finish_reason": "finished", "feedexport/failed_count/FileFeedStorage": 1}, True),
        ({"finish_reason": "finished", "feedexport/success_count/FileFeedStorage": 1}, False),
    ],
)
def test_a_crawl_went_wrong_when_it_ended_early_stored_nothing_or_counted_a_failure(
    stats: dict[str, Any], wrong: bool
) -> None:
    crawler = make_crawler()
    assert crawler.stats is not None
    crawler.stats.set_stats(dict(stats))
    assert _went_wrong(crawler) is wrong
