"""The reading rules on saved answers: one listing from its page or API
answers, with no crawler (``site/reading.py``)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import pytest

from digest_crawler.items import Listing
from digest_crawler.periods import Period
from digest_crawler.site import reading
from digest_crawler.site.reading import Answer, Follow, ListingReader, Tally
from tests.conftest import FIXTURES
from tests.support.sitegen import api_entries, many_entries, render_listing

D = dt.date
BASE = "http://127.0.0.1:9"
RECEIVED = dt.datetime(2026, 11, 26, 6, 0, tzinfo=dt.UTC)


def settings_with(**values: str) -> Any:
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("digest_crawler.settings", priority="project")
    settings.setdict(values, priority="cmdline")
    return settings


def day(text: str) -> Period:
    return Period.parse("day", text)


def page(body: str | bytes, url: str, status: int = 200, **headers: str) -> Answer:
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    return Answer(url=url, status=status, text=text, received_at=RECEIVED, **headers)


def fixture(name: str, url: str) -> Answer:
    return page((FIXTURES / name).read_bytes(), url)


def api(url: str, entries: Any) -> Answer:
    return page(json.dumps(entries), url, content_type="application/json")


def reader(period: Period, door: reading.Door = "html") -> ListingReader:
    return ListingReader(period, BASE, door, Tally())


def counts(of: ListingReader) -> dict[str, int]:
    assert isinstance(of.notes, Tally)
    return dict(of.notes.counts)


def lines(of: ListingReader) -> str:
    assert isinstance(of.notes, Tally)
    return "\n".join(message for _, message in of.notes.lines)


def listing(step: Listing | Follow) -> Listing:
    assert isinstance(step, Listing), step
    return step


def follow(step: Listing | Follow) -> Follow:
    assert isinstance(step, Follow), step
    return step


# -- the listing pages --------------------------------------------------------------


def test_a_listing_page_gives_one_listing_with_its_papers_in_page_order() -> None:
    read = reader(day("2026-07-31"))
    assert read.url == f"{BASE}/papers/date/2026-07-31"
    found = listing(read.read(fixture("listing-2026-07-31.html", read.url)))
    assert (found.day, found.outcome, found.reason) == (D(2026, 7, 31), "served", None)
    assert len(found.papers) == 30
    papers = [p for p in found.papers if p is not None]
    assert {p["listing_date"] for p in papers} == {D(2026, 7, 31)}
    assert papers[0]["arxiv_id"] == "2607.23193"
    assert papers[0]["url"] == f"{BASE}/papers/2607.23193"
    assert {p["scraped_at"] for p in papers} == {RECEIVED}  # read when it was received
    assert counts(read) == {"pages": 1, "papers_seen": 30}
    assert read.served == D(2026, 7, 31)


def test_a_page_of_another_day_files_nothing_and_says_what_was_served() -> None:
    read = reader(day("2026-03-08"))
    found = listing(read.read(fixture("listing-2026-07-31.html", f"{BASE}/papers/date/2026-07-31")))
    assert (found.outcome, found.papers) == ("no_digest", [])
    assert found.reason == "the site served the day of 2026-07-31"
    assert counts(read)["no_digest_listings"] == 1
    assert "No digest for 2026-03-08: the site served the day of 2026-07-31" in lines(read)
    assert read.served == D(2026, 7, 31)  # the newest day the site has


def test_another_date_served_in_place_files_nothing() -> None:
    read = reader(day("2026-08-01"))
    found = listing(read.read(fixture("listing-2026-07-31.html", read.url)))
    assert found.outcome == "no_digest" and counts(read)["no_digest_listings"] == 1


def test_a_fallback_page_is_warned_about_and_counted() -> None:
    read = reader(day("2026-03-11"))
    found = listing(read.read(fixture("listing-2026-03-11-no-hydration.html", read.url)))
    papers = [p for p in found.papers if p is not None]
    assert len(papers) == 20 and all("abstract" not in p for p in papers)
    assert counts(read)["fallback_pages"] == 1
    assert (
        "no DailyPapers hydration element; read 20 papers from the page's cards instead"
        in lines(read)
    )


def test_a_page_of_unknown_date_files_nothing() -> None:
    # The no-hydration page says "Mar 11": served at the 03-12 URL, its day cannot be told.
    read = reader(day("2026-03-12"))
    found = listing(read.read(fixture("listing-2026-03-11-no-hydration.html", read.url)))
    assert (found.outcome, found.reason) == ("failed", "cannot tell which day the page shows")
    assert counts(read)["undated_pages"] == 1


def test_a_non_text_answer_is_counted_not_parsed() -> None:
    read = reader(day("2026-03-12"))
    binary = Answer(url=read.url, status=200, text=None, content_type="image/png")
    found = listing(read.read(binary))
    assert (found.outcome, found.reason) == ("failed", "not a text page ('image/png')")
    assert counts(read)["unreadable_pages"] == 1


def test_an_empty_listing_is_warned_about() -> None:
    read = reader(day("2026-03-12"))
    body = (
        '<div data-target="DailyPapers" data-props="{&quot;dateString&quot;:'
        '&quot;2026-03-12&quot;,&quot;dailyPapers&quot;:[]}"></div>'
    )
    found = listing(read.read(page(body, read.url)))
    assert (found.outcome, found.papers) == ("served", [])
    assert counts(read)["empty_pages"] == 1
    assert "the page for 2026-03-12 lists no papers" in lines(read)


def test_one_unreadable_value_costs_only_that_value() -> None:
    """A link no URL parser reads, a count of 5,000 digits: the listing keeps
    all its papers; validation judges what the loader made of them."""
    text = (FIXTURES / "listing-2026-07-31.html").read_text(encoding="utf-8")
    text = text.replace("https://github.com/bingyan4science/askchem", "http://[::1", 1).replace(
        "&quot;numComments&quot;:2,", f"&quot;numComments&quot;:&quot;{'9' * 5000}&quot;,", 1
    )
    read = reader(day("2026-07-31"))
    found = listing(read.read(page(text, read.url)))
    papers = [p for p in found.papers if p is not None]
    assert found.outcome == "served" and len(papers) == 30
    askchem = next(p for p in papers if p["arxiv_id"] == "2607.28618")
    assert "github_repo" not in askchem and askchem["upvotes"] == 292
    assert any(p.get("num_comments") == "9" * 5000 for p in papers)
    assert counts(read)["links_dropped"] == 1
    assert "dropped github_repo='http://[::1' (not an http(s) URL)" in lines(read)


def test_the_log_quotes_what_a_page_says() -> None:
    """A period that is no known kind, with a line break: quoted, one line."""
    body = (
        '<div data-target="DailyPapers" data-props="{&quot;dateString&quot;:'
        "&quot;2026-03-12&quot;,&quot;periodType&quot;:&quot;day\\nERROR forged&quot;,"
        '&quot;dailyPapers&quot;:[]}"></div>'
    )
    read = reader(day("2026-03-12"))
    found = listing(read.read(page(body, read.url)))
    assert found.reason == "the site served the 'day\\nERROR forged' of 2026-03-12"
    assert read.notes.lines  # type: ignore[attr-defined]
    assert all("\n" not in message for _, message in read.notes.lines)  # type: ignore[attr-defined]


# -- the API door --------------------------------------------------------------------


def test_the_api_door_follows_the_pages_until_a_short_one_and_keeps_the_order() -> None:
    read = reader(day("2026-03-09"), "api")
    entries = many_entries(D(2026, 3, 9), 130)
    base = f"{BASE}/api/daily_papers?date=2026-03-09&limit=100"
    assert read.url == f"{base}&p=0"
    following = follow(read.read(api(read.url, entries[:100])))
    assert following == Follow(f"{base}&p=1")
    found = listing(read.read(api(following.url, entries[100:])))
    assert (found.outcome, found.day, found.period) == ("served", D(2026, 3, 9), "day")
    papers = [p for p in found.papers if p is not None]
    assert [p["arxiv_id"] for p in papers] == [e["paper"]["id"] for e in entries]
    assert {p["listing_date"] for p in papers} == {D(2026, 3, 9)}
    assert counts(read) == {"api_answers": 2, "papers_seen": 130}


def test_an_empty_api_list_is_no_digest() -> None:
    read = reader(day("2026-03-08"), "api")
    found = listing(read.read(api(read.url, [])))
    assert (found.outcome, found.reason) == ("no_digest", "the API lists no papers for it")
    assert read.served is None


def test_an_api_answer_of_other_days_files_nothing_and_a_stray_paper_is_kept_aside() -> None:
    read = reader(day("2026-03-09"), "api")
    # A mirror that ignores date= answers with the newest day's papers.
    found = listing(read.read(api(read.url, many_entries(D(2026, 7, 31), 3))))
    assert (found.outcome, found.reason, found.papers) == (
        "no_digest",
        "the API answered with papers of 2026-07-31",
        [],
    )
    mixed = many_entries(D(2026, 3, 9), 3)
    mixed[1] = many_entries(D(2026, 3, 6), 2)[1]
    read = reader(day("2026-03-09"), "api")
    found = listing(read.read(api(read.url, mixed)))
    assert found.outcome == "served"
    assert [p and p["arxiv_id"] for p in found.papers] == ["2603.00001", None, "2603.00003"]
    (kept,) = found.rejected
    assert kept.reason == "paper '2603.00002' entered the digest on 2026-03-06, not in 2026-03-09"
    assert counts(read)["rejected_items"] == 1


def test_an_api_list_without_end_keeps_what_was_read_and_stays_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past MAX_PAGES the list is read no further: the papers read are the
    listing's (stored), its outcome failed (read again next run)."""
    monkeypatch.setattr(reading, "MAX_PAGES", 2)
    read = reader(day("2026-03-09"), "api")
    entries = many_entries(D(2026, 3, 9), 200)
    following = follow(read.read(api(read.url, entries[:100])))
    found = listing(read.read(api(following.url, entries[100:])))
    assert (found.outcome, found.reason) == (
        "failed",
        "incomplete: the API's list goes on past 2 pages of 100 (200 papers, more than any"
        " listing holds)",
    )
    assert [p and p["arxiv_id"] for p in found.papers] == [e["paper"]["id"] for e in entries]
    assert counts(read)["listings_incomplete"] == 1 and read.served == D(2026, 3, 9)
    assert "storing the 200 papers read, the listing stays failed" in lines(read)


