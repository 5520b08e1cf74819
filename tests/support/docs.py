"""README.md and the reference pages under docs/, as the tests read them."""

from __future__ import annotations

import re
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
README = PROJECT / "README.md"
DOCS = PROJECT / "docs"


def pages() -> list[Path]:
    """README, then every page of docs/."""
    return [README, *sorted(DOCS.glob("*.md"))]


def text(name: str) -> str:
    """A page's text: ``README.md`` or a page of docs/ (``export.md``)."""
    path = README if name == "README.md" else DOCS / name
    return path.read_text(encoding="utf-8")


def section(page: str, heading: str) -> str:
    """The text of one ``##`` section of a page, up to the next ``##``."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text(page), re.M | re.S)
    assert match, f"{page} has no section {heading!r}"
    return match.group(1)


def shell_lines(markdown: str, prefix: str = "") -> list[str]:
    """The lines of the ```sh blocks that start with ``prefix``, their comment
    dropped and a line ending in a backslash joined with the next."""
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", markdown, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            if line.startswith(prefix) and not line.startswith("#"):
                lines.append(re.split(r"\s{2,}#", line)[0].strip())
    return lines
