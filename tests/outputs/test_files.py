"""Writing an output whole or not at all (``outputs/files.py``)."""

from __future__ import annotations

import os
import signal
import stat
from pathlib import Path
from typing import IO

import pytest

from digest_crawler.outputs.files import OutputError, write_output


def test_a_file_is_written_under_a_temporary_name_and_renamed_into_place(tmp_path: Path) -> None:
    target = tmp_path / "feed.jsonl"
    seen: list[list[str]] = []

    def write(stream: IO[bytes]) -> int:
        stream.write(b"line\n")
        seen.append(sorted(p.name for p in tmp_path.iterdir()))
        return 1

    assert write_output(str(target), write) == 1
    assert target.read_bytes() == b"line\n"
    (during,) = seen
    assert during[0].startswith(".feed.jsonl.") and "feed.jsonl" not in during


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path: Path) -> None:
    target = tmp_path / "feed.jsonl"
    target.write_text("old feed\n")

    def broken(stream: IO[bytes]) -> None:
        stream.write(b"half a feed\n")
        raise RuntimeError("the archive went away")

    with pytest.raises(RuntimeError):
        write_output(str(target), broken)
    assert target.read_text() == "old feed\n"
    assert [p.name for p in tmp_path.iterdir()] == ["feed.jsonl"]


def test_a_stopped_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    """SIGTERM (a scheduler stopping the job) in the middle of writing."""
    target = tmp_path / "feed.jsonl"
    target.write_text("old feed\n")
    before = signal.getsignal(signal.SIGTERM)

    def stopped(stream: IO[bytes]) -> None:
        stream.write(b"half a feed\n")
        stream.flush()
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("not reached: SIGTERM ends the write")

    with pytest.raises(SystemExit) as stopped_with:
        write_output(str(target), stopped)
    assert stopped_with.value.code == 128 + signal.SIGTERM
    assert target.read_text() == "old feed\n"
    assert [p.name for p in tmp_path.iterdir()] == ["feed.jsonl"]
    assert signal.getsignal(signal.SIGTERM) == before


def test_a_fifo_is_written_in_place(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        write_output(str(fifo), lambda stream: stream.write(b"x\n"))
        assert os.read(reader, 10) == b"x\n"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


@pytest.mark.parametrize(
    ("output", "message"),
    [
        (".", "option --output: '.' is a directory"),
        ("no/such/x.jsonl", "option --output: no directory 'no/such'"),
        # The name's length is the system's to refuse (an OSError traceback before).
        ("x" * 300 + ".jsonl", f"option --output: cannot write '{'x' * 300}.jsonl': File name"),
        (f"{'d' * 300}/x.jsonl", "option --output: cannot write 'ddd"),
    ],
)
def test_an_output_that_cannot_be_a_file_is_refused_before_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, output: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    called: list[object] = []
    with pytest.raises(OutputError, match=message):
        write_output(output, called.append)
    assert called == []


def test_a_symbolic_link_s_file_is_replaced_not_the_link(tmp_path: Path) -> None:
    """A feed published by a link (``public/daily.atom`` -> the served file):
    the file it names gets the new feed, whole, and the link stays a link."""
    served = tmp_path / "served"
    served.mkdir()
    (served / "daily.atom").write_text("old feed\n")
    (served / "daily.atom").chmod(0o640)
    link = tmp_path / "daily.atom"
    link.symlink_to(served / "daily.atom")
    write_output(str(link), lambda stream: stream.write(b"new feed\n"))
    assert link.is_symlink() and (served / "daily.atom").read_text() == "new feed\n"
    assert stat.S_IMODE((served / "daily.atom").stat().st_mode) == 0o640
    assert sorted(p.name for p in served.iterdir()) == ["daily.atom"]
    # A link to no file yet: the file is made where it points.
    (served / "daily.atom").unlink()
    write_output(str(link), lambda stream: stream.write(b"first feed\n"))
    assert link.is_symlink() and (served / "daily.atom").read_text() == "first feed\n"