def test_an_api_that_ignores_the_page_asked_for_stops_at_its_second_page() -> None:
    """A mirror that answers every p= with its first page: the second answer
    repeats all of the first, and paging stops there (not 50 calls later)."""
    read = reader(day("2026-03-09"), "api")
    full = many_entries(D(2026, 3, 9), 100)
    following = follow(read.read(api(read.url, full)))
    found = listing(read.read(api(following.url, full)))
    assert (found.outcome, found.reason) == (
        "failed",
        "incomplete: page 1 of the API's list repeats the pages before it",
    )
    assert len(found.papers) == 100


def test_an_api_answer_that_is_no_list_fails_its_listing() -> None:
    read = reader(day("2026-03-09"), "api")
    found = listing(read.read(api(read.url, {"error": "Invalid date"})))
    assert found.outcome == "failed" and "not a JSON list" in (found.reason or "")
    assert counts(read)["unreadable_pages"] == 1


def test_entries_that_say_no_day_are_the_requested_day_s_or_kept_out_of_a_week() -> None:
    undated = api_entries()
    for entry in undated:
        del entry["paper"]["submittedOnDailyAt"]  # entry.publishedAt stays: the arXiv date
    read = reader(day("2026-07-31"), "api")
    found = listing(read.read(api(read.url, undated)))
    papers = [p for p in found.papers if p is not None]
    assert found.outcome == "served" and len(papers) == 30
    assert {p["listing_date"] for p in papers} == {D(2026, 7, 31)}
    assert all("submitted_at" not in p for p in papers)
    read = reader(Period.parse("week", "2026-W31"), "api")
    found = listing(read.read(api(read.url, undated)))
    assert found.papers == [None] * 30 and len(found.rejected) == 30
    assert found.rejected[0].reason.endswith("says no day it entered the digest (2026-W31)")


