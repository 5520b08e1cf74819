"""One Daily Papers listing page -> plain data.

Knows nothing of Scrapy's engine: ``parse_listing`` takes the page text and
its final URL and returns a ``ListingPage``: the date the page says it shows,
and one raw dict per paper whose keys are the item field names and whose
values are as the page gives them (cleaning is the loader's job).

The data comes from the hydration element ``[data-target="DailyPapers"]``
(HTML-escaped JSON in ``data-props``), found by a scan of the text rather
than a parse of the whole page (see ``hydration_props``). When it is
missing or its JSON does not parse, the page is parsed and its
server-rendered ``<article>`` cards are read instead; cards carry no
abstract and no dates, so those fields stay ``None``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from parsel import Selector

from digest_crawler.dates import parse_shown_date, to_date

RawPaper = dict[str, Any]

_URL_DATE = re.compile(r"/papers/date/(\d{4}-\d{2}-\d{2})|[?&]date=(\d{4}-\d{2}-\d{2})")
_PAPER_HREF = re.compile(r"^/papers/([^/?#]+)$")
_AUTHOR_COUNT = re.compile(r"(\d[\d,]*)\s+authors?\b")
_HEADER_DATE = r"^[A-Z][a-z]{2} \d{1,2}$"


@dataclass
class ListingPage:
    """What one listing page holds."""

    url: str
    #: The date the page says it shows; ``None`` when it cannot be told.
    served_date: dt.date | None
    #: ``"hydration"`` (the JSON props) or ``"cards"`` (the fallback).
    source: Literal["hydration", "cards"]
    #: ``"day"``, ``"week"`` or ``"month"`` (pages before 2025 say nothing: day).
    period: str = "day"
    papers: list[RawPaper] = field(default_factory=list)
    #: Why the hydration element could not be used, for the log.
    problem: str | None = None


def parse_listing(text: str, url: str, requested: dt.date | None = None) -> ListingPage:
    """Read one listing page; never raises on a malformed page.

    ``requested`` is the day asked for; it only serves to put a year on the
    year-less date header when neither the props nor the URL name the date.
    """
    props_text = hydration_props(text)
    selector: Selector | None = None
    if props_text is None:  # the scan cannot tell: ask the parsed document
        selector = _html_selector(text)
        if selector is None:
            return _not_html(url)
        props_text = selector.xpath(HYDRATION_PROPS_XPATH).get()
    problem: str | None = "no DailyPapers hydration element"
    if props_text is not None:
        props, problem = _load_props(props_text)
        if props is not None:
            return _page_from_props(props, url)
    if selector is None:  # the scan's element holds no usable JSON: parse for the cards
        selector = _html_selector(text)
        if selector is None:
            return _not_html(url)
    page = _page_from_cards(selector, url, requested)
    page.problem = problem
    return page


def _not_html(url: str) -> ListingPage:
    return ListingPage(url=url, served_date=None, source="cards", problem="not an HTML page")


def _html_selector(text: str) -> Selector | None:
    # type="html": parsel would otherwise read a JSON answer as JSON (and
    # older parsel versions still do: such an answer is no listing page).
    selector = Selector(text=text, type="html")
    return selector if selector.type == "html" else None


def served_date_from_url(url: str) -> dt.date | None:
    """The listing date named in a page URL, if any.

    >>> served_date_from_url("https://huggingface.co/papers/date/2026-09-28")
    datetime.date(2026, 9, 28)
    >>> served_date_from_url("https://huggingface.co/papers?date=2024-08-01")
    datetime.date(2024, 8, 1)
    >>> served_date_from_url("https://huggingface.co/papers") is None
    True
    """
    match = _URL_DATE.search(url)
    if match is None:
        return None
    try:
        return dt.date.fromisoformat(match[1] or match[2])
    except ValueError:
        return None


# -- the hydration JSON ---------------------------------------------------

HYDRATION_PROPS_XPATH = '//*[@data-target="DailyPapers"]/@data-props'

# Finding the one attribute without building the page's DOM. libxml2 spends
# most of a page's parse on this attribute (about 200 KB of escaped JSON), so
# a backfill reads its pages about three times faster this way. Whatever the
# scan does not recognise goes to the full parse: it never guesses.
_TARGET_ATTRIBUTE = re.compile(
    r"""\sdata-target\s*=\s*(?:"DailyPapers"|'DailyPapers'|DailyPapers(?=[\s/>]))"""
)
_TAG_NAME = re.compile(r"<[a-zA-Z][^\s/>]*")
_ATTRIBUTE = re.compile(r"""\s*([^\s/>"'=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]*))?""")
_TAG_END = re.compile(r"\s*/?>")
# The entities Svelte's server renderer writes into attribute values. A
# value that holds any other reference is left to libxml2.
_ENTITIES = (("&quot;", '"'), ("&#39;", "'"), ("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))
_OTHER_REFERENCE = re.compile(r"&(?!(?:quot|#39|lt|gt|amp);)")
# The only characters libxml2 rewrites in an attribute value (it drops NUL
# and turns CR into LF; tests/test_pages.py checks every other one).
_REWRITTEN = ("\x00", "\r")


def hydration_props(text: str) -> str | None:
    """The decoded ``data-props`` of the first ``data-target="DailyPapers"``
    start tag, found without parsing the whole page; ``None`` when the scan
    cannot tell (the caller then asks the parsed document).

    >>> hydration_props('<p>x</p><div class="c" data-target="DailyPapers" '
    ...                 'data-props="{&quot;a&quot;:&quot;&lt;b&gt; &amp;amp;&quot;}">')
    '{"a":"<b> &amp;"}'
    >>> hydration_props('<p>data-target="DailyPapers" data-props="{}"</p>') is None
    True
    """
    position = 0
    while (target := _TARGET_ATTRIBUTE.search(text, position)) is not None:
        position = target.end()
        start = text.rfind("<", 0, target.start())
        attributes = _start_tag_attributes(text, start) if start >= 0 else None
        # The match must lie inside that tag, not in text after it.
        if attributes is None or attributes[1] <= target.start():
            continue
        raw = attributes[0].get("data-props")
        if raw is None:
            return None
        if len(raw) > 1 and raw[0] == raw[-1] and raw[0] in "\"'":
            raw = raw[1:-1]
        if any(c in raw for c in _REWRITTEN) or _OTHER_REFERENCE.search(raw):
            return None
        for reference, character in _ENTITIES:  # &amp; last: never decode twice
            raw = raw.replace(reference, character)
        return raw
    return None


def _start_tag_attributes(text: str, start: int) -> tuple[dict[str, str], int] | None:
    """The raw attributes of the start tag at ``start`` and where it ends."""
    name = _TAG_NAME.match(text, start)
    if name is None:
        return None
    attributes: dict[str, str] = {}
    position = name.end()
    while (
        attribute := _ATTRIBUTE.match(text, position)
    ) is not None and attribute.end() > position:
        attributes.setdefault(attribute[1].lower(), attribute[2] or "")
        position = attribute.end()
    end = _TAG_END.match(text, position)
    return (attributes, end.end()) if end is not None else None


def _load_props(props_text: str) -> tuple[dict[str, Any] | None, str | None]:
    # The attribute's entities are decoded once (by the scan or by libxml2);
    # the JSON strings inside are plain text from here on.
    try:
        props = json.loads(props_text)
    except ValueError as exc:
        return None, f"hydration JSON does not parse: {exc}"
    if not isinstance(props, dict) or not isinstance(props.get("dailyPapers"), list):
        return None, "hydration JSON has no dailyPapers list"
    return props, None


def _page_from_props(props: dict[str, Any], url: str) -> ListingPage:
    # 2026 pages say "dateString": "2026-09-28"; 2024 pages say
    # "date": "2024-08-01T00:00:00.000Z".
    shown = props.get("dateString") or props.get("date")
    try:
        served = to_date(shown) if shown else None
    except ValueError:
        served = None
    period = props.get("periodType")
    return ListingPage(
        url=url,
        served_date=served,
        source="hydration",
        period=period if isinstance(period, str) else "day",
        papers=[_paper_from_entry(entry) for entry in props["dailyPapers"]],
    )


def _paper_from_entry(entry: Any) -> RawPaper:
    """Map one ``dailyPapers[]`` entry to raw item fields.

    A malformed entry still gives a dict (perhaps empty): validation then
    says what is missing, and the record is kept aside, not lost.
    """
    entry = entry if isinstance(entry, dict) else {}
    paper = _dict(entry.get("paper"))
    authors = paper.get("authors")
    authors = authors if isinstance(authors, list) else []
    organization = _dict(paper.get("organization") or entry.get("organization"))
    submitter = _dict(entry.get("submittedBy") or paper.get("submittedOnDailyBy"))
    return {
        "arxiv_id": paper.get("id"),
        "title": paper.get("title") or entry.get("title"),
        "abstract": paper.get("summary") or entry.get("summary"),
        # Hidden authors count on the cards too ("6 authors" for six, one hidden).
        "authors": [_dict(author).get("name") for author in authors],
        "author_count": len(authors) if "authors" in paper else None,
        # The display name ("USC Physical Superintelligence (PSI) Lab") and
        # the handle ("USC-PSI-Lab").
        "organization": organization.get("fullname") or organization.get("name"),
        "organization_id": organization.get("name"),
        "published_at": paper.get("publishedAt"),
        # When it entered the digest: 2026 pages say it in
        # paper.submittedOnDailyAt; 2024 pages only in the entry's publishedAt.
        "submitted_at": paper.get("submittedOnDailyAt") or entry.get("publishedAt"),
        "upvotes": paper.get("upvotes"),
        "num_comments": entry.get("numComments"),
        "github_repo": paper.get("githubRepo"),
        "github_stars": paper.get("githubStars"),
        "project_page": paper.get("projectPage"),
        "submitted_by": submitter.get("name") or submitter.get("user"),
    }


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


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
    from_url = served_date_from_url(url)
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
        "submitted_by": (submitted or "").removeprefix("Submitted by").strip() or None,
    }
