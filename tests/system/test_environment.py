"""Settings from the environment (``config.Config``): every command reads the
archive ``DIGEST_DATABASE_URL`` names there, ``-s`` wins over it, and a bad
value is one line naming the variable, exit status 2."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.cli import FAST, crawl_env, feed_lines, scrapy, table
from tests.support.site import LocalSite

pytestmark = pytest.mark.system  # the real commands, in subprocesses

DAYS = ("2026-07-31",)  # crawled once: archive (conftest.py)


@pytest.fixture
def elsewhere(archive: Path, tmp_path: Path) -> tuple[Path, str]:
    """A working directory without an archive, and the URL of one in
    another directory (a copy of the crawled ``archive``)."""
    (tmp_path / "store").mkdir()
    (tmp_path / "work").mkdir()
    shutil.copy(archive / "papers.sqlite", tmp_path / "store" / "archive.sqlite")
    return tmp_path / "work", f"sqlite:///{tmp_path / 'store' / 'archive.sqlite'}"


def test_the_readers_read_the_archive_the_environment_names(elsewhere: tuple[Path, str]) -> None:
    """README's first hour: ``DIGEST_DATABASE_URL=... scrapy export`` read
    ./papers.sqlite before (and said there was none, exit 2). A variable
    that names no setting (CI's DIGEST_REQUIRE_SERVICES) is no setting."""
    workdir, url = elsewhere
    environment = {
        "DIGEST_DATABASE_URL": url,
        "DIGEST_REQUIRE_SERVICES": "1",
        "DIGEST_NOT_A_SETTING": "x",
    }
    exported = scrapy(workdir, "export", "-o", "papers.jsonl", environment=environment)
    assert exported.returncode == 0, exported.stderr
    assert exported.stderr.startswith("Exported 30 records (listing dates 2026-07-31 to")
    assert len(feed_lines(workdir / "papers.jsonl")) == 30
    found = scrapy(workdir, "search", "memory", environment=environment)
    assert found.returncode == 0, found.stderr
    assert found.stdout.startswith("1. Memory Decoder at Scale")
    reported = scrapy(workdir, "report", "-o", "report.html", environment=environment)
    assert reported.returncode == 0, reported.stderr
    assert reported.stderr.startswith(
        "Reported 30 papers on 1 listing day (2026-07-31 to 2026-07-31)"
    )
    upgraded = scrapy(workdir, "upgrade", environment=environment)
    assert upgraded.returncode == 0 and "nothing to do" in upgraded.stderr, upgraded.stderr
    assert sorted(path.name for path in workdir.iterdir()) == ["papers.jsonl", "report.html"]


def test_a_crawl_stores_in_the_archive_the_environment_names(
    site: LocalSite, tmp_path: Path
) -> None:
    """The site and the archive from the environment only (systemd's
    ``Environment=``, a container): nothing in the working directory."""
    (tmp_path / "store").mkdir()
    (tmp_path / "work").mkdir()
    archive = tmp_path / "store" / "archive.sqlite"
    environment = {"DIGEST_DATABASE_URL": f"sqlite:///{archive}", "DIGEST_BASE_URL": site.url}
    result = scrapy(
        tmp_path / "work", "crawl", "daily", "-a", "date=2026-07-31", *FAST, environment=environment
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(table(archive)) == 30 and list((tmp_path / "work").iterdir()) == []


def test_a_setting_on_the_command_line_wins_over_the_environment(
    elsewhere: tuple[Path, str],
) -> None:
    workdir, url = elsewhere
    exported = scrapy(
        workdir,
        "export",
        "-o",
        "papers.jsonl",
        database_url=url,
        environment={"DIGEST_DATABASE_URL": "sqlite:///nowhere.sqlite"},
    )
    assert exported.returncode == 0, exported.stderr
    assert len(feed_lines(workdir / "papers.jsonl")) == 30


@pytest.mark.parametrize(
    "command",
    [
        ("crawl", "daily", "-a", "date=2026-07-31"),
        ("export", "-o", "papers.jsonl"),
        ("search", "memory"),
        ("report",),
        ("upgrade",),
        ("parse", "https://huggingface.co/papers/date/2026-07-31"),
        ("shell", "--nolog", "-c", "1"),
    ],
    ids=lambda command: command[0],
)
def test_a_bad_value_in_the_environment_is_one_line_naming_it_and_exit_2(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    result = scrapy(tmp_path, *command, environment={"DIGEST_DATABASE_URL": "nonsense"})
    assert result.returncode == 2, result.stderr[-3000:]
    prefix = "scrapy crawl daily" if command[0] == "crawl" else f"scrapy {command[0]}"
    assert result.stderr.splitlines() == [
        f"{prefix}: error: environment variable DIGEST_DATABASE_URL: 'nonsense' is not a"
        " database URL"
    ]
    assert list(tmp_path.iterdir()) == []


def test_the_commands_of_the_tests_do_not_read_the_shell_s_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A developer's DIGEST_DATABASE_URL or token does not reach the commands
    the tests run (they would read and write the developer's archive)."""
    for name in ("DIGEST_DATABASE_URL", "DIGEST_BASE_URL", "HF_TOKEN"):
        monkeypatch.setenv(name, "from the shell")
    monkeypatch.setenv("DIGEST_TEST_POSTGRES_URL", "postgresql+psycopg://kept")
    environment = crawl_env()
    assert "from the shell" not in environment.values()
    assert environment["DIGEST_TEST_POSTGRES_URL"] == "postgresql+psycopg://kept"
