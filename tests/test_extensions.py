"""Backfill progress (``extensions.py``): the log line, and the bar drawn
only on a terminal the log does not write to."""

from __future__ import annotations

import datetime as dt
import io
import logging
import sys

import pytest
from scrapy import signals
from scrapy.exceptions import NotConfigured

from digest_crawler.extensions import BackfillProgress
from digest_crawler.items import Listing
from tests.support.crawler import make_crawler


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Stats:
    def __init__(self, values: dict[str, int]) -> None:
        self.values = values

    def get_value(self, name: str, default: int = 0) -> int:
        return self.values.get(name, default)


def served(day: int) -> Listing:
    url = f"http://127.0.0.1/papers/date/2026-03-0{day}"
    return Listing(day=dt.date(2026, 3, day), url=url, outcome="served")


@pytest.mark.parametrize("terminal", [True, False])
def test_progress_bar_only_on_a_terminal(terminal: bool) -> None:
    stream = _Terminal() if terminal else io.StringIO()
    stats = _Stats({"digest/listings_to_fetch": 4, "digest/papers_stored": 50})
    progress = BackfillProgress(stats, 60, stream)  # type: ignore[arg-type]
    for day in (1, 2):
        progress.day_done(served(day))
    if terminal:
        assert stream.getvalue().endswith(
            "\r[###############...............] 2/4 days, 50 papers stored, about 0 s left"
        )
    else:
        assert stream.getvalue() == ""
    assert progress.line().startswith("2/4 days, 50 papers stored, about ")


def test_the_log_line_says_days_papers_and_time_left(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="digest_crawler.extensions")
    stats = _Stats({"digest/listings_to_fetch": 4, "digest/papers_stored": 0})
    progress = BackfillProgress(stats, 60, io.StringIO())  # type: ignore[arg-type]
    progress.log()
    assert caplog.messages == ["Progress: 0/4 days, 0 papers stored, about unknown left"]


def test_the_hub_s_calls_after_the_last_listing_are_counted_in_the_time_left() -> None:
    """A daily run's 6 listings take seconds, its 550 calls to the Hub
    minutes: the line said "6/6 days, ... about 0 s left" all that time."""
    stats = _Stats({"digest/listings_to_fetch": 2, "digest/papers_stored": 100})
    progress = BackfillProgress(stats, 60, io.StringIO())  # type: ignore[arg-type]
    progress.started -= 10  # the run began 10 s ago
    for day in (1, 2):
        progress.day_done(served(day))
    assert progress.line() == "2/2 days, 100 papers stored, about 0 s left"
    stats.values["digest/adoption_to_ask"] = 100
    assert progress.line().endswith(", 0/100 papers asked of the Hub, about unknown left")
    stats.values |= {"digest/adoption_read": 15, "digest/adoption_failed": 5}
    # 20 answers in 10 s: 80 more take about 40 s.
    line = progress.line()
    assert line.startswith("2/2 days, 100 papers stored, 20/100 papers asked of the Hub, about ")
    assert line.endswith(" s left") and 39 <= int(line.split("about ")[1].split()[0]) <= 41


def test_progress_is_off_with_an_interval_of_0() -> None:
    with pytest.raises(NotConfigured):
        BackfillProgress.from_crawler(make_crawler(DIGEST_PROGRESS_INTERVAL=0))


@pytest.mark.parametrize(("log_file", "bar"), [("crawl.log", True), (None, False)])
def test_the_bar_is_drawn_only_when_the_log_goes_elsewhere(
    monkeypatch: pytest.MonkeyPatch, log_file: str | None, bar: bool
) -> None:
    monkeypatch.setattr(sys, "stderr", _Terminal())
    progress = BackfillProgress.from_crawler(make_crawler(LOG_FILE=log_file))
    assert progress.bar is bar


def test_a_listing_stored_or_dropped_is_a_day_done_and_nothing_else_is() -> None:
    crawler = make_crawler()
    progress = BackfillProgress.from_crawler(crawler)
    crawler.signals.send_catch_log(signals.item_scraped, item=served(1), response=None)
    crawler.signals.send_catch_log(
        signals.item_dropped, item=served(2), response=None, exception=Exception("storage")
    )
    crawler.signals.send_catch_log(signals.item_scraped, item={"not": "a listing"}, response=None)
    assert progress.days_done == 2
