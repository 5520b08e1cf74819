"""Writing an output whole or not at all: one way for every reader.

A regular file is written under a temporary name in its directory and
renamed into place (a symbolic link's file, the link kept), with the mode a
new file gets (or the mode of the file it replaces): a reader of it never sees half an output, and a failed or
stopped write (an error, Ctrl-C, SIGTERM) leaves no temporary file and any
old file as it was. Something else that exists (a FIFO, a device such as
``/dev/null``) is written in place. ``-`` is standard output, where a reader
that stops reading (``| head``) ends the output normally (``ReaderGone``).
"""

from __future__ import annotations

import fnmatch
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

T = TypeVar("T")


#: What SQLite keeps beside an archive's file, by its name.
_SQLITE_FILES = ("-wal", "-shm", "-journal")


class OutputError(Exception):
    """A one-line reason the output cannot be written."""


class ReaderGone(Exception):
    """Standard output's reader stopped reading: the output ends there."""


def check_target(output: str, kept: Sequence[tuple[Path, str]] = ()) -> None:
    """An ``OutputError`` for an output that cannot be a file, or that is
    one of the archive's own (``kept``, as ``archive_s_own`` reads it):
    said before any work is done."""
    if output == "-":
        return
    if not output.strip():
        raise OutputError(f"option --output: {output!r} names no file (give a file, or -)")
    target = Path(output)
    whose = archive_s_own(output, kept)
    if whose is not None:
        raise OutputError(f"option --output: {output!r} {whose}")
    try:
        if target.is_dir():
            raise OutputError(f"option --output: {output!r} is a directory")
        if not target.exists() and not target.parent.is_dir():
            raise OutputError(f"option --output: no directory {str(target.parent)!r}")
    except OSError as exc:  # a name too long, a directory that cannot be searched
        raise OutputError(
            f"option --output: cannot write {output!r}: {exc.strerror or exc}"
        ) from None


def archive_s_own(output: str, kept: Sequence[tuple[Path, str]]) -> str | None:
    """Why the file ``output`` may not be written: it is one of ``kept``
    (``Config.kept``: each a file of the archive's, or a pattern of them
    such as ``raw/*.warc.gz``, and what it is), through a link too; ``None``
    when it is none of them."""
    written = Path(os.path.realpath(output))  # a link's file is what is replaced
    for path, what in kept:
        own = Path(os.path.realpath(path.parent)) / path.name
        # A SQLite file's journal and write-ahead log are the archive too.
        if any(fnmatch.fnmatchcase(str(written), str(own) + end) for end in ("", *_SQLITE_FILES)):
            return f"is {what}: give another file"
    return None


def write_output(output: str, write: Callable[[IO[bytes]], T]) -> T:
    """Call ``write`` with a binary stream to ``output`` (``-``: standard
    output) and return what it returns; the output is whole or not at all."""
    check_target(output)
    try:
        if output == "-":
            return _to_standard_output(write)
        target = Path(output)
        if target.is_symlink():
            # The file a link names is the output (a feed published through
            # a link): it is replaced whole, and the link stays a link.
            target = target.resolve()
        if target.exists() and not target.is_file():
            with target.open("wb") as stream:
                return write(stream)
        return _to_file(target, write)
    except OSError as exc:  # a full disk, a read-only directory, a device that refuses writes
        raise OutputError(
            f"option --output: cannot write {output!r}: {exc.strerror or exc}"
        ) from None


def _to_standard_output(write: Callable[[IO[bytes]], T]) -> T:
    try:
        result = write(sys.stdout.buffer)
        sys.stdout.flush()
    except BrokenPipeError:
        stopped_reading()
        raise ReaderGone from None
    return result


def stopped_reading() -> None:
    """Standard output's reader closed the pipe (``| head``): a normal end.
    Nothing more can reach it, not even the interpreter's last flush."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _to_file(target: Path, write: Callable[[IO[bytes]], T]) -> T:
    umask = os.umask(0)
    os.umask(umask)
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~umask
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    # A stopped write (SIGTERM, as from a scheduler) leaves no temporary file.
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        with os.fdopen(handle, "wb") as stream:
            result = write(stream)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    return result


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)
