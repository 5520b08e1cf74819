"""The shipped scheduling files run the real command with a log file."""

from __future__ import annotations

import configparser
import datetime as dt
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.archive import make_archive
from tests.support.cli import PROJECT, crawl_env, table
from tests.support.notified import webhook
from tests.support.site import Answer, serve
from tests.support.sitegen import day_page

DEPLOY = PROJECT / "deploy"


def _command(line: str) -> list[str]:
    return shlex.split(line)


def test_systemd_service_runs_the_daily_crawl_with_a_log_file() -> None:
    service = configparser.ConfigParser(strict=False, interpolation=None)
    service.read(DEPLOY / "digest-crawler.service")
    command = _command(service["Service"]["ExecStart"])
    assert command[:2] == ["/bin/sh", "-c"]
    inner = _command(command[2].split("exec ", 1)[1])
    assert inner[0] == ".venv/bin/scrapy" and inner[1:3] == ["crawl", "daily"]
    assert any(part.startswith("LOG_FILE=") for part in inner)
    assert service["Service"]["Type"] == "oneshot"
    timer = configparser.ConfigParser(strict=False, interpolation=None)
    timer.read(DEPLOY / "digest-crawler.timer")
    assert timer["Timer"]["Persistent"] == "true" and "UTC" in timer["Timer"]["OnCalendar"]


def cron_line() -> str:
    (line,) = [text for text in (DEPLOY / "crontab").read_text().splitlines() if text[:1].isdigit()]
    return line


@pytest.mark.system
@pytest.mark.parametrize("site_up", [True, False], ids=["a good night", "a failed night"])
def test_the_cron_line_runs_from_a_fresh_checkout_and_mails_only_a_failure(
    tmp_path: Path, site_up: bool
) -> None:
    """The line as README installs it (the checkout's path put in), in a
    checkout without logs/: cron mails what it prints, so a good night
    prints nothing and a failed one the run's one-line summary."""
    checkout = tmp_path / "digest_crawler"
    checkout.mkdir()
    shutil.copy(PROJECT / "scrapy.cfg", checkout / "scrapy.cfg")
    (checkout / ".venv").symlink_to(Path(sys.executable).parent.parent)
    fields = cron_line().split(maxsplit=5)
    assert fields[:5] == ["30", "21", "*", "*", "*"]
    today = dt.date(2026, 3, 20)
    with serve() as site:
        for back in (14, 7, 3, 2, 1, 0):
            day = today - dt.timedelta(days=back)
            site.routes[f"/papers/date/{day}"] = Answer(body=day_page(day).encode())
        base = site.url if site_up else "http://127.0.0.1:9"
        test_settings = (
            f"crawl daily -s DIGEST_BASE_URL={base} -s DIGEST_TODAY={today}"
            " -s DOWNLOAD_DELAY=0 -s AUTOTHROTTLE_ENABLED=False -s RETRY_TIMES=0"
        )
        command = (
            fields[5]
            .replace("/srv/digest_crawler", str(checkout))
            .replace("crawl daily", test_settings)
        )
        result = subprocess.run(
            ["/bin/sh", "-c", command], capture_output=True, text=True, timeout=120
        )
    assert (checkout / "logs" / "daily.log").stat().st_size > 0
    if site_up:
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
        assert len(table(checkout / "papers.sqlite")) > 0
    else:
        (line,) = result.stdout.splitlines()
        assert line.startswith("scrapy crawl daily: FAILED: 0 of 6 days stored")


def checkout_with_a_watch(tmp_path: Path, hook_url: str) -> Path:
    """A checkout as README makes it, with an archive (rows of the archive
    helper) and a watch file of one watch that posts to ``hook_url``."""
    checkout = tmp_path / "digest_crawler"
    checkout.mkdir()
    shutil.copy(PROJECT / "scrapy.cfg", checkout / "scrapy.cfg")
    (checkout / ".venv").symlink_to(Path(sys.executable).parent.parent)
    make_archive(f"sqlite:///{checkout / 'papers.sqlite'}")
    (checkout / "watches.toml").write_text(
        f'[watches.summaries]\nquery = "summary"\nnotify = ["{hook_url}"]\n', encoding="utf-8"
    )
    return checkout


