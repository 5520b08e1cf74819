"""Extraction from listing pages: the real captures first, then the generated fixtures."""

from __future__ import annotations

import datetime as dt
import html
import json

import pytest
from parsel import Selector

from digest_crawler.site.entries import MAX_PAGE_VALUES, values_at_most
from digest_crawler.site.pages import HYDRATION_PROPS_XPATH, parse_listing
from digest_crawler.site.urls import MAX_LISTING
from tests.conftest import FIXTURES, fixture_text
from tests.support.seed import seed_papers
from tests.support.sitegen import hostile_entries

D = dt.date


def test_real_2024_page_gives_all_13_papers_from_the_props() -> None:
    page = parse_listing(
        fixture_text("listing-2024-08-01.html"), "https://huggingface.co/papers?date=2024-08-01"
    )
    assert page.source == "hydration"
    assert page.served_date == D(2024, 8, 1)  # props "date": "2024-08-01T00:00:00.000Z"
    assert len(page.papers) == 13
    llama = page.papers[0]
    assert llama["arxiv_id"] == "2407.21783"
    assert llama["title"] == "The Llama 3 Herd of Models"
    assert llama["abstract"].startswith(
        "Modern artificial intelligence (AI) systems are powered by foundation models."
    )
    assert llama["author_count"] == 533 == len(llama["authors"])
    assert llama["authors"][:2] == ["Abhimanyu Dubey", "Abhinav Jauhri"]
    assert llama["published_at"] == "2024-07-31T17:54:27.000Z"
    assert llama["submitted_at"] == "2024-08-01T01:21:47.935Z"  # 2024: the entry's publishedAt
    assert (llama["upvotes"], llama["num_comments"], llama["submitted_by"]) == (94, 5, "akhaliq")
    assert llama["organization"] is None and llama["github_repo"] is None


def test_hidden_authors_count_as_the_cards_count_them() -> None:
    page = parse_listing(
        fixture_text("listing-2024-08-01.html"), "https://huggingface.co/papers?date=2024-08-01"
    )
    paper = next(p for p in page.papers if p["arxiv_id"] == "2407.21781")
    assert paper["author_count"] == 6  # the card says "6 authors", one of them hidden
    assert "6 authors" in fixture_text("listing-2024-08-01.html")


def test_real_2024_cards_agree_with_its_props() -> None:
    text = fixture_text("listing-2024-08-01.html")
    props = parse_listing(text, "https://huggingface.co/papers?date=2024-08-01")
    cards = parse_listing(
        text.replace('data-target="DailyPapers"', 'data-target="Gone"'),
        "https://huggingface.co/papers?date=2024-08-01",
    )
    assert cards.source == "cards" and cards.problem == "no DailyPapers hydration element"
    assert len(props.papers) == 13
    assert cards.served_date == D(2024, 8, 1)  # from <time datetime=...>, matching the URL
    assert [c["arxiv_id"] for c in cards.papers] == [p["arxiv_id"] for p in props.papers]
    for card, paper in zip(cards.papers, props.papers, strict=True):
        assert card["title"] == " ".join(paper["title"].split())  # JSON titles keep line breaks
        assert int(card["upvotes"]) == paper["upvotes"]
        assert int(card["author_count"]) == paper["author_count"]
        assert int(card["num_comments"]) == paper["num_comments"]
        assert card["submitted_by"] == paper["submitted_by"]
        assert card["abstract"] is None and card["published_at"] is None and card["authors"] is None


def test_real_2026_excerpt_cards_organization_chip_and_facepile() -> None:
    # The excerpt's props are cut by the excerpter: the page falls back to its two cards.
    page = parse_listing(
        fixture_text("sources/listing-2026-09-28-excerpts.html"),
        "https://huggingface.co/papers/date/2026-09-28",
    )
    assert page.source == "cards"
    assert page.problem is not None and page.problem.startswith("hydration JSON does not parse")
    assert page.served_date == D(2026, 9, 28)  # URL, checked against the "Sep 28" header
    fusereg, intern = page.papers
    assert fusereg["arxiv_id"] == "2609.31620"
    assert fusereg["organization"] == "USC Physical Superintelligence (PSI) Lab"
    assert fusereg["organization_id"] == "USC-PSI-Lab"
    assert fusereg["author_count"] is None  # an organization card shows no author count
    assert (fusereg["upvotes"], fusereg["num_comments"], fusereg["submitted_by"]) == (
        "110",
        "2",
        "Hongyang-Du",
    )
    assert intern["title"].startswith("InternW0-Δ: A World Action Model")
    assert (intern["author_count"], intern["upvotes"], intern["num_comments"]) == ("48", "17", None)
    assert intern["organization"] is None