def test_a_list_that_shifts_while_it_is_paged_keeps_each_paper_once_with_dense_ranks() -> None:
    read = reader(day("2026-03-09"), "api")
    entries = many_entries(D(2026, 3, 9), 120)
    following = follow(read.read(api(read.url, entries[:100])))
    found = listing(read.read(api(following.url, entries[50:])))
    assert [p and p["arxiv_id"] for p in found.papers] == [e["paper"]["id"] for e in entries]
    assert counts(read)["api_repeats"] == 50


# -- week and month lists -----------------------------------------------------------------


@pytest.mark.parametrize("door", ["html", "api"])
def test_a_week_list_files_each_paper_under_its_own_day(door: reading.Door) -> None:
    from tests.support.site import period_routes

    read = reader(Period.parse("week", "2026-W31"), door)
    served = period_routes()[read.url.removeprefix(BASE)]
    found = listing(read.read(page(served.body, read.url)))
    assert (found.outcome, found.period, found.day, found.name) == (
        "served",
        "week",
        D(2026, 7, 27),
        "2026-W31",
    )
    papers = [p for p in found.papers if p is not None]
    assert len(papers) == 30 and {p["listing_date"] for p in papers} == {D(2026, 7, 31)}
    upvotes = [p["upvotes"] for p in papers]
    assert upvotes == sorted(upvotes, reverse=True)  # the week's order, not the day's
    assert read.served is None  # a week's list says nothing of the newest day


