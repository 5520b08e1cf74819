"""Papers of the seed text rendering (fixtures/sources/seed-listing-2026-03-09.txt).

The seed is a text rendering of a real 2026 listing page ("Mar 9", 55
papers): per paper a title, the abstract, then either "• N authors" or an
organization chip ("apple Apple"), a "·" line and the date as the card shows
it ("Aug 15, 2025", or "Feb 19" in the listing's own year) followed by the
upvote count when there is one.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

SEED = Path(__file__).resolve().parents[2] / "fixtures" / "sources" / "seed-listing-2026-03-09.txt"
_AUTHORS = re.compile(r"^•\s*(\d+) authors?$")
_DATE_UPVOTES = re.compile(r"^([A-Z][a-z]{2} \d{1,2}(?:, \d{4})?)(?: (\d+))?$")


@dataclass(frozen=True)
class SeedPaper:
    title: str
    abstract: str
    author_count: int | None
    organization_id: str | None
    organization: str | None
    shown_date: str | None
    upvotes: int


def seed_papers(path: Path = SEED) -> list[SeedPaper]:
    return list(_seed_papers(path))


@functools.cache
def _seed_papers(path: Path) -> tuple[SeedPaper, ...]:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line]
    start = lines.index("byAK and the research community") + 2  # past the "Mar 9" header
    papers: list[SeedPaper] = []
    i = start
    while i + 1 < len(lines):
        title, abstract = lines[i], lines[i + 1]
        i += 2
        author_count = organization_id = organization = shown_date = None
        upvotes = 0
        if i < len(lines) and lines[i] != "·" and (i + 1 < len(lines) and lines[i + 1] == "·"):
            meta = lines[i]
            if match := _AUTHORS.match(meta):
                author_count = int(match[1])
            else:
                organization_id, _, organization = meta.partition(" ")
            i += 1
        if i < len(lines) and lines[i] == "·":
            match = _DATE_UPVOTES.match(lines[i + 1])
            if match is None:
                raise ValueError(f"unexpected seed line {lines[i + 1]!r}")
            shown_date, upvotes = match[1], int(match[2] or 0)
            i += 2
        papers.append(
            SeedPaper(
                title, abstract, author_count, organization_id, organization, shown_date, upvotes
            )
        )
    return tuple(papers)