def test_real_2026_entry_maps_every_field() -> None:
    excerpt = fixture_text("sources/listing-2026-09-28-excerpts.html")
    marker = 'data-target="DailyPapers" data-props="'
    start = excerpt.index(marker) + len(marker)
    entry_text = excerpt[start:].split("<!--", 1)[0].rstrip().rstrip(",")

    props = html.unescape(entry_text)
    first_entry = json.loads(props[props.index("[") + 1 :])
    document = json.dumps({"dateString": "2026-09-28", "dailyPapers": [first_entry]})
    page_text = f'<div data-target="DailyPapers" data-props="{html.escape(document)}"></div>'
    page = parse_listing(page_text, "https://huggingface.co/papers/date/2026-09-28")
    (paper,) = page.papers
    assert paper == {
        "arxiv_id": "2609.31620",
        "title": "FuseReg: Regularizing Layer Fusion Mitigates the Reconstruction-Generation Gap in Representation Autoencoders",
        "abstract": first_entry["paper"]["summary"],
        "ai_summary": first_entry["paper"].get("ai_summary"),
        "ai_keywords": first_entry["paper"].get("ai_keywords"),
        "authors": [a["name"] for a in first_entry["paper"]["authors"]],
        "author_count": 16,
        "organization": "USC Physical Superintelligence (PSI) Lab",
        "organization_id": "USC-PSI-Lab",
        "published_at": "2026-09-25T00:00:00.000Z",
        "submitted_at": "2026-09-28T00:00:00.000Z",
        "upvotes": 110,
        "num_comments": 2,
        "github_repo": "https://github.com/Hongyang-Du/FuseReg",
        "github_stars": 12,
        "project_page": "https://hongyang-du.github.io/FuseReg/",
        "thumbnail": first_entry["thumbnail"],
        "submitted_by": "Hongyang-Du",
    }


@pytest.mark.parametrize("authors", ["left out", None, "Ann, Bob", {"name": "Ann"}])
def test_an_entry_without_a_list_of_authors_gives_no_names_and_no_count(authors: object) -> None:
    """Unknown, not "no authors": a later crawl must not erase stored names."""
    text = fixture_text("listing-2026-07-31.html")
    marker = 'data-target="DailyPapers" data-props="'
    start = text.index(marker) + len(marker)
    props = json.loads(html.unescape(text[start : text.index('"', start)]))
    for entry in props["dailyPapers"]:
        if authors == "left out":
            del entry["paper"]["authors"]
        else:
            entry["paper"]["authors"] = authors
    page_text = (
        f'<div data-target="DailyPapers" data-props="{html.escape(json.dumps(props))}"></div>'
    )
    page = parse_listing(page_text, "http://127.0.0.1/papers/date/2026-07-31")
    assert len(page.papers) == 30
    assert {(p["authors"], p["author_count"]) for p in page.papers} == {(None, None)}


def test_seed_listing_gives_all_55_papers_in_page_order() -> None:
    page = parse_listing(
        fixture_text("listing-2026-03-09.html"), "http://127.0.0.1/papers/date/2026-03-09"
    )
    seeds = seed_papers()
    assert page.source == "hydration" and page.period == "day"
    assert page.served_date == D(2026, 3, 9)
    assert len(page.papers) == len(seeds) == 55
    assert [p["title"] for p in page.papers] == [s.title for s in seeds]
    assert [p["abstract"] for p in page.papers] == [s.abstract for s in seeds]
    assert [p["upvotes"] for p in page.papers] == [s.upvotes for s in seeds]
    for paper, seed in zip(page.papers, seeds, strict=True):
        if seed.author_count is not None:
            assert paper["author_count"] == seed.author_count
        assert paper["organization_id"] == seed.organization_id
        assert paper["organization"] == seed.organization


def test_text_is_never_decoded_twice_or_stripped_of_tags() -> None:
    page = parse_listing(
        fixture_text("listing-2026-03-10-hostile-text.html"),
        "http://127.0.0.1/papers/date/2026-03-10",
    )
    expected = hostile_entries()
    assert [p["title"] for p in page.papers] == [e["paper"]["title"] for e in expected]
    assert (
        page.papers[0]["title"] == "Q&A <Bench>: Are \"Quoted\" & 'Apostrophe' Answers <b>Tags</b>?"
    )
    assert page.papers[0]["abstract"].startswith("We write &amp; literally, keep <script>")
    assert page.papers[2]["organization"] == 'AT&T <Labs> "Research"'
    assert "&quot;" in fixture_text("listing-2026-03-10-hostile-text.html")  # escaped on the page


