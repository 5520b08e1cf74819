"""What the system tests share: archives crawled by the real ``scrapy crawl``
once, and copied for each test that reads (or changes) one.

A crawl costs a Python process of its own (a second of CPU or more); an
archive that several tests of a module read is crawled once per pytest
process (per pytest-xdist worker), and each test gets a copy of its own in
its ``tmp_path``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.support.cli import CrawledArchive, copy_archive, crawl
from tests.support.site import Answer, Answers, default_routes, serve


def _fingerprint(routes: dict[str, Answer | Answers] | None) -> str:
    digest = hashlib.sha256()
    for path, route in sorted((routes or {}).items()):
        answers = route.answers if isinstance(route, Answers) else [route]
        digest.update(path.encode())
        for answer in answers:
            digest.update(repr((answer.status, sorted(answer.headers.items()))).encode())
            digest.update(answer.body)
    return digest.hexdigest()


@pytest.fixture(scope="session")
def crawled_archive(tmp_path_factory: pytest.TempPathFactory) -> CrawledArchive:
    """``crawled_archive(days, routes=None)``: a directory holding
    ``papers.sqlite``, the archive of the fixture site's ``days`` (or
    lists: ``week=2026-W31``, ``month=2026-07``; with
    ``routes`` added to or replacing its own) crawled by the real command,
    one run per day in the order given, and each run's feed
    ``crawl-DAY.jsonl``. Made once per pytest process for the same days and
    routes: read it, or copy it (``copy_archive``) to change it."""
    made: dict[tuple[tuple[str, ...], str], Path] = {}

    def crawled(days: Sequence[str], routes: dict[str, Answer | Answers] | None = None) -> Path:
        key = (tuple(days), _fingerprint(routes))
        if key not in made:
            workdir = tmp_path_factory.mktemp("crawled")
            with serve({**default_routes(), **(routes or {})}) as site:
                for day in days:
                    # A day, or a list's argument (week=2026-W31, month=2026-07).
                    argument = day if "=" in day else f"date={day}"
                    result = crawl(site.url, workdir, "-a", argument, feed=f"crawl-{day}.jsonl")
                    assert result.returncode == 0, result.stderr[-2000:]
            made[key] = workdir
        return made[key]

    return crawled


@pytest.fixture(scope="module")
def archive(request: pytest.FixtureRequest, crawled_archive: CrawledArchive) -> Path:
    """The archive of the test module's ``DAYS``, crawled once (read only:
    ``workdir`` is a copy to work in)."""
    return crawled_archive(request.module.DAYS)


@pytest.fixture
def workdir(archive: Path, tmp_path: Path) -> Path:
    """The test's own copy of ``archive``, in its ``tmp_path``."""
    return copy_archive(archive, tmp_path)
