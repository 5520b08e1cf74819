"""What each command loads: only what its work needs.

Scrapy imports every command's module to run any one of them, so what one
command's module imports at its top, every command pays for at its start:
Alembic (with Mako and Pygments) is for migrating, pyarrow for Parquet,
matplotlib for the report, the spider and its TLS, page reading, pipelines
and raw answers for a crawl (and a reparse). Each command runs for real here (a small archive) and says which
modules it had loaded when it exited.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.support.archive import make_archive
from tests.support.cli import crawl_env, span
from tests.support.site import LocalSite

pytestmark = pytest.mark.system  # the real commands, in subprocesses

MIGRATING = ("alembic", "mako", "pygments")
#: A crawl's (and a reparse's): the spider, its TLS, the reading rules, the
#: pipelines, the raw answers.
CRAWLING = (
    "digest_crawler.spiders.daily",
    "digest_crawler.tls",
    "digest_crawler.site.reading",
    "digest_crawler.pipelines",
    "digest_crawler.raw",
    "warcio",
)
#: Each command, the modules it must not load, and one it must (the test
#: sees what is loaded).
#: What scrapy watch sends with (Apprise, which loads about 190 plugins).
NOTIFYING = ("apprise",)
COMMANDS = [
    (
        ["crawl", "-h"],
        (*MIGRATING, "pyarrow", "matplotlib", *CRAWLING, *NOTIFYING),
        "scrapy.commands.crawl",
    ),
    (
        ["search", "retrieval"],
        (*MIGRATING, "pyarrow", "matplotlib", *CRAWLING, *NOTIFYING),
        "sqlite3",
    ),
    (
        ["export", "-o", "-"],
        (*MIGRATING, "pyarrow", "matplotlib", *CRAWLING, *NOTIFYING),
        "sqlite3",
    ),
    (["export", "-o", "papers.atom"], (*MIGRATING, "pyarrow", "matplotlib"), "lxml.etree"),
    (["export", "-o", "papers.parquet"], (*MIGRATING, "matplotlib", *CRAWLING), "pyarrow"),
    (["report", "-o", "report.html"], (*MIGRATING, "pyarrow", *CRAWLING, *NOTIFYING), "matplotlib"),
    (["upgrade"], (*MIGRATING, "pyarrow", "matplotlib", *CRAWLING, *NOTIFYING), "sqlite3"),
    # No watch file: nothing to send with.
    (["watch"], (*MIGRATING, "pyarrow", "matplotlib", *CRAWLING, *NOTIFYING), "scrapy"),
]
#: Runs ``scrapy ARGUMENTS`` as ``python -m scrapy`` does, and writes the
#: names of the modules loaded at exit to the file named first.
LOADED = (
    "import atexit, json, sys; from scrapy.cmdline import execute;"
    " atexit.register(lambda: open(sys.argv[1], 'w').write(json.dumps(sorted(sys.modules))));"
    " execute(['scrapy', *sys.argv[2:]])"
)


def loaded(workdir: Path, *arguments: str) -> set[str]:
    """The modules ``scrapy ARGUMENTS`` had loaded (it succeeded)."""
    modules = workdir / "modules.json"
    result = subprocess.run(
        [sys.executable, "-c", LOADED, str(modules), *arguments],
        cwd=workdir,
        env=crawl_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return set(json.loads(modules.read_text()))


def top_level(modules: set[str]) -> set[str]:
    return modules | {name.partition(".")[0] for name in modules}


@pytest.mark.parametrize(
    ("arguments", "unneeded", "needed"), COMMANDS, ids=[" ".join(c[0]) for c in COMMANDS]
)
def test_a_command_loads_what_its_work_needs_only(
    tmp_path: Path, arguments: list[str], unneeded: tuple[str, ...], needed: str
) -> None:
    make_archive(f"sqlite:///{tmp_path / 'papers.sqlite'}")
    modules = top_level(loaded(tmp_path, *arguments))
    assert needed in modules
    assert sorted(modules & set(unneeded)) == []


def test_a_crawl_into_an_archive_of_this_release_loads_no_alembic(
    tmp_path: Path, site: LocalSite
) -> None:
    """A crawl reads the archive's version with a plain query: Alembic is
    loaded only for an archive that needs migrating."""
    make_archive(f"sqlite:///{tmp_path / 'papers.sqlite'}")
    arguments = ["crawl", "daily", *span("2026-07-31", "2026-07-31")]
    modules = top_level(loaded(tmp_path, *arguments, "-s", f"DIGEST_BASE_URL={site.url}"))
    assert "digest_crawler.spiders.daily" in modules
    assert sorted(modules & {*MIGRATING, "pyarrow", "matplotlib"}) == []


def test_a_watch_loads_apprise_and_its_feed_lxml_but_not_the_crawl(tmp_path: Path) -> None:
    make_archive(f"sqlite:///{tmp_path / 'papers.sqlite'}")
    (tmp_path / "watches.toml").write_text(
        '[watches.a]\nquery = "summary"\nfeed = "a.atom"\n', encoding="utf-8"
    )
    modules = top_level(loaded(tmp_path, "watch"))
    assert {"apprise", "lxml"} <= modules
    assert sorted(modules & {*MIGRATING, "pyarrow", "matplotlib", *CRAWLING}) == []


def test_an_archive_to_migrate_loads_alembic(tmp_path: Path) -> None:
    """The other side: ``scrapy upgrade`` of a schema-1 archive migrates it
    with Alembic (what the tests above see loaded is what ran)."""
    shutil.copy(FIXTURES / "archive-v1.sqlite", tmp_path / "papers.sqlite")
    assert {"alembic", "mako"} <= top_level(loaded(tmp_path, "upgrade"))
