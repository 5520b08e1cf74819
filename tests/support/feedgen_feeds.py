"""The Atom and RSS feeds as feedgen wrote them before the writers streamed
(``formats._feed_generator`` until the feeds were written entry by entry):
the bytes ``formats.write_atom`` and ``write_rss`` are held to.

Kept as code, not as golden files: the tests compare any records (the
fixture archives, the edge cases, hypothesis's texts), and a whole archive's
feed is megabytes. The one difference on purpose: the generator element
names digest_crawler, no longer python-feedgen (``FEEDGEN_GENERATORS``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from feedgen.feed import FeedGenerator

from digest_crawler.outputs.formats import (
    EPOCH,
    About,
    _entry_title,
    _published,
    entry_html,
    xml_text,
)
from digest_crawler.outputs.records import Record

#: feedgen's generator elements (Atom, RSS), and what the writers say instead.
FEEDGEN_GENERATORS = {
    b'<generator uri="https://lkiesow.github.io/python-feedgen" version="1.0.0">'
    b"python-feedgen</generator>": b"<generator>digest_crawler</generator>",
    b"<generator>python-feedgen</generator>": b"<generator>digest_crawler</generator>",
}


def feedgen_feed(kind: str, records: Iterable[Record], about: About) -> bytes:
    """The ``kind`` ("atom" or "rss") feed of ``records`` as feedgen wrote it,
    with today's generator element."""
    feed = _feed_generator(records, about)
    data: bytes = feed.atom_str(pretty=True) if kind == "atom" else feed.rss_str(pretty=True)
    for old, new in FEEDGEN_GENERATORS.items():
        data = data.replace(old, new, 1)
    return data


def _feed_generator(records: Iterable[Record], about: About) -> Any:
    """A feedgen feed of the records, in their order; updated: the newest
    ``scraped_at`` among them."""
    feed = FeedGenerator()
    feed.id(xml_text(about.link))
    feed.title(xml_text(about.title))
    feed.link(href=xml_text(about.link), rel="alternate")
    feed.description(xml_text(about.title))
    feed.author({"name": "Hugging Face Daily Papers"})
    feed.language("en")
    newest = EPOCH
    for record in records:
        entry = feed.add_entry(order="append")
        # The page's URL: an entry's id and link (text a crawl cannot hold
        # aside, as a hand-edited archive may: the arXiv id's page instead).
        url = xml_text(record["url"]).strip() or f"{about.link}/{xml_text(record['arxiv_id'])}"
        entry.id(url)
        entry.guid(url, permalink=True)
        entry.title(_entry_title(record))
        entry.link(href=url)
        entry.published(_published(record))
        entry.updated(record["scraped_at"])
        authors = [name for name in map(xml_text, record["authors"] or ()) if name.strip()]
        if authors:  # a name of control characters only is none
            entry.author([{"name": name} for name in authors])
        keywords = [k for k in map(xml_text, record["ai_keywords"] or ()) if k.strip()]
        if keywords:  # at once: feedgen redoes an entry's categories at each one added
            entry.category([{"term": keyword} for keyword in keywords])
        text = entry_html(record)
        entry.description(text)  # RSS; content() after it: Atom's content, as HTML
        entry.content(text, type="html")
        newest = max(newest, record["scraped_at"])
    feed.updated(newest)
    feed.lastBuildDate(newest)
    return feed
