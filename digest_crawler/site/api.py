"""One ``/api/daily_papers`` answer -> plain data, like ``pages.py``.

The API is what the listing page is built from: its answer is a JSON list of
entries shaped like the page's ``dailyPapers[]``, so each entry becomes the
same raw paper through ``entries.paper_from_entry`` and the same loader and
model make the same record from either door.

The API filters by the day a paper entered the digest (``date=``, ``week=``
or ``month=``), pages with ``limit`` (at most 100) and ``p`` (from 0), and
does not page on its own: a page as long as ``limit`` may have a next one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from digest_crawler.site.entries import (
    MAX_ANSWER_VALUES,
    RawPaper,
    loads,
    paper_from_entry,
    values_at_most,
)
from digest_crawler.site.urls import PAGE_SIZE


@dataclass
class ApiPage:
    """What one answer holds: its raw papers, or why it holds none."""

    papers: list[RawPaper] = field(default_factory=list)
    #: Why the answer is not a list of entries; ``None`` when it is.
    problem: str | None = None
    #: The problem is that the answer holds more than was asked for (a
    #: broken mirror's answer: refused before its entries are read).
    oversized: bool = False

    @property
    def is_last(self) -> bool:
        """Fewer entries than asked for: no page follows."""
        return len(self.papers) < PAGE_SIZE


def parse_answer(text: str) -> ApiPage:
    """Read one answer; never raises on a malformed one.

    >>> parse_answer('[{"paper": {"id": "2607.00001"}}]').papers[0]["arxiv_id"]
    '2607.00001'
    >>> parse_answer('{"error": "Invalid date"}').problem
    'the answer is not a JSON list of entries (a dict)'
    >>> parse_answer("[" + ",".join(["{}"] * 101) + "]").problem
    'the answer holds 101 entries, more than the 100 asked for'
    """
    if values_at_most(text) > MAX_ANSWER_VALUES:
        # Not parsed: 16 MB of "[{},{},...]" would be 5 million dicts.
        return ApiPage(
            problem=f"the answer holds more than {MAX_ANSWER_VALUES:,} JSON values,"
            f" far more than {PAGE_SIZE} entries make",
            oversized=True,
        )
    try:
        entries = loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: JSON nested too deep
        return ApiPage(problem=f"the answer does not parse as JSON: {type(exc).__name__}: {exc}")
    if not isinstance(entries, list):
        return ApiPage(
            problem=f"the answer is not a JSON list of entries (a {type(entries).__name__})"
        )
    if len(entries) > PAGE_SIZE:
        return ApiPage(
            problem=f"the answer holds {len(entries):,} entries, more than the {PAGE_SIZE} asked for",
            oversized=True,
        )
    return ApiPage(papers=[paper_from_entry(entry) for entry in entries])
