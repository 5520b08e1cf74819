"""README and docs/: every link leads somewhere, every page is reachable
from README, and README stays a guide (the reference lives in docs/)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from tests.support.docs import PROJECT, README, pages, shell_lines, text

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def anchors(path: Path) -> set[str]:
    """GitHub's anchors for a page's headings (outside code blocks)."""
    found, fence = set(), False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fence = not fence
        elif not fence and (heading := re.match(r"#+ (.*)", line)):
            slug = "".join(
                c
                for c in heading.group(1).strip().lower()
                if c in " -_" or unicodedata.category(c)[0] in "LN"
            )
            found.add(slug.replace(" ", "-"))
    return found


def test_every_local_link_and_anchor_resolves() -> None:
    broken = []
    for page in pages():
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):  # https:, mailto:
                continue
            name, _, anchor = target.partition("#")
            linked = (page.parent / name).resolve() if name else page
            if not linked.exists() or (anchor and anchor not in anchors(linked)):
                broken.append(f"{page.relative_to(PROJECT)}: {target}")
    assert broken == []


def test_readme_links_every_page_of_docs() -> None:
    linked = {target.split("#")[0] for target in LINK.findall(text("README.md"))}
    assert {f"docs/{page.name}" for page in pages()[1:]} <= linked


def test_readme_is_a_guide_not_the_manual() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 300


def test_the_quick_start_and_tests_sections_give_the_same_test_command() -> None:
    (setup, tests) = shell_lines(text("README.md").split("## Your first hour")[0])
    assert setup.startswith("python3 -m venv .venv && .venv/bin/pip install -e . && ")
    assert shell_lines(text("README.md").split("## Tests")[1]) == [tests]
    # CI runs exactly this line.
    assert tests in (PROJECT / ".ci" / "run").read_text(encoding="utf-8")