def test_page_without_hydration_falls_back_to_cards_with_the_header_date() -> None:
    page = parse_listing(
        fixture_text("listing-2026-03-11-no-hydration.html"),
        "http://127.0.0.1/papers/date/2026-03-11",
    )
    assert (page.source, page.served_date, len(page.papers)) == ("cards", D(2026, 3, 11), 20)
    assert [p["title"] for p in page.papers] == [s.title for s in seed_papers()[:20]]
    apple = page.papers[1]
    assert (apple["organization"], apple["organization_id"], apple["upvotes"]) == (
        "Apple",
        "apple",
        "2",
    )


def test_broken_json_falls_back_to_cards_and_says_why() -> None:
    page = parse_listing(
        fixture_text("listing-2026-03-12-broken-json.html"),
        "http://127.0.0.1/papers/date/2026-03-12",
    )
    assert page.source == "cards" and len(page.papers) == 20
    assert page.problem is not None and "does not parse" in page.problem


@pytest.mark.parametrize(
    ("url", "requested", "served"),
    [
        ("http://127.0.0.1/papers/date/2026-03-11", None, D(2026, 3, 11)),
        ("http://127.0.0.1/papers", D(2026, 3, 12), D(2026, 3, 11)),  # header year from the request
        (
            "http://127.0.0.1/papers/date/2026-03-12",
            None,
            None,
        ),  # header "Mar 11" contradicts the URL
        ("http://127.0.0.1/papers", None, None),  # year-less header and nothing to date it by
    ],
)
def test_served_date_without_props(
    url: str, requested: dt.date | None, served: dt.date | None
) -> None:
    page = parse_listing(fixture_text("listing-2026-03-11-no-hydration.html"), url, requested)
    assert page.served_date == served


@pytest.mark.parametrize(
    ("text", "entries"),
    [
        ("", 0),
        ("<html></html>", 0),
        ("\x00\xff garbage", 0),
        ('<div data-target="DailyPapers" data-props="[1,2]"></div>', 0),
        (
            '<div data-target="DailyPapers" data-props="{&quot;dailyPapers&quot;:[1, null, {&quot;paper&quot;:7}]}"></div>',
            3,
        ),
    ],
)
def test_malformed_pages_never_raise(text: str, entries: int) -> None:
    page = parse_listing(text, "http://127.0.0.1/papers/date/2026-03-11")
    assert isinstance(page.papers, list) and len(page.papers) == entries
    if not entries:
        assert page.source == "cards" and page.problem is not None  # it says why it found none
    for paper in page.papers:
        assert paper["arxiv_id"] is None  # nothing to make of it; validation will say so


def test_week_page_period_type_is_reported() -> None:
    document = json.dumps({"dateString": "2026-W10", "periodType": "week", "dailyPapers": []})

    page = parse_listing(
        f'<div data-target="DailyPapers" data-props="{html.escape(document)}"></div>',
        "http://127.0.0.1/papers/week/2026-W10",
    )
    assert page.period == "week"  # the spider files day pages only


def test_fixture_sources_are_present() -> None:
    """Each source the generated pages are made from is there whole, as
    fixtures/README.md describes it."""
    sources = FIXTURES / "sources"
    assert set(path.name for path in sources.iterdir()) == {
        "api-daily-papers-2026-07-31.json",
        "api-daily-papers-limit25-2026-07-13.json",
        "listing-2026-09-28-excerpts.html",
        "seed-listing-2026-03-09.txt",
    }
    assert len(seed_papers(sources / "seed-listing-2026-03-09.txt")) == 55
    api = json.loads((sources / "api-daily-papers-2026-07-31.json").read_text(encoding="utf-8"))
    assert len(api) == 30 and all(entry["paper"]["id"] for entry in api)
    limit25 = (sources / "api-daily-papers-limit25-2026-07-13.json").read_text(encoding="utf-8")
    assert len(json.loads(limit25)) == 25
    excerpts = (sources / "listing-2026-09-28-excerpts.html").read_text(encoding="utf-8")
    assert 'data-target="DailyPapers"' in excerpts


def test_generated_fixtures_are_up_to_date() -> None:
    from tests.support.sitegen import build

    built = build()
    # Every listing page of fixtures/ but the real 2024 capture is generated, and checked here.
    pages = {path.name for path in FIXTURES.glob("listing-*.html")}
    assert set(built) == pages - {"listing-2024-08-01.html"}
    for name, text in built.items():
        assert (FIXTURES / name).read_text(encoding="utf-8") == text, (
            f"run python -m tests.support.sitegen ({name})"
        )


