"""API answers -> raw papers: the same as the listing page's, entry by entry."""

from __future__ import annotations

import json
import tracemalloc

from digest_crawler.periods import Period
from digest_crawler.site.api import parse_answer
from digest_crawler.site.entries import MAX_ANSWER_VALUES, values_at_most
from digest_crawler.site.pages import parse_listing
from digest_crawler.site.urls import PAGE_SIZE, api_path
from tests.conftest import FIXTURES, fixture_text


def test_the_real_answer_gives_the_same_raw_papers_as_the_page_built_from_it() -> None:
    answer = parse_answer(
        (FIXTURES / "sources" / "api-daily-papers-2026-07-31.json").read_text(encoding="utf-8")
    )
    page = parse_listing(fixture_text("listing-2026-07-31.html"), "http://x/papers/date/2026-07-31")
    assert answer.problem is None and len(answer.papers) == 30
    assert answer.papers == page.papers
    assert answer.is_last  # 30 < 100: no page follows


def test_a_full_page_may_have_a_next_one() -> None:
    entries = [{"paper": {"id": f"2607.{n:05d}"}} for n in range(PAGE_SIZE)]
    answer = parse_answer(json.dumps(entries))
    assert len(answer.papers) == PAGE_SIZE and not answer.is_last


def test_an_empty_list_is_a_list_of_no_papers() -> None:
    answer = parse_answer("[]")
    assert (answer.papers, answer.problem, answer.is_last) == ([], None, True)


def test_what_is_not_a_list_of_entries_says_why_and_gives_no_papers() -> None:
    assert str(parse_answer("<html>").problem).startswith("the answer does not parse as JSON")
    assert str(parse_answer("[" * 100_000).problem).startswith("the answer does not parse as JSON")
    assert parse_answer('{"error": "Invalid date"}').papers == []
    # An entry that is no object is still a paper (of nothing): validation says what is missing.
    assert parse_answer('[1, "x", null]').papers[0]["arxiv_id"] is None


def test_every_view_is_asked_by_its_own_word() -> None:
    assert api_path(Period.parse("day", "2026-07-31")) == (
        "/api/daily_papers?date=2026-07-31&limit=100&p=0"
    )
    assert api_path(Period.parse("month", "2026-07"), 3).endswith("?month=2026-07&limit=100&p=3")


def test_one_endless_number_costs_only_its_paper() -> None:
    entries = [{"paper": {"id": "2607.00001", "upvotes": 1}}, {"paper": {"id": "2607.00002"}}]
    text = json.dumps(entries).replace('"upvotes": 1', f'"upvotes": {"9" * 5001}')
    answer = parse_answer(text)
    assert answer.problem is None and len(answer.papers) == 2
    assert (
        answer.papers[0]["upvotes"] == "9" * 5001
    )  # the loader leaves it out; validation says why


def test_an_answer_of_more_entries_than_asked_for_is_refused_unread() -> None:
    """A mirror nobody controls answers ``limit=100`` with 100,000 empty
    entries (300 KB): refused before any entry becomes a raw paper."""
    answer = parse_answer(json.dumps([{}] * 100_000))
    assert answer.oversized and answer.papers == []
    assert (
        answer.problem
        == "the answer holds more than 200,000 JSON values, far more than 100 entries make"
    )
    answer = parse_answer(json.dumps([{"paper": {"id": f"2607.{n:05d}"}} for n in range(101)]))
    assert (answer.oversized, answer.problem) == (
        True,
        "the answer holds 101 entries, more than the 100 asked for",
    )
    real = (FIXTURES / "sources" / "api-daily-papers-2026-07-31.json").read_text(encoding="utf-8")
    assert (
        values_at_most(real) * 100 / 30 < MAX_ANSWER_VALUES / 10
    )  # ten times a real answer's room


def test_an_answer_just_under_16_mb_costs_no_memory_to_refuse() -> None:
    """5.5 million empty entries (under DOWNLOAD_MAXSIZE) were a MemoryError:
    they are counted in the text, never made."""
    text = "[" + "{}," * 5_500_000 + "{}]"
    tracemalloc.start()
    try:
        answer = parse_answer(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.oversized and peak < 1_000_000
