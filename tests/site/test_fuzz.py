"""Property-based fuzzing of the reading rules and validation with mutated real and generated pages.

DIGEST_FUZZ_EXAMPLES sets the number of pages per property (CI: a few
hundred in all; the nightly setting: 10000 and more).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy.http import HtmlResponse

from digest_crawler.items import Listing
from digest_crawler.periods import Period
from digest_crawler.pipelines import ValidatePipeline
from digest_crawler.site.reading import Answer, ListingReader
from tests.conftest import fixture_text
from tests.support.crawler import make_crawler
from tests.support.report import RELIABILITY

EXAMPLES = int(os.environ.get("DIGEST_FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PAGES = {  # name: (requested day, URL path)
    "listing-2024-08-01.html": dt.date(2024, 8, 1),
    "listing-2026-03-10-hostile-text.html": dt.date(2026, 3, 10),
    "listing-2026-07-31.html": dt.date(2026, 7, 31),
    "listing-2026-03-11-no-hydration.html": dt.date(2026, 3, 11),
}
PROPS = re.compile(r'data-target="DailyPapers" data-props="([^"]*)"')
TAG = re.compile(r"<(div|a|h3|article|li|span|time)\b")


def run_page(text: str | bytes, day: dt.date) -> tuple[int, int, int]:
    """Read a page and pass its listing through validation: (papers on the
    listing, valid, rejected). Raises if anything else happens."""
    reader = ListingReader(Period("day", day), "http://127.0.0.1")
    body = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    response = HtmlResponse(url=reader.url, body=body, encoding="utf-8")
    listing = reader.read(Answer.from_response(response))
    assert isinstance(listing, Listing)
    stats = make_crawler().stats
    assert stats is not None
    ValidatePipeline(stats).process_item(listing)
    duplicates = int(stats.get_value("digest/duplicate_items", 0))
    assert len(listing.valid) + len(listing.rejected) + duplicates == len(listing.papers)
    RELIABILITY["pages fuzzed"] += 1
    return len(listing.papers), len(listing.valid) + duplicates, len(listing.rejected)


def entries_of(text: str) -> tuple[dict[str, Any], re.Match[str]] | None:
    match = PROPS.search(text)
    return (json.loads(html.unescape(match[1])), match) if match else None


def with_props(text: str, match: re.Match[str], props: Any) -> str:
    escaped = html.escape(json.dumps(props), quote=True)
    return text[: match.start(1)] + escaped + text[match.end(1) :]


page_names = st.sampled_from(sorted(PAGES))
#: The pages that carry hydration JSON to mutate (the no-hydration page has none).
hydrated_pages = st.sampled_from(sorted(name for name in PAGES if PROPS.search(fixture_text(name))))
JUNK = st.one_of(
    st.none(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@FUZZ
@given(name=hydrated_pages, data=st.data())
def test_type_changes_in_the_json_are_rejected_or_stored_never_raised(
    name: str, data: st.DataObject
) -> None:
    text = fixture_text(name)
    found = entries_of(text)
    assert found is not None
    props, match = found
    entries = props["dailyPapers"]
    index = data.draw(st.integers(0, len(entries) - 1))
    entry = entries[index]
    target = (
        entry["paper"]
        if data.draw(st.booleans()) and isinstance(entry.get("paper"), dict)
        else entry
    )
    key = data.draw(st.sampled_from(sorted(target)))
    target[key] = data.draw(JUNK)
    if data.draw(st.booleans()):
        entries[data.draw(st.integers(0, len(entries) - 1))] = data.draw(JUNK)
    yielded, valid, rejected = run_page(with_props(text, match, props), PAGES[name])
    assert yielded == len(entries)  # every entry became an item: knowable here
    assert valid + rejected == yielded


@FUZZ
@given(name=hydrated_pages, data=st.data())
def test_cut_json_falls_back_to_the_cards(name: str, data: st.DataObject) -> None:
    text = fixture_text(name)
    match = PROPS.search(text)
    assert match is not None
    cut = data.draw(st.integers(0, len(match[1]) - 1))
    yielded, valid, rejected = run_page(
        text[: match.start(1) + cut] + text[match.end(1) :], PAGES[name]
    )
    assert yielded == text.count("<article")  # the cards, all of them
    assert valid + rejected == yielded


@FUZZ
@given(name=page_names, data=st.data())
def test_deleted_duplicated_and_garbage_markup_never_raises(name: str, data: st.DataObject) -> None:
    text = fixture_text(name)
    tags = [m.start() for m in TAG.finditer(text)]
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.sampled_from(tags)) if tags else 0
        action = data.draw(st.sampled_from(["delete", "duplicate", "attribute", "bytes"]))
        end = text.find(">", position) + 1 or len(text)
        if action == "delete":
            text = text[:position] + text[end + data.draw(st.integers(0, 2000)) :]
        elif action == "duplicate":
            chunk = text[position : end + data.draw(st.integers(0, 3000))]
            text = text[:position] + chunk + text[position:]
        elif action == "attribute":
            garbage = data.draw(st.text(max_size=30))
            text = text[: end - 1] + f' data-x="{garbage}" class=leading-none' + text[end - 1 :]
        else:
            noise = data.draw(st.binary(max_size=64)).decode("latin-1")
            text = text[:position] + noise + text[position:]
        tags = [m.start() for m in TAG.finditer(text)]
    yielded, valid, rejected = run_page(text, PAGES[name])
    assert valid + rejected == yielded


@FUZZ
@given(body=st.binary(max_size=4096))
def test_random_bytes_never_raise(body: bytes) -> None:
    yielded, valid, rejected = run_page(body, dt.date(2026, 7, 31))
    assert yielded == valid + rejected == 0


@pytest.mark.parametrize("name", sorted(PAGES))
def test_unmutated_pages_give_every_paper(name: str) -> None:
    text = fixture_text(name)
    found = entries_of(text)
    yielded, valid, rejected = run_page(text, PAGES[name])
    assert yielded == (len(found[0]["dailyPapers"]) if found else text.count("<article"))
    assert rejected == 0 and valid == yielded
