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


def crawled(workdir: Path, days: tuple[str, ...]) -> Path:
    """``workdir`` with an archive of the fixture site's ``days``, crawled
    by the real command."""
    with serve() as site:
        for day in days:
            result = crawl(site.url, workdir, "-a", f"date={day}", feed=None)
            assert result.returncode == 0, result.stderr[-2000:]
    return workdir
