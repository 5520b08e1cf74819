"""The shipped scheduling files run the real command with a log file."""

from __future__ import annotations

import configparser
import datetime as dt
import io
import shlex

import pytest

from digest_crawler.extensions import BackfillProgress
from digest_crawler.items import Listing
from tests.support.cli import PROJECT

DEPLOY = PROJECT / "deploy"


def _command(line: str) -> list[str]:
    return shlex.split(line)


def test_systemd_service_runs_the_daily_crawl_with_a_log_file() -> None:
    service = configparser.ConfigParser(strict=False, interpolation=None)
    service.read(DEPLOY / "digest-crawler.service")
    command = _command(service["Service"]["ExecStart"])
    assert command[0].endswith("/.venv/bin/scrapy") and command[1:3] == ["crawl", "daily"]
    assert any(part.startswith("LOG_FILE=") for part in command)
    assert service["Service"]["Type"] == "oneshot"
    timer = configparser.ConfigParser(strict=False, interpolation=None)
    timer.read(DEPLOY / "digest-crawler.timer")
    assert timer["Timer"]["Persistent"] == "true" and "UTC" in timer["Timer"]["OnCalendar"]


def test_cron_line_runs_the_daily_crawl_and_reports_failure() -> None:
    (line,) = [text for text in (DEPLOY / "crontab").read_text().splitlines() if text[:1].isdigit()]
    fields = line.split(maxsplit=5)
    assert fields[:5] == ["30", "21", "*", "*", "*"]
    assert "scrapy crawl daily -s LOG_FILE=" in fields[5] and "|| echo" in fields[5]


def test_scrapy_cfg_has_a_scrapyd_deploy_target() -> None:
    config = configparser.ConfigParser()
    config.read(PROJECT / "scrapy.cfg")
    assert config["deploy"]["project"] == "digest_crawler"
    assert config["settings"]["default"] == "digest_crawler.settings"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Stats:
    def __init__(self, values: dict[str, int]) -> None:
        self.values = values

    def get_value(self, name: str, default: int = 0) -> int:
        return self.values.get(name, default)


@pytest.mark.parametrize("terminal", [True, False])
def test_progress_bar_only_on_a_terminal(terminal: bool) -> None:
    stream = _Terminal() if terminal else io.StringIO()
    progress = BackfillProgress(
        _Stats({"digest/days_to_fetch": 4, "digest/papers_stored": 50}), 60, stream
    )  # type: ignore[arg-type]
    for day in (1, 2):
        url = f"http://127.0.0.1/papers/date/2026-03-0{day}"
        progress.day_done(Listing(day=dt.date(2026, 3, day), url=url, outcome="served"))
    if terminal:
        assert stream.getvalue().endswith(
            "\r[###############...............] 2/4 days, 50 papers stored, about 0 s left"
        )
    else:
        assert stream.getvalue() == ""
    assert progress.line().startswith("2/4 days, 50 papers stored, about ")