def test_a_page_of_another_period_is_no_digest_and_cards_cannot_make_a_week() -> None:
    week = Period.parse("week", "2026-W31")
    read = reader(week)
    day_page = render_listing(api_entries(), D(2026, 7, 31))
    found = listing(read.read(page(day_page, read.url)))
    assert (found.outcome, found.reason) == ("no_digest", "the site served the day of 2026-07-31")
    read = reader(week)
    cards = render_listing(api_entries(), D(2026, 7, 31), hydration=False)
    found = listing(read.read(page(cards, read.url)))
    assert found.outcome == "failed"
    assert "cards of a week's list say no listing days" in (found.reason or "")
    assert counts(read)["unreadable_pages"] == 1


# -- redirects ---------------------------------------------------------------------------


def redirect(url: str, location: str | None, status: int = 302) -> Answer:
    return Answer(url=url, status=status, text="", location=location, received_at=RECEIVED)


def test_a_redirect_to_another_day_is_no_digest_read_from_its_location() -> None:
    read = reader(day("2026-03-08"))
    found = listing(read.read(redirect(read.url, "/papers/date/2026-07-31")))
    assert (found.outcome, found.reason) == ("no_digest", "the site redirects to 2026-07-31")
    assert read.served == D(2026, 7, 31)


def test_a_redirect_on_the_site_is_followed_and_counted_to_a_limit() -> None:
    read = reader(day("2026-03-09"))
    elsewhere = f"{BASE}/mirror/papers/date/2026-03-09"
    for number in range(1, 6):
        assert read.read(redirect(read.url, elsewhere)) == Follow(elsewhere, redirect=True)
        assert read.redirects == number
    found = listing(read.read(redirect(elsewhere, elsewhere)))
    assert (found.outcome, found.reason) == ("failed", "too many redirects")


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://127.0.0.2:9/papers/date/2026-03-09", "redirected off the site to"),
        ("file:///etc/passwd", "redirected off the site to 'file:///etc/passwd'"),
        ("http://user:pw@127.0.0.1:9/x", "redirected off the site to 'http://***@127.0.0.1:9/x'"),
        ("http://[::1", "redirected to 'http://[::1', which is no URL"),
        (None, "HTTP 302 without a Location"),
    ],
)
def test_a_redirect_off_the_site_or_to_no_url_fails_in_one_line(
    location: str | None, reason: str
) -> None:
    read = reader(day("2026-03-09"))
    found = listing(read.read(redirect(read.url, location)))
    assert found.outcome == "failed" and (found.reason or "").startswith(reason)
    assert "\n" not in (found.reason or "")


@pytest.mark.parametrize(
    ("base", "location"),
    [
        ("http://bücher.example", "/papers/date/2026-07-31"),
        ("http://127.0.0.1:9/mirrör", "/mirr%C3%B6r/papers/date/2026-07-31"),
        ("http://127.0.0.1:9/a mirror", "/a%20mirror/papers/date/2026-07-31"),
    ],
)
def test_a_base_url_beyond_ascii_is_the_one_scrapy_asks_and_its_redirects_are_on_the_site(
    base: str, location: str
) -> None:
    """A host name beyond ASCII (IDN) is asked for in its ASCII form: every
    redirect of the site, a day without a digest's too, was taken for one
    off the site, and the day failed."""
    from scrapy import Request

    from digest_crawler.config import Config

    base_url = Config.from_settings(settings_with(DIGEST_BASE_URL=base)).base_url
    read = ListingReader(day("2026-03-08"), base_url, "html", Tally())
    assert read.url == Request(read.url).url  # what Scrapy sends
    found = listing(read.read(redirect(read.url, location)))
    assert (found.outcome, found.reason) == ("no_digest", "the site redirects to 2026-07-31")


def test_a_page_redirected_to_the_api_follows_the_api_pages_to_their_end() -> None:
    read = reader(day("2026-03-11"))  # the pages door
    api_base = f"{BASE}/api/daily_papers?date=2026-03-11&limit=100"
    moved = follow(read.read(redirect(read.url, f"{api_base}&p=0")))
    entries = many_entries(D(2026, 3, 11), 130)
    following = follow(read.read(api(moved.url, entries[:100])))
    assert following == Follow(f"{api_base}&p=1") and read.redirects == 0
    found = listing(read.read(api(following.url, entries[100:])))
    assert (found.outcome, len(found.papers)) == ("served", 130)


