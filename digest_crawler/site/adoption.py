"""One ``/api/papers/{id}`` answer -> what cites the paper on the Hub.

The Hub answers one paper with the fields of a listing entry's ``paper``
plus the numbers of models, datasets and Spaces that cite it
(``numTotalModels``, ``numTotalDatasets``, ``numTotalSpaces``; a few of each
in ``linkedModels`` ...), the names ``huggingface_hub``'s ``paper_info``
reads. A paper it has not indexed is a 404. The counts become the
``paper.ADOPTION`` fields; an answer that is not such an object, or is for
another paper, or whose counts are no counts, is rejected with its reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from digest_crawler.items import Adoption
from digest_crawler.paper import ADOPTION, Paper, fields_in
from digest_crawler.site.entries import MAX_ANSWER_VALUES, loads, values_at_most

#: The answer's name of each count (``huggingface_hub``'s ``PaperInfo``).
ANSWER_NAMES = {
    "linked_models": "numTotalModels",
    "linked_datasets": "numTotalDatasets",
    "linked_spaces": "numTotalSpaces",
}
#: The most characters of an answer's value a reject keeps.
KEPT_CHARACTERS = 200

#: The counts as the model bounds them (whole numbers from 0 to COUNT_MAX).
Counts: type[BaseModel] = create_model(
    "Counts",
    __config__=ConfigDict(strict=True, extra="forbid"),
    **{  # type: ignore[call-overload]
        name: (Paper.model_fields[name].annotation, Field(None)) for name in fields_in(ADOPTION)
    },
)
assert tuple(ANSWER_NAMES) == fields_in(ADOPTION)


def adoption_path(arxiv_id: str) -> str:
    """The path of the call for one paper.

    >>> adoption_path("2607.28618")
    '/api/papers/2607.28618'
    """
    return f"/api/papers/{arxiv_id}"


def adoption_of(url: str) -> str | None:
    """The paper an adoption call's URL asks for, if it is one.

    >>> adoption_of("https://huggingface.co/api/papers/2607.28618"), adoption_of("https://x/papers/1")
    ('2607.28618', None)
    """
    path = urlsplit(url).path
    marker = "/api/papers/"
    if marker not in path:
        return None
    arxiv_id = path[path.rindex(marker) + len(marker) :]
    return arxiv_id or None


def read_adoption(
    arxiv_id: str, url: str, status: int, text: str | None, received_at: dt.datetime
) -> Adoption:
    """What one answer for ``arxiv_id`` says (never raises).

    >>> now = dt.datetime(2026, 7, 31, tzinfo=dt.UTC)
    >>> read = read_adoption("2607.28618", "u", 200,
    ...     '{"id": "2607.28618", "numTotalModels": 3, "numTotalDatasets": 0}', now)
    >>> read.outcome, read.counts
    ('read', {'linked_models': 3, 'linked_datasets': 0, 'linked_spaces': None})
    >>> read_adoption("2607.28618", "u", 200, '{"id": "2607.00001", "numTotalModels": 3}', now).reason
    "the answer is for paper '2607.00001', not '2607.28618'"
    >>> read_adoption("2607.28618", "u", 404, '{"error": "Paper not found"}', now).outcome
    'not_indexed'
    """

    def rejected(reason: str, payload: dict[str, Any] | None = None) -> Adoption:
        return Adoption(
            arxiv_id, url, "rejected", reason=reason, payload=payload, read_at=received_at
        )

    if status == 404:
        return Adoption(arxiv_id, url, "not_indexed", read_at=received_at)
    if status != 200:
        return rejected(f"HTTP {status}")
    if text is None:
        return rejected("the answer is not text")
    if values_at_most(text) > MAX_ANSWER_VALUES:
        return rejected(f"the answer holds more than {MAX_ANSWER_VALUES:,} JSON values")
    try:
        answer = loads(text)
    except ValueError as exc:
        return rejected(f"the answer is not JSON ({exc})", {"text": _kept(text)})
    if not isinstance(answer, dict):
        return rejected(
            f"the answer is not a JSON object (a {type(answer).__name__})", {"text": _kept(text)}
        )
    payload = {
        name: _kept(answer[name]) for name in ("id", *ANSWER_NAMES.values()) if name in answer
    }
    if answer.get("id") != arxiv_id:
        shown = answer.get("id")
        what = f"paper {_kept(shown)!r}" if isinstance(shown, str) else "no paper id"
        return rejected(f"the answer is for {what}, not {arxiv_id!r}", payload)
    given = {name: answer[key] for name, key in ANSWER_NAMES.items() if key in answer}
    if not given:
        return rejected(f"the answer gives none of {', '.join(ANSWER_NAMES.values())}", payload)
    try:
        counts = Counts.model_validate(given).model_dump()
    except ValidationError as exc:
        reason = "; ".join(
            f"{ANSWER_NAMES[str(error['loc'][0])]}: {error['msg']}"
            for error in exc.errors(include_url=False)
        )
        return rejected(reason, payload)
    return Adoption(arxiv_id, url, "read", counts=counts, read_at=received_at)


def _kept(value: Any) -> Any:
    """A value of the answer as a reject keeps it: a long text (or a number
    too long to read) cut to ``KEPT_CHARACTERS``, a list or object as its
    type only."""
    if isinstance(value, str):
        return value if len(value) <= KEPT_CHARACTERS else value[:KEPT_CHARACTERS] + "..."
    if isinstance(value, list | dict):
        return f"<a JSON {'list' if isinstance(value, list) else 'object'}>"
    return value
