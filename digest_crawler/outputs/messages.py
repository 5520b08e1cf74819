"""A watch's message (``scrapy watch``): a title line with the count, then
each paper (title, organization, upvotes, link), best first, as text and as
HTML; at most a watch's ``limit`` papers, then how many more matched and
where to see them."""

from __future__ import annotations

import html
from collections.abc import Sequence

from digest_crawler.outputs.formats import xml_text
from digest_crawler.outputs.notify import Message
from digest_crawler.storage.deliveries import Matched
from digest_crawler.words import counted

#: The most characters of a title, and of an organization, a message shows
#: (a mirror's 5 MB title made a 5 MB message, which a destination may
#: refuse on every run): the link leads to the whole.
TITLE_LIMIT = 300
ORGANIZATION_LIMIT = 100


def message(
    watch: str,
    papers: Sequence[Matched],
    more: int = 0,
    seen: int = 0,
    where: str = "",
) -> Message:
    """The message of ``papers`` (listed in the order given) for the watch
    named ``watch``; ``more``: the matches new to the destination not listed
    (recorded as sent all the same); ``seen``: the older matches of a first
    run, recorded as seen; ``where``: where all of them are (the feed, or
    the command that lists them).

    >>> import datetime as dt
    >>> m = message("agents", [Matched("2607.1", "A <b>", "https://h/p", None, 3,
    ...     dt.date(2026, 7, 31))], more=2, where="feeds/agents.atom")
    >>> print(m.title)
    3 new papers for the watch agents
    >>> print(m.text)
    1. A <b>
       3 upvotes · listed 2026-07-31
       https://h/p
    <BLANKLINE>
    and 2 more matched (recorded as sent, not listed here): feeds/agents.atom
    """
    new = len(papers) + more
    title = f"{counted(new, 'new paper')} for the watch {xml_text(watch)}"
    text, items = [], []
    for number, paper in enumerate(papers, 1):
        name = _cut(xml_text(paper.title).strip(), TITLE_LIMIT) or f"arXiv {paper.arxiv_id}"
        about = _about(paper)
        text.append(f"{number}. {name}\n   {about}\n   {xml_text(paper.url)}\n")
        link = html.escape(xml_text(paper.url), quote=True)
        items.append(
            f'<li><a href="{link}">{html.escape(name)}</a><br>\n{html.escape(about)}<br>\n'
            f'<a href="{link}">{link}</a></li>'
        )
    notes = []
    if more:
        notes.append(f"and {more} more matched (recorded as sent, not listed here): {where}")
    if seen:
        notes.append(
            f"{counted(seen, 'older match', 'older matches')} of this new watch recorded as"
            f" seen, not sent: {where}"
        )
    body_text = "\n".join(text) + "".join(f"\n{note}" for note in notes)
    body_html = (
        f"<p><b>{html.escape(title)}</b></p>\n<ol>\n"
        + "\n".join(items)
        + "\n</ol>\n"
        + "".join(f"<p>{html.escape(note)}</p>\n" for note in notes)
    )
    return Message(title, body_text.rstrip("\n"), body_html)


def _about(paper: Matched) -> str:
    parts = [
        _cut(xml_text(paper.organization).strip(), ORGANIZATION_LIMIT)
        if paper.organization
        else "",
        counted(paper.upvotes, "upvote"),
        f"listed {paper.listing_date}",
    ]
    return " · ".join(part for part in parts if part)


def _cut(text: str, limit: int) -> str:
    """
    >>> _cut("abcdef", 4), _cut("abc", 4)
    ('abc…', 'abc')
    """
    return text if len(text) <= limit else text[: limit - 1] + "…"
