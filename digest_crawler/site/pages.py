"""One Daily Papers listing page -> plain data.

Knows nothing of Scrapy's engine: ``parse_listing`` takes the page text and
its final URL and returns a ``ListingPage``: the date the page says it shows,
and one raw dict per paper whose keys are the item field names and whose
values are as the page gives them (cleaning is the loader's job).

The data comes from the hydration element ``[data-target="DailyPapers"]``
(HTML-escaped JSON in ``data-props``). When it is missing or its JSON does
not parse, the page's server-rendered ``<article>`` cards are read instead;
cards carry no abstract and no dates, so those fields stay ``None``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from parsel import Selector

from digest_crawler.dates import parse_shown_date, to_date
from digest_crawler.periods import KINDS, Period
from digest_crawler.site.entries import (
    MAX_PAGE_VALUES,
    RawPaper,
    loads,
    paper_from_entry,
    values_at_most,
)
from digest_crawler.site.urls import MAX_LISTING, period_from_url

_PAPER_HREF = re.compile(r"^/papers/([^/?#]+)$")
_AUTHOR_COUNT = re.compile(r"(\d[\d,]*)\s+authors?\b")
_HEADER_DATE = r"^[A-Z][a-z]{2} \d{1,2}$"


@dataclass
class ListingPage:
    """What one listing page holds."""

    url: str
    #: The date the page says it shows (of a week or month page: its first
    #: day); ``None`` when it cannot be told.
    served_date: dt.date | None
    #: ``"hydration"`` (the JSON props) or ``"cards"`` (the fallback).
    source: Literal["hydration", "cards"]
    #: ``"day"``, ``"week"`` or ``"month"`` (pages before 2025 say nothing: day).
    period: str = "day"
    papers: list[RawPaper] = field(default_factory=list)
    #: Why the hydration element could not be used, for the log.
    problem: str | None = None
    #: Why the page is no listing at all: it lists more than any listing
    #: holds (``MAX_LISTING``; a broken mirror's page). Its papers are not read.
    oversized: str | None = None


def parse_listing(text: str, url: str, requested: dt.date | None = None) -> ListingPage:
    """Read one listing page; never raises on a malformed page.

    ``requested`` is the day asked for; it only serves to put a year on the
    year-less date header when neither the props nor the URL name the date.
    """
    # type="html": parsel would otherwise read a JSON answer as JSON (and
    # older parsel versions still do: such an answer is no listing page).
    selector = Selector(text=text, type="html")
    if selector.type != "html":
        return _not_html(url)
    props_text = selector.xpath(HYDRATION_PROPS_XPATH).get()
    problem = "no DailyPapers hydration element"
    if props_text is not None:
        if values_at_most(props_text) > MAX_PAGE_VALUES:
            # Not parsed: its values would cost memory no listing needs.
            return _oversized(
                url, f"its hydration JSON holds more than {MAX_PAGE_VALUES:,} JSON values"
            )
        props, problem = _load_props(props_text)
        if props is not None and len(props["dailyPapers"]) > MAX_LISTING:
            return _oversized(url, f"it lists {len(props['dailyPapers']):,} papers")
        if props is not None:
            return _page_from_props(props, url)
    cards = int(float(selector.xpath("count(//article)").get() or 0))
    if cards > MAX_LISTING:
        return _oversized(url, f"it shows {cards:,} cards")
    page = _page_from_cards(selector, url, requested)
    page.problem = problem
    return page


def _oversized(url: str, what: str) -> ListingPage:
    return ListingPage(
        url=url,
        served_date=None,
        source="cards",
        oversized=f"{what}, more than any listing holds ({MAX_LISTING:,} papers)",
    )


def _not_html(url: str) -> ListingPage:
    return ListingPage(url=url, served_date=None, source="cards", problem="not an HTML page")


# -- the hydration JSON ---------------------------------------------------

HYDRATION_PROPS_XPATH = '//*[@data-target="DailyPapers"]/@data-props'


def _load_props(props_text: str) -> tuple[dict[str, Any] | None, str]:
    # The attribute's entities were decoded once, by libxml2; the JSON
    # strings inside are plain text from here on.
    try:
        props = loads(props_text)
    except (ValueError, RecursionError) as exc:  # RecursionError: JSON nested too deep
        return None, f"hydration JSON does not parse: {type(exc).__name__}: {exc}"
    if not isinstance(props, dict) or not isinstance(props.get("dailyPapers"), list):
        return None, "hydration JSON has no dailyPapers list"
    return props, ""


def _page_from_props(props: dict[str, Any], url: str) -> ListingPage:
    # 2026 pages say "dateString": "2026-09-28"; 2024 pages say
    # "date": "2024-08-01T00:00:00.000Z".
    shown = props.get("dateString") or props.get("date")
    period = props.get("periodType")
    period = period if isinstance(period, str) else "day"
    # 2024 pages (props "date", no "dateString") date an entry's entry into
    # the digest by its own publishedAt.
    legacy = "dateString" not in props
    return ListingPage(
        url=url,
        served_date=_served_date(shown, period),
        source="hydration",
        period=period,
        papers=[paper_from_entry(entry, legacy=legacy) for entry in props["dailyPapers"]],
    )


def _served_date(shown: Any, period: str) -> dt.date | None:
    """The first day of the listing the props name: a week's or a month's
    by its key (``2026-W31``) or by a day within it.

    >>> _served_date("2026-W31", "week"), _served_date("2026-07-29", "week")
    (datetime.date(2026, 7, 27), datetime.date(2026, 7, 27))
    """
    if not shown:
        return None
    kind = period if period in KINDS else "day"
    if kind != "day" and isinstance(shown, str):
        try:
            return Period.parse(kind, shown).start
        except ValueError:
            pass
    try:
        return Period.containing(kind, to_date(shown)).start
    except ValueError:
        return None


# -- the server-rendered cards (fallback) -----------------------------------


def _page_from_cards(selector: Selector, url: str, requested: dt.date | None) -> ListingPage:
    return ListingPage(
        url=url,
        served_date=_served_date_without_props(selector, url, requested),
        source="cards",
        papers=[_paper_from_card(card) for card in selector.xpath("//article")],
    )


def _served_date_without_props(
    selector: Selector, url: str, requested: dt.date | None
) -> dt.date | None:
    """The final URL's date, checked against the page's own date header.

    2024 pages carry ``<time datetime="2024-08-01T00:00:00.000Z">``; 2026
    pages a year-less ``Sep 28`` between the previous/next day links. No
    header, or one that contradicts the URL, makes the date unknowable
    (``None``).
    """
    named = period_from_url(url)
    from_url = named.start if named is not None and named.kind == "day" else None
    stamp = selector.xpath("//time/@datetime").get()
    # No header to check the URL against (an empty answer, JSON, an error
    # page): the day cannot be told.
    if stamp:
        try:
            header = to_date(stamp)
        except ValueError:
            return None
        return header if from_url in (None, header) else None
    shown = selector.xpath(
        f"normalize-space((//div[not(.//div)][re:test(normalize-space(.), '{_HEADER_DATE}')])[1])"
    ).get()
    if not shown:
        return None
    reference = from_url or requested
    if reference is None:
        return None
    try:
        header = parse_shown_date(shown, reference)
    except ValueError:
        return None
    return header if from_url in (None, header) else None


def _paper_from_card(card: Selector) -> RawPaper:
    href = card.xpath(".//h3//a/@href").get() or ""
    match = _PAPER_HREF.match(href)
    authors_text = card.xpath(
        ".//li[contains(normalize-space(.), ' author')]//text()[contains(., 'author')]"
    ).get()
    count = _AUTHOR_COUNT.search(authors_text or "")
    # The organization chip links to the organization and holds its avatar
    # (alt = handle) and its display name.
    chip = card.xpath(".//a[img][span][not(contains(@href, '/papers/'))]")
    submitted = card.xpath(
        "normalize-space(.//div[starts-with(normalize-space(text()), 'Submitted by')])"
    ).get()
    return {
        "arxiv_id": match[1] if match else None,
        "title": card.xpath("normalize-space(.//h3//a)").get(),
        "abstract": None,
        "ai_summary": None,
        "ai_keywords": None,
        "authors": None,
        "author_count": count[1] if count else None,
        "organization": chip.xpath("normalize-space(./span)").get() or None,
        "organization_id": chip.xpath("./img/@alt").get()
        or (chip.xpath("@href").get() or "").strip("/")
        or None,
        "published_at": None,
        "submitted_at": None,
        # Exactly "leading-none": the "Submitted by" badge has it among others.
        "upvotes": card.xpath("normalize-space(.//div[@class='leading-none'])").get(),
        "num_comments": card.xpath("normalize-space(.//a[contains(@href, '#community')])").get()
        or None,
        "github_repo": None,
        "github_stars": None,
        "project_page": None,
        "thumbnail": None,
        "submitted_by": (submitted or "").removeprefix("Submitted by").strip() or None,
    }