def test_a_later_api_page_redirected_to_another_day_fails_the_listing() -> None:
    read = reader(day("2026-03-09"), "api")
    following = follow(read.read(api(read.url, many_entries(D(2026, 3, 9), 100))))
    away = redirect(following.url, "/api/daily_papers?date=2026-03-10&limit=100&p=1")
    found = listing(read.read(away))
    assert (found.outcome, found.reason) == ("failed", "page 1 of the list redirects to 2026-03-10")


@pytest.mark.parametrize("location", ["/papers/date/2026-03-09", "/elsewhere"])
def test_a_later_api_page_redirected_off_the_api_fails_the_listing(location: str) -> None:
    """The listing page of the same day cannot end the API's list: its
    papers would be stored as the listing's whole, the earlier pages' lost."""
    read = reader(day("2026-03-09"), "api")
    following = follow(read.read(api(read.url, many_entries(D(2026, 3, 9), 100))))
    found = listing(read.read(redirect(following.url, location)))
    assert (found.outcome, found.papers) == ("failed", [])
    assert found.reason == f"page 1 of the list redirects off the API to '{BASE}{location}'"


def test_a_failure_is_logged_with_its_reason() -> None:
    read = reader(day("2026-03-09"))
    found = read.failed(read.url, "HTTP 500 after retries")
    assert (found.outcome, found.reason, found.day) == (
        "failed",
        "HTTP 500 after retries",
        D(2026, 3, 9),
    )
    assert read.notes.lines == [  # type: ignore[attr-defined]
        (
            logging.ERROR,
            f"Could not fetch {read.url}: HTTP 500 after retries; nothing stored for 2026-03-09",
        )
    ]


def test_every_dropped_link_is_counted_the_thumbnail_too() -> None:
    entries = api_entries()[:1]
    entries[0]["thumbnail"] = "javascript:alert(1)"
    entries[0]["paper"]["projectPage"] = "file:///etc/passwd"
    read = reader(day("2026-07-31"), "api")
    found = listing(read.read(api(read.url, entries)))
    (paper,) = found.papers
    assert paper is not None and "thumbnail" not in paper and "project_page" not in paper
    assert counts(read)["links_dropped"] == 2
    assert "thumbnail='javascript:alert(1)'" in lines(read)


def test_an_answer_larger_than_asked_fails_its_listing_in_one_line() -> None:
    read = reader(day("2026-03-09"), "api")
    found = listing(read.read(api(read.url, [{}] * 100_000)))
    assert (found.outcome, found.papers, found.rejected) == ("failed", [], [])
    assert found.reason == (
        "the answer holds more than 200,000 JSON values, far more than 100 entries make"
    )
    assert counts(read) == {"api_answers": 1, "oversized_answers": 1}
    assert len(lines(read).splitlines()) == 1
    read = reader(day("2026-03-09"))
    props = json.dumps({"dateString": "2026-03-09", "dailyPapers": [{}] * 5_001})
    found = listing(read.read(page(render_listing([], D(2026, 3, 9), props=props), read.url)))
    assert found.outcome == "failed" and found.papers == []
    assert found.reason == (
        "the page is no listing: it lists 5,001 papers, more than any listing holds (5,000 papers)"
    )
    assert counts(read) == {"pages": 1, "oversized_answers": 1}


def test_a_page_s_huge_text_is_quoted_short_in_reasons_and_log_lines() -> None:
    """A 15 KB Location (as long as a header line may be), a 1 MB
    periodType, a 1 MB id, a 1 MB link: each reason and log line quotes
    200 characters of it and says how long it was."""
    read = reader(day("2026-03-09"))
    found = listing(read.read(redirect(read.url, "http://127.0.0.2/" + "a" * 15_000)))
    assert (found.reason or "").endswith("... (15,019 characters)")
    assert len(found.reason or "") < 300 and len(lines(read)) < 400
    read = reader(day("2026-03-09"))
    props = json.dumps({"dateString": "2026-03-09", "periodType": "x" * 10**6, "dailyPapers": []})
    found = listing(read.read(page(render_listing([], D(2026, 3, 9), props=props), read.url)))
    assert found.outcome == "no_digest" and len(found.reason or "") < 300
    read = reader(day("2026-03-09"), "api")
    entries = many_entries(D(2026, 3, 9), 2)
    entries[0]["paper"]["githubRepo"] = "javascript:" + "x" * 10**6
    entries[1]["paper"]["id"] = "2603." + "9" * 10**6
    entries[1]["paper"]["submittedOnDailyAt"] = "2026-03-06T00:00:00.000Z"
    found = listing(read.read(api(read.url, entries)))
    (kept,) = found.rejected
    assert len(kept.reason) < 300 and max(len(line) for line in lines(read).splitlines()) < 600
