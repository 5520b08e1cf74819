"""What the spider yields: ``Listing``, one listing it read, with its papers.

A ``Listing`` is a day's, a week's or a month's list, what became of it (its
papers were served; the site answered with another listing, "no digest"; or
it could not be read) and its papers in list order as the loader filled
them. What a paper is, is ``paper.Paper``.
"""

from __future__ import annotations

import datetime as dt
import json
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

    @property
    def key(self) -> tuple[str, str]:
        """What makes two rejects the same: the reason and the payload (as
        the archive keeps it, JSON with sorted keys)."""
        return self.reason, payload_json(self.payload)


def payload_json(payload: dict[str, Any]) -> str:
    """A rejected paper's payload as the archive keeps it: ASCII JSON (a
    rejected paper may hold what no text column takes, a lone surrogate or
    NUL, and the payload keeps it exactly), keys sorted.

    >>> payload_json({"title": "x", "arxiv_id": None})
    '{"arxiv_id": null, "title": "x"}'
    """
    return json.dumps(payload, default=str, sort_keys=True)


@dataclass
class Listing:
    """One listing read: which (the ``period`` starting on ``day``), from
    where, its outcome (with the reason when it is not ``served``), and its
    papers in list order as the loader filled them. The validation pipeline
    fills ``valid`` (rank, paper) and ``rejected``, each reject once
    (``reject``)."""

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
    #: Rejects not kept: copies of one kept (``reject``).
    duplicate_rejects: int = 0
    #: When the answer that completed the read was received: the moment
    #: its papers are stored at (``None``: when stored).
    read_at: dt.datetime | None = None
    #: The version of the reading rules that read it (``site.reading.READING_RULES``).
    reading_rules: int | None = None
    _reject_keys: set[tuple[str, str]] = field(default_factory=set, repr=False, compare=False)

    def reject(self, rejected: Rejected) -> bool:
        """Keep ``rejected`` aside, unless the same reject (reason and
        payload) already is: a broken answer's thousand copies of one bad
        entry are one reject. Whether it was kept."""
        key = rejected.key
        if key in self._reject_keys:
            self.duplicate_rejects += 1
            return False
        self._reject_keys.add(key)
        self.rejected.append(rejected)
        return True

    @property
    def name(self) -> str:
        """How the site names the listing: ``2026-07-31``, ``2026-W31``, ``2026-07``."""
        return Period(self.period, self.day).key


#: What one adoption call (``/api/papers/{id}``) gave: the counts, the Hub
#: has not indexed the paper, an answer that failed validation, or no
#: answer (after retries).
AdoptionOutcome = Literal["read", "not_indexed", "rejected", "failed"]


@dataclass
class Adoption:
    """What cites one paper on the Hub, as one call for it answered: the
    counts (``paper.ADOPTION`` fields; a count the answer lacks is ``None``)
    when ``read``, with the reason otherwise, and for a rejected answer what
    it said (``payload``, kept aside as a rejected listing paper is)."""

    arxiv_id: str
    url: str
    outcome: AdoptionOutcome
    counts: dict[str, int | None] = field(default_factory=dict)
    reason: str | None = None
    payload: dict[str, Any] | None = None
    #: When the answer was received (``None``: when stored).
    read_at: dt.datetime | None = None
