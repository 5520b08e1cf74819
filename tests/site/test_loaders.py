"""The loader, field by field, over the real 2026-07-31 entries and the fallback cards."""

from __future__ import annotations

import datetime as dt

import pytest

from digest_crawler.paper import PAPER_FIELDS, Paper
from digest_crawler.site.loaders import load_paper
from digest_crawler.site.pages import parse_listing
from tests.conftest import fixture_text

URL = "http://127.0.0.1/papers/date/2026-07-31"
NOW = dt.datetime(2026, 11, 26, 6, 0, tzinfo=dt.UTC)


class Item(dict):
    """A loaded paper whose fields read as attributes (absent: None)."""

    def __getattr__(self, name: str) -> object:
        return self.get(name)


@pytest.fixture(scope="module")
def items() -> dict[str, Item]:
    page = parse_listing(fixture_text("listing-2026-07-31.html"), URL)
    return {
        raw["arxiv_id"]: Item(load_paper(raw, listing_date=page.served_date)) for raw in page.papers
    }


def test_the_loader_fills_only_paper_fields_and_what_it_fills_validates(
    items: dict[str, dict],
) -> None:
    assert len(items) == 30
    for fields in items.values():
        assert set(fields) <= set(PAPER_FIELDS)
        Paper.model_validate({**fields, "url": "http://x/p", "scraped_at": NOW})


def test_arxiv_id(items: dict[str, object]) -> None:
    assert len(items) == 30 and "2607.23193" in items


def test_title_and_abstract_are_whitespace_collapsed_plain_text(items: dict) -> None:
    item = items["2607.28568"]
    assert item.title == (
        "Frontis-MA1: Training an AI4AI Model towards Recursive "
        "Self-Improvement in Machine Learning Engineering"
    )
    assert item.abstract.startswith("Recursive self-improvement (RSI) requires AI systems")
    assert "\n" not in item.abstract and "  " not in item.abstract


def test_authors_and_count(items: dict) -> None:
    item = items["2607.28618"]
    assert item.authors == ["Bing Yan", "Gregory Wolfe", "Stefano Martiniani", "Kyunghyun Cho"]
    assert item.author_count == 4


def test_organization_display_name_and_handle(items: dict) -> None:
    item = items["2607.28618"]
    assert (item.organization, item.organization_id) == ("New York University", "newyorkuniversity")
    assert (items["2607.23193"].organization, items["2607.23193"].organization_id) == (None, None)


def test_counts_are_ints(items: dict) -> None:
    item = items["2607.28568"]
    assert (item.upvotes, item.num_comments, item.github_stars) == (168, 2, 111)
    assert items["2607.16922"].upvotes == 0  # zero is a value, not a missing one


def test_links(items: dict) -> None:
    item = items["2607.28618"]
    assert item.github_repo == "https://github.com/bingyan4science/askchem"
    assert item.project_page == "https://www.askchem.org"
    assert items["2607.26637"].github_repo is None


def test_submitter(items: dict) -> None:
    assert items["2607.28618"].submitted_by == "bing-yan"


def test_dates_become_dates_and_utc_moments(items: dict) -> None:
    item = items["2607.28618"]
    assert item.published_at == dt.date(2026, 7, 30)
    assert item.submitted_at == dt.datetime(2026, 7, 31, tzinfo=dt.UTC)
    assert item.listing_date == dt.date(2026, 7, 31)


@pytest.mark.parametrize(
    ("shown", "listing", "expected"),
    [
        ("Feb 19", dt.date(2026, 3, 9), dt.date(2026, 2, 19)),
        ("Dec 3", dt.date(2026, 1, 5), dt.date(2025, 12, 3)),
        ("Aug 15, 2025", dt.date(2026, 3, 9), dt.date(2025, 8, 15)),
    ],
)
def test_year_less_card_dates_take_the_listing_year(
    shown: str, listing: dt.date, expected: dt.date
) -> None:
    assert load_paper({"published_at": shown}, listing_date=listing)["published_at"] == expected


def test_a_date_that_does_not_parse_is_left_for_validation_to_reject() -> None:
    assert load_paper({"published_at": "sometime"})["published_at"] == "sometime"


def test_cards_leave_unknown_fields_null_and_convert_counts() -> None:
    page = parse_listing(
        fixture_text("listing-2026-03-11-no-hydration.html"),
        "http://127.0.0.1/papers/date/2026-03-11",
    )
    first = Item(load_paper(page.papers[0], listing_date=page.served_date))
    assert (first.author_count, first.upvotes, first.num_comments) == (6, 0, 2)
    assert {"authors", "abstract", "published_at"}.isdisjoint(first)
    apple = Item(load_paper(page.papers[1], listing_date=page.served_date))
    assert (apple.organization, apple.organization_id, apple.author_count) == (
        "Apple",
        "apple",
        None,
    )


def test_empty_author_list_stays_an_empty_list() -> None:
    assert load_paper({"arxiv_id": "2607.00001", "authors": []})["authors"] == []
    assert "authors" not in load_paper({"arxiv_id": "2607.00001", "authors": None})


def test_unusable_values_become_null_not_guesses() -> None:
    item = load_paper(
        {"arxiv_id": " 2607.00001 ", "title": "  ", "upvotes": "many", "github_repo": ""}
    )
    assert item == {"arxiv_id": "2607.00001"}
