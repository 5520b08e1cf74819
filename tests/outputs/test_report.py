"""The report's HTML: self-contained, deterministic, escaped, and readable
at any span (counts by day, week or month; curves only where there is
history; a sentence where there is too little to draw)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re

from digest_crawler.outputs.report import build_report
from digest_crawler.storage.trends import Organization, RisingKeyword, TopPaper, Trends

DAY = dt.date(2026, 7, 31)
READ = dt.datetime(2026, 7, 31, 21, tzinfo=dt.UTC)
TOP = TopPaper(
    "2607.00001",
    "<script>alert(1)</script> & more",
    "https://huggingface.co/papers/2607.00001",
    None,
    DAY,
    12,
    [(READ, 3), (READ + dt.timedelta(hours=3), 12)],
)
TRENDS = Trends(
    first=dt.date(2026, 7, 30),
    last=DAY,
    per_day=[(dt.date(2026, 7, 30), 3), (DAY, 2)],
    top=[TOP],
    curves=[TOP],
    organizations=[Organization("Lab <A>", 2, 12)],
    keywords=[RisingKeyword("agents", 0, 20, 40, 50)],
    halves=((dt.date(2026, 7, 30), dt.date(2026, 7, 30)), (DAY, DAY)),
    keyword_papers=(40, 50),
)


def section(page: str, name: str) -> str:
    """The report's section ``name`` (over-time, top-papers, organizations, keywords)."""
    return page.split(f'<section aria-labelledby="{name}-heading">')[1].split("</section>")[0]


def cells(part: str, tag: str = "td") -> list[str]:
    return [text(cell) for cell in re.findall(f"<{tag}[^>]*>(.*?)</{tag}>", part)]


def text(part: str) -> str:
    """What a reader sees of ``part``."""
    return html.unescape(re.sub("<[^>]+>", "", part))


def unwrapped(page: str) -> bool:
    """Whether every date the page shows, but in its charts, is in an
    element that never wraps."""
    rest = re.sub(r"<svg.*?</svg>|<title>.*?</title>", "", page, flags=re.S)
    rest = re.sub(r'<(td|span) class="?d"?>[0-9]{4}-[0-9]{2}-[0-9]{2}</\1>', "", rest)
    return re.search("[0-9]{4}-[0-9]{2}-[0-9]{2}", rest) is None


def test_the_page_fetches_nothing_and_is_the_same_every_time() -> None:
    page = build_report(TRENDS, "2026-07-30 to 2026-07-31", "made")
    assert page == build_report(TRENDS, "2026-07-30 to 2026-07-31", "made")
    assert page.count("<svg") == 4 and "<script" not in page and "<img" not in page
    assert not re.search(r"""(src|href)=["'](?!#|https://huggingface)""", page)
    assert "<?xml" not in page and "DOCTYPE svg" not in page and "<metadata>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page and "Lab &lt;A&gt;" in page


def test_names_are_text_not_mathtext_and_a_chart_label_is_one_short_line() -> None:
    """Names from the archive that matplotlib would parse as mathtext (a
    traceback for ``$\\undefinedmacro$`` or ``$x^$``), a name in a script its
    font lacks, control characters, RTL overrides and a 1 MB name: each
    drawn as its text (the SVG names each drawn text in a comment), one
    line, cut short; the tables beside the charts have them whole."""
    long_name = "L" * 1_000_000
    names = [
        "$\\undefinedmacro$",
        "清华大学",
        "Lab\x1b]0;pwned\x07\u202eevil",
        long_name,
        "Lab $\\frac{1}$",  # as long as the first 40 characters of another: two bars
        "Lab $\\frac{1}$ too",
    ]
    top = dataclasses.replace(TOP, title="$x^$ and $\\alpha", arxiv_id="$x^$")
    trends = dataclasses.replace(
        TRENDS,
        top=[top],
        curves=[top],
        organizations=[Organization(name, 2, 12) for name in names],
        keywords=[
            RisingKeyword("$x^$", 0, 20, 40, 50),
            RisingKeyword("$\\undefinedmacro$", 0, 10, 40, 50),
        ],
    )
    page = build_report(trends, "2026-07-30 to 2026-07-31", "made")
    drawn = re.findall(r"<!-- (.*?) -->", page)
    for text in (
        "$\\undefinedmacro$",
        "$x^$",
        "$x^$ and $\\alpha",
        "清华大学",
        "Lab ]0;pwned evil",
    ):
        assert text in drawn, text
    assert "Lab $\\frac{1}$" in drawn and "L" * 39 + "…" in drawn and long_name not in drawn
    assert not any("\x1b" in text or "\u202e" in text for text in drawn)
    assert html.escape(long_name) in page and "$x^$ and $\\alpha" in page
    organizations = section(page, "organizations")
    # A bar each, beside the figure's and the axes' backgrounds and two spines.
    assert organizations.count('<g id="patch_') == len(names) + 4