def test_json_nested_too_deep_falls_back_to_the_cards() -> None:
    text = fixture_text("listing-2026-03-11-no-hydration.html").replace(
        "<main", '<div data-target="DailyPapers" data-props="' + "[" * 100_000 + '"></div><main', 1
    )
    page = parse_listing(text, "http://127.0.0.1/papers/date/2026-03-11")
    assert page.source == "cards" and len(page.papers) == 20
    assert page.problem is not None and "RecursionError" in page.problem


def test_the_site_s_ai_summary_keywords_and_thumbnail_are_read() -> None:
    """The real 2026-07-13 entries: 2 of 14 carry the site's summary and keywords."""
    page = parse_listing(
        fixture_text("listing-2026-07-13.html"), "http://127.0.0.1/papers/date/2026-07-13"
    )
    with_ai = [p for p in page.papers if p["ai_summary"]]
    assert len(page.papers) == 14 and len(with_ai) == 2
    flow = next(p for p in page.papers if p["arxiv_id"] == "2607.06957")
    assert flow["ai_summary"].startswith("Flow-ERD is a multi-agent traffic simulator")
    assert flow["ai_keywords"][:2] == ["multi-agent simulator", "flow matching"]
    assert flow["thumbnail"] == (
        "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2607.06957.png"
    )
    assert all(
        p["ai_summary"] is None and p["ai_keywords"] is None
        for p in page.papers
        if p not in with_ai
    )


def test_a_week_s_key_is_no_day() -> None:
    """Python's ISO parser reads "2026-W31" as that week's Monday: a page that
    names a week without saying it is a week's shows no day we can tell."""
    from tests.support.sitegen import api_entries, props_json, render_listing

    props = json.loads(props_json(api_entries(), D(2026, 7, 27), None))
    props["dateString"] = "2026-W31"
    page = render_listing(api_entries(), D(2026, 7, 27), props=json.dumps(props))
    listing = parse_listing(page, "http://x/papers/date/2026-07-27")
    assert listing.served_date is None


@pytest.mark.parametrize("shown", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
@pytest.mark.parametrize("period", ["day", "week"])
def test_a_date_beyond_the_calendar_in_utc_dates_no_page(shown: str, period: str) -> None:
    """A page's date (the props' or the header's) that is no day in UTC
    shows no day we can tell: never an exception."""
    from tests.support.sitegen import api_entries, props_json, render_listing

    props = json.loads(props_json(api_entries(), D(2026, 7, 27), None))
    props["dateString"], props["periodType"] = shown, period
    page = render_listing(api_entries(), D(2026, 7, 27), props=json.dumps(props))
    assert parse_listing(page, "http://x/papers/date/2026-07-27").served_date is None
    header = fixture_text("listing-2026-03-11-no-hydration.html").replace(
        "<main", f'<time datetime="{shown}"></time><main', 1
    )
    assert parse_listing(header, "http://x/papers/date/2026-03-11").served_date is None


def _with_props(props: str) -> str:
    return fixture_text("listing-2026-03-11-no-hydration.html").replace(
        "<main", f'<div data-target="DailyPapers" data-props="{html.escape(props)}"></div><main', 1
    )


@pytest.mark.parametrize(
    ("entries", "reason"),
    [
        ([{}] * 600_000, "its hydration JSON holds more than 1,000,000 JSON values"),
        ([{}] * 5_001, "it lists 5,001 papers"),
    ],
    ids=["values", "entries"],
)
def test_a_page_listing_more_than_any_listing_holds_is_no_listing(
    entries: list[object], reason: str
) -> None:
    """A mirror's hydration JSON with a huge dailyPapers list: refused, not
    read as papers (and not read from the cards instead)."""
    props = json.dumps({"dateString": "2026-03-11", "dailyPapers": entries})
    page = parse_listing(_with_props(props), "http://127.0.0.1/papers/date/2026-03-11")
    assert page.oversized == f"{reason}, more than any listing holds (5,000 papers)"
    assert page.papers == []


def test_a_page_of_more_cards_than_any_listing_holds_is_no_listing() -> None:
    text = fixture_text("listing-2026-03-11-no-hydration.html").replace(
        "<main", "<main>" + "<article></article>" * 5_001 + "</main><main", 1
    )
    page = parse_listing(text, "http://127.0.0.1/papers/date/2026-03-11")
    assert page.oversized == "it shows 5,021 cards, more than any listing holds (5,000 papers)"


def test_a_real_page_is_far_from_the_bounds() -> None:
    props = (
        Selector(text=fixture_text("listing-2026-07-31.html")).xpath(HYDRATION_PROPS_XPATH).get()
    )
    assert props is not None
    entries = len(json.loads(props)["dailyPapers"])
    assert values_at_most(props) / entries * MAX_LISTING < MAX_PAGE_VALUES
