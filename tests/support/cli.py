"""Run the real ``scrapy crawl daily`` command and read what it stored."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from digest_crawler.config import Config

PROJECT = Path(__file__).resolve().parents[2]
FAST = ("-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False")

CrawledArchive = Callable[..., Path]
"""The ``crawled_archive`` fixture (tests/system/conftest.py): ``(days, routes=None) -> Path``."""


def span(first: object, last: object) -> tuple[str, ...]:
    """The spider arguments of a backfill from ``first`` to ``last``."""
    return ("-a", f"start={first}", "-a", f"end={last}")


def crawl_command(
    base_url: str,
    *arguments: str,
    feed: str | None = "papers.jsonl",
    fast: bool = True,
    adoption: bool = False,
) -> list[str]:
    """``scrapy crawl daily`` against ``base_url``; ``fast``: without the
    politeness delays, which are for the real site, not a local server;
    ``adoption``: asking the Hub what cites each paper (tests/system/test_adoption.py
    and the tests of the README's commands keep it on, as it is by default)."""
    command = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "daily",
        *arguments,
        "-s",
        f"DIGEST_BASE_URL={base_url}",
        *(FAST if fast else ()),
        *(() if adoption else ("-s", "DIGEST_ADOPTION=False")),
    ]
    if feed:
        command += ["-O", feed]
    return command


#: The environment variables the project reads as settings (``config.Config``).
SETTING_VARIABLES = frozenset(
    {f"DIGEST_{name.upper()}" for name in Config.model_fields} | {"HF_TOKEN"}
)


def clean_env() -> dict[str, str]:
    """This process's environment without the variables the project reads as
    settings: a test's command does not read a developer's archive or token."""
    return {name: value for name, value in os.environ.items() if name not in SETTING_VARIABLES}


def crawl_env() -> dict[str, str]:
    return {
        **clean_env(),
        "SCRAPY_SETTINGS_MODULE": "digest_crawler.settings",
        "PYTHONPATH": str(PROJECT),
    }


def crawl(
    base_url: str,
    workdir: Path,
    *arguments: str,
    feed: str | None = "papers.jsonl",
    timeout: float = 120,
    environment: dict[str, str] | None = None,
    adoption: bool = False,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        crawl_command(base_url, *arguments, feed=feed, adoption=adoption),
        cwd=workdir,
        env={**crawl_env(), **(environment or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def db_rows(path: Path, sql: str) -> list[dict[str, Any]]:
    connection = sqlite3.connect(path)
    connection.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in connection.execute(sql)]
    finally:
        connection.close()


def table(path: Path, name: str = "papers") -> list[dict[str, Any]]:
    return db_rows(path, f"SELECT * FROM {name} ORDER BY rowid")


def feed_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def scrapy(
    workdir: Path,
    *arguments: str,
    database_url: str | None = None,
    timeout: float = 120,
    environment: dict[str, str] | None = None,
    **options: Any,
) -> subprocess.CompletedProcess[str]:
    """``scrapy ARGUMENTS`` (export, search, report, upgrade, parse, ...) as a
    person runs it, in ``workdir`` (default database: its papers.sqlite),
    with ``environment`` added to its environment; ``options`` go to
    ``subprocess.run``."""
    command = [sys.executable, "-m", "scrapy", *arguments]
    if database_url:
        command += ["-s", f"DIGEST_DATABASE_URL={database_url}"]
    return subprocess.run(
        command,
        cwd=workdir,
        env={**crawl_env(), **(environment or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        **options,
    )


def export(
    workdir: Path, *arguments: str, database_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``scrapy export`` in ``workdir`` (default database: its papers.sqlite)."""
    return scrapy(workdir, "export", *arguments, database_url=database_url)


def start_crawl(
    base_url: str, workdir: Path, *arguments: str, stderr: int | None = subprocess.DEVNULL
) -> subprocess.Popen[str]:
    """``scrapy crawl daily`` in the background (no feed), to kill or race."""
    return subprocess.Popen(
        crawl_command(base_url, *arguments, feed=None),
        cwd=workdir,
        env=crawl_env(),
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        text=True,
    )


def listings_per_day(database: Path) -> dict[str, int]:
    rows = db_rows(
        database, "SELECT listing_date, count(*) AS n FROM listings GROUP BY listing_date"
    )
    return {row["listing_date"]: row["n"] for row in rows}


def stored_days(database: Path) -> int:
    """Days stored so far, by any run (0 before the tables exist)."""
    try:
        return len(
            db_rows(
                database, "SELECT DISTINCT listing FROM crawl_listings WHERE outcome = 'stored'"
            )
        )
    except sqlite3.Error:
        return 0


def wait_for_days(
    database: Path, count: int, process: subprocess.Popen[str], timeout: float = 120
) -> None:
    """Wait until ``count`` days are stored (or the crawl ended, or time ran out)."""
    deadline = time.monotonic() + timeout
    while stored_days(database) < count and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)


def copy_archive(archive: Path, workdir: Path) -> Path:
    """``archive``'s ``papers.sqlite`` and crawl feeds copied into ``workdir``."""
    for path in (archive / "papers.sqlite", *sorted(archive.glob("crawl-*.jsonl"))):
        shutil.copy(path, workdir / path.name)
    return workdir
