"""A watch's message: the count in its title, each paper best first as
the caller gives them, text and HTML, and what was not listed said."""

from __future__ import annotations

import datetime as dt

from digest_crawler.outputs.messages import message
from digest_crawler.storage.deliveries import Matched

DAY = dt.date(2026, 7, 31)


def paper(number: int, title: str = "", organization: str | None = None) -> Matched:
    arxiv_id = f"2607.{number:05d}"
    return Matched(
        arxiv_id,
        title or f"Paper {number}",
        f"https://huggingface.co/papers/{arxiv_id}",
        organization,
        number,
        DAY,
    )


def test_one_paper_text_and_html() -> None:
    sent = message("agents", [paper(1, organization="Kling Team")])
    assert sent.title == "1 new paper for the watch agents"
    assert sent.text == (
        "1. Paper 1\n   Kling Team · 1 upvote · listed 2026-07-31\n"
        "   https://huggingface.co/papers/2607.00001"
    )
    assert '<a href="https://huggingface.co/papers/2607.00001">Paper 1</a>' in sent.html
    assert sent.html.startswith("<p><b>1 new paper for the watch agents</b></p>")


def test_a_title_s_markup_is_text_and_its_control_characters_are_dropped() -> None:
    sent = message("x", [paper(2, title="<script>alert(1)</script>\x1b[31m"), paper(3, "\x01")])
    assert "<script>" not in sent.html and "&lt;script&gt;alert(1)&lt;/script&gt;[31m" in sent.html
    assert "\x1b" not in sent.text + sent.html
    assert "2. arXiv 2607.00003" in sent.text  # a title of control characters only


def test_a_mirror_s_5_mb_title_is_cut_the_link_leads_to_the_whole() -> None:
    """A 5 MB title was a 5 MB message: a destination that refuses it would
    get it again on every run."""
    sent = message("x", [paper(4, title="Long " * 1_000_000, organization="Lab " * 100_000)])
    assert len(sent.text) < 1_000 and len(sent.html) < 2_000
    first, about, link = sent.text.splitlines()
    assert len(first) == len("1. ") + 300 and first.endswith("…")
    assert about.startswith("   Lab Lab") and "… · 4 upvotes" in about
    assert link == "   https://huggingface.co/papers/2607.00004"


def test_more_and_seen_are_counted_with_where_to_see_them() -> None:
    sent = message("agents", [paper(1), paper(2)], more=7, where="public/agents.atom")
    assert sent.title == "9 new papers for the watch agents"
    assert sent.text.endswith(
        "and 7 more matched (recorded as sent, not listed here): public/agents.atom"
    )
    first = message("agents", [paper(1)], seen=40, where="scrapy search agent")
    assert first.title == "1 new paper for the watch agents"
    assert "40 older matches of this new watch recorded as seen, not sent: scrapy search agent" in (
        first.html
    )
