"""Reading one ``/api/papers/{id}`` answer (``site/adoption.py``): the counts
of a real-shaped answer, and every hostile answer rejected with its reason."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from digest_crawler.paper import COUNT_MAX
from digest_crawler.site.adoption import read_adoption
from tests.support.sitegen import api_entries, paper_answer

NOW = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)
ENTRY = api_entries()[0]
ARXIV_ID = ENTRY["paper"]["id"]


def read(text: str | None, status: int = 200) -> Any:
    return read_adoption(ARXIV_ID, f"http://127.0.0.1/api/papers/{ARXIV_ID}", status, text, NOW)


def test_a_real_shaped_answer_gives_its_three_counts() -> None:
    found = read(paper_answer(ENTRY, 261, 1, 0).decode())
    assert found.outcome == "read" and found.read_at == NOW
    assert found.counts == {"linked_models": 261, "linked_datasets": 1, "linked_spaces": 0}


def test_a_count_the_answer_lacks_is_unknown_not_zero() -> None:
    answer = {**ENTRY["paper"], "numTotalModels": 3}
    found = read(json.dumps(answer))
    assert found.counts == {"linked_models": 3, "linked_datasets": None, "linked_spaces": None}


def test_a_404_is_a_paper_not_indexed() -> None:
    assert read('{"error":"Paper not found"}', status=404).outcome == "not_indexed"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"numTotalModels": "12"}, "numTotalModels: Input should be a valid integer"),
        ({"numTotalModels": True}, "numTotalModels: Input should be a valid integer"),
        ({"numTotalModels": 1.5}, "numTotalModels: Input should be a valid integer"),
        ({"numTotalSpaces": -1}, "numTotalSpaces: Input should be greater than or equal to 0"),
        (
            {"numTotalDatasets": COUNT_MAX + 1},
            f"numTotalDatasets: Input should be less than or equal to {COUNT_MAX}",
        ),
        ({"numTotalModels": [1]}, "numTotalModels: Input should be a valid integer"),
        ({"id": "2607.00001"}, f"the answer is for paper '2607.00001', not {ARXIV_ID!r}"),
        ({"id": 2607.00001}, f"the answer is for no paper id, not {ARXIV_ID!r}"),
    ],
)
def test_a_hostile_answer_is_rejected_with_its_reason(changes: dict[str, Any], reason: str) -> None:
    found = read(paper_answer(ENTRY, 1, 2, 3, **changes).decode())
    assert found.outcome == "rejected"
    assert found.reason is not None and found.reason.startswith(reason), found.reason
    assert found.counts == {}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<html>Too many requests</html>", "the answer is not JSON"),
        ("[1, 2]", "the answer is not a JSON object (a list)"),
        (json.dumps({"id": ARXIV_ID}), "the answer gives none of numTotalModels"),
        (f'{{"id": "{ARXIV_ID}", "numTotalModels": {"9" * 5000}}}', "numTotalModels: "),
        ("[" + "{}," * 250_000 + "{}]", "the answer holds more than 200,000 JSON values"),
        (None, "the answer is not text"),
    ],
)
def test_an_answer_that_is_no_paper_is_rejected(text: str | None, reason: str) -> None:
    found = read(text)
    assert found.outcome == "rejected"
    assert found.reason is not None and found.reason.startswith(reason), found.reason
    # What a reject keeps of the answer is bounded, whatever the answer's size.
    assert len(json.dumps(found.payload or {}, default=str)) < 1_000