def spanning(first: dt.date, last: dt.date) -> Trends:
    """TRENDS over ``first``..``last``, 50 papers each weekday."""
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    return dataclasses.replace(
        TRENDS, first=first, last=last, per_day=[(day, 50) for day in days if day.weekday() < 5]
    )


def test_the_counts_are_a_few_rows_at_any_span() -> None:
    """A week by listing day; a quarter by week (the last week cut short
    by the span: paler, and said); the whole digest in a year's row of
    months with the year's total. Dates are never wrapped."""
    week = build_report(spanning(dt.date(2026, 7, 25), DAY), "a week", "made")
    part = section(week, "over-time")
    assert "Papers per listing day" in part and "Paler" not in part
    assert cells(part) == [c for day in range(27, 32) for c in (f"2026-07-{day}", "50")]

    quarter = build_report(spanning(dt.date(2026, 5, 3), DAY), "a quarter", "made")
    part = section(quarter, "over-time")
    assert cells(part, "th") == ["week", "days", "listing days", "papers"]
    rows = re.findall("<tr>(.*?)</tr>", part.split("<tbody>")[1])
    assert len(rows) == 13
    assert cells(rows[0]) == ["2026-W19", "4 May to 10 May", "5", "250"]
    assert cells(rows[-1]) == ["2026-W31", "27 Jul to 31 Jul", "5", "250"]
    assert "Paler: the week of 27 Jul 2026, counted up to" in part

    whole = build_report(spanning(dt.date(2023, 1, 9), DAY), "the digest", "made")
    part = section(whole, "over-time")
    assert "Papers per month" in part and "each day's papers: scrapy export" in text(part)
    rows = re.findall("<tr>(.*?)</tr>", part.split("<tbody>")[1])
    assert [cells(row)[0] for row in rows] == ["2023", "2024", "2025", "2026"]
    assert cells(rows[0])[1:3] == ["850", "1,000"] and cells(rows[0])[-1] == "12,750"
    assert cells(rows[-1])[8:] == ["", "", "", "", "", "7,600"]
    assert "Paler: Jan 2023, counted from" in part
    # Every date, in a table or a sentence, is kept on one line.
    assert unwrapped(week) and unwrapped(quarter) and unwrapped(whole)


def test_curves_only_where_a_paper_was_read_more_than_once() -> None:
    """No history: a sentence, no chart. Papers of the table read once are
    named; the curves are labelled with titles; the table has no column
    repeating another."""
    once = dataclasses.replace(TOP, curve=TOP.curve[:1])
    nothing = build_report(dataclasses.replace(TRENDS, top=[once], curves=[]), "s", "made")
    part = section(nothing, "top-papers")
    assert "<svg" not in part and "No paper of this span was read more than once" in part
    assert cells(part, "th") == ["#", "paper", "arXiv", "organization", "listed", "upvotes"]

    again = dataclasses.replace(TOP, arxiv_id="2607.00002", title="Read again", upvotes=5)
    mixed = build_report(
        dataclasses.replace(TRENDS, top=[once, again], curves=[again]), "s", "made"
    )
    part = section(mixed, "top-papers")
    assert "#1 of the papers above was read only once: no curve." in part
    most = dataclasses.replace(TRENDS, top=[once, once, again], curves=[again])
    said = section(build_report(most, "s", "made"), "top-papers")
    assert "The papers above but #3 were read only once: no curve." in said
    assert part.count("<svg") == 1 and "<!-- Read again -->" in part
    curves = part.split('id="curves"')[1]
    # Read at 21:00 on its listing day and at midnight: days 0 and 1.
    assert cells(curves, "th") == ["paper", "day 0", "day 1"]
    assert cells(curves) == ["Read again", "3", "12"]

    # Read on more days than a table has room for: the reads in words.
    daily = dataclasses.replace(again, curve=[(READ + dt.timedelta(days=n), n) for n in range(12)])
    part = section(
        build_report(dataclasses.replace(TRENDS, curves=[daily]), "s", "made"), "top-papers"
    )
    curves = part.split('id="curves"')[1]
    assert cells(curves, "th") == ["paper", "upvotes, by day after listing"]
    assert cells(curves)[1].startswith("day 0: 0, day 1: 1, day 2: 2,")
    assert cells(curves)[1].endswith("day 11: 11")


def test_keywords_with_too_few_papers_to_compare_are_a_sentence() -> None:
    few = dataclasses.replace(TRENDS, keywords=[], keyword_papers=(0, 14))
    part = section(build_report(few, "s", "made"), "keywords")
    assert "<svg" not in part and "Too little data to tell" in part
    assert "(2026-07-30 to 2026-07-30, 0 papers with keywords)" in text(part)
    enough = dataclasses.replace(TRENDS, keywords=[], keyword_papers=(400, 500))
    part = section(build_report(enough, "s", "made"), "keywords")
    assert "<svg" not in part and "No keyword's share of the papers rose" in text(part)
