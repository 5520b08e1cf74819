"""``scrapy watch`` in-process: what it says with no watch file, a named
file that is missing, and a run stopped by Ctrl-C."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest_crawler import watching
from tests.support.archive import make_archive
from tests.support.readers import run_reader


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_no_watch_file_here_is_nothing_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    command = run_reader("watch")
    assert command.exitcode == 0
    assert capsys.readouterr().err == (
        "scrapy watch: no watch file (watches.toml here, or DIGEST_WATCHES): nothing to do\n"
    )


def test_a_named_watch_file_that_is_missing_is_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_WATCHES", "nowhere.toml")
    assert run_reader("watch").exitcode == 2
    assert capsys.readouterr().err == (
        "scrapy watch: error: environment variable DIGEST_WATCHES: no file 'nowhere.toml'\n"
    )


def test_ctrl_c_says_what_is_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    make_archive(f"sqlite:///{tmp_path / 'papers.sqlite'}")
    (tmp_path / "watches.toml").write_text('[watches.a]\nfeed = "a.atom"\n', encoding="utf-8")

    def interrupted(*arguments: object, **options: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(watching, "run", interrupted)
    assert run_reader("watch").exitcode == 130
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("scrapy watch: interrupted; what a destination accepted is recorded")
