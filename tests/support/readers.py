"""Run the reader commands (``scrapy search``, ``scrapy report``) as a
person does, in a subprocess, on the archive of a working directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.cli import crawl, crawl_env
from tests.support.site import serve


def scrapy(
    workdir: Path, *arguments: str, database_url: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``scrapy ARGUMENTS`` in ``workdir`` (default database: its papers.sqlite)."""
    command = [sys.executable, "-m", "scrapy", *arguments]
    if database_url:
        command += ["-s", f"DIGEST_DATABASE_URL={database_url}"]
    return subprocess.run(
        command, cwd=workdir, env=crawl_env(), capture_output=True, text=True, timeout=timeout
    )


def crawled(workdir: Path, days: tuple[str, ...], lists: tuple[str, ...] = ()) -> Path:
    """``workdir`` with an archive of the fixture site's ``days`` (and
    ``lists``: ``week=2026-W31``, ``month=2026-07``), crawled by the real
    command."""
    with serve() as site:
        for argument in (*(f"date={day}" for day in days), *lists):
            result = crawl(site.url, workdir, "-a", argument, feed=None)
            assert result.returncode == 0, result.stderr[-2000:]
    return workdir