@pytest.mark.system
def test_the_cron_line_sends_the_watches_after_a_failed_crawl(tmp_path: Path) -> None:
    """The site down: the crawl's failure is mailed (its one line), and the
    watches still send what is stored; their summary goes to runs.log."""
    with webhook() as hook:
        checkout = checkout_with_a_watch(tmp_path, hook.url)
        command = (
            cron_line()
            .split(maxsplit=5)[5]
            .replace("/srv/digest_crawler", str(checkout))
            .replace(
                "crawl daily",
                "crawl daily -s DIGEST_BASE_URL=http://127.0.0.1:9 -s DIGEST_TODAY=2026-03-20"
                " -s DOWNLOAD_DELAY=0 -s RETRY_TIMES=0",
            )
        )
        result = subprocess.run(
            ["/bin/sh", "-c", command], capture_output=True, text=True, timeout=120
        )
    (line,) = result.stdout.splitlines()
    assert line.startswith("scrapy crawl daily: FAILED: 0 of 6 days stored")
    (post,) = hook.posts
    assert (
        post["title"] == "18 new papers for the watch summaries"
    )  # the odd papers of 3 days of 12
    last = (checkout / "logs" / "runs.log").read_text().splitlines()[-1]
    assert last == "Watched 1 watch: 1 message sent (18 papers), 0 feeds written"


@pytest.mark.system
def test_the_service_sends_the_watches_after_the_crawl_whatever_its_outcome(
    tmp_path: Path,
) -> None:
    """ExecStopPost= runs after ExecStart= failed too: run as systemd runs
    it (DIGEST_HOME the checkout), it sends the watches."""
    service = configparser.ConfigParser(strict=False, interpolation=None)
    service.read(DEPLOY / "digest-crawler.service")
    command = _command(service["Service"]["ExecStopPost"])
    assert command[:2] == ["/bin/sh", "-c"]
    assert _command(command[2].split("exec ", 1)[1]) == [".venv/bin/scrapy", "watch"]
    with webhook() as hook:
        checkout = checkout_with_a_watch(tmp_path, hook.url)
        result = subprocess.run(
            command,
            env={**crawl_env(), "DIGEST_HOME": str(checkout)},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr
    assert len(hook.posts) == 1


def test_the_shipped_units_verify_and_the_log_rotation_parses() -> None:
    service = configparser.ConfigParser(strict=False, interpolation=None)
    service.read(DEPLOY / "digest-crawler.service")
    # The one place a user fills in (with User=): where the checkout is.
    assert service["Service"]["Environment"] == "DIGEST_HOME=/srv/digest_crawler"
    assert '"$DIGEST_HOME"' in service["Service"]["ExecStart"]
    missing = []
    for tool, command in (
        (
            "systemd-analyze",
            ["systemd-analyze", "verify", "digest-crawler.service", "digest-crawler.timer"],
        ),
        ("logrotate", ["logrotate", "--debug", "--state", "/dev/null", "logrotate.conf"]),
    ):
        if shutil.which(tool) is None:
            missing.append(tool)
            continue
        result = subprocess.run(command, cwd=DEPLOY, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, (tool, result.stderr)
    if missing:  # what was not checked is not a pass
        pytest.skip(f"not verified here: {', '.join(missing)} not installed")


def test_scrapy_cfg_has_a_scrapyd_deploy_target() -> None:
    config = configparser.ConfigParser()
    config.read(PROJECT / "scrapy.cfg")
    assert config["deploy"]["project"] == "digest_crawler"
    assert config["settings"]["default"] == "digest_crawler.settings"


def test_what_scrapyd_and_cron_leave_in_the_checkout_is_ignored_by_git(tmp_path: Path) -> None:
    """Scrapyd started in the checkout (README's recipe) keeps its jobs'
    eggs, queue, logs and pid file there, and cron's job its logs/: untracked
    files in ``git status`` before."""
    shutil.copy(PROJECT / ".gitignore", tmp_path / ".gitignore")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    left = ["dbs/digest_crawler.db", "eggs/digest_crawler/1.egg", "logs/daily.log", "twistd.pid"]
    kept = ["digest_crawler/logs/x.py", "deploy/crontab"]
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", *left, *kept],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert ignored.stdout.split() == left
