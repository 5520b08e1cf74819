"""What the spider yields: ``Listing``, one listing it read, with its papers.

A ``Listing`` is a day's, a week's or a month's list, what became of it (its
papers were served; the site answered with another listing, "no digest"; or
it could not be read) and its papers in list order as the loader filled
them. What a paper is, is ``paper.Paper``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from digest_crawler.paper import Paper
from digest_crawler.periods import Kind, Period

#: A listing's outcome as it was read: its papers were served, the site
#: answered with another listing (no digest), or it could not be read.
Outcome = Literal["served", "no_digest", "failed"]


@dataclass
class Rejected:
    """A paper of a listing that failed validation, kept with its reason."""

    arxiv_id: str | None
    reason: str
    payload: dict[str, Any]


@dataclass
class Listing:
    """One listing read: which (the ``period`` starting on ``day``), from
    where, its outcome (with the reason when it is not ``served``), and its
    papers in list order as the loader filled them. The validation pipeline
    fills ``valid`` (rank, paper) and ``rejected``."""

    day: dt.date
    url: str
    outcome: Outcome
    reason: str | None = None
    period: Kind = "day"
    #: ``None`` marks a paper already kept aside in ``rejected`` (one of
    #: another listing): its rank stays taken.
    papers: list[dict[str, Any] | None] = field(default_factory=list)
    valid: list[tuple[int, Paper]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def name(self) -> str:
        """How the site names the listing: ``2026-07-31``, ``2026-W31``, ``2026-07``."""
        return Period(self.period, self.day).key
