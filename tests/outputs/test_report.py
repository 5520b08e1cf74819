"""The report's HTML: self-contained, deterministic, escaped."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re

from digest_crawler.outputs.report import build_report
from digest_crawler.storage.trends import Organization, RisingKeyword, TopPaper, Trends

DAY = dt.date(2026, 7, 31)
TRENDS = Trends(
    first=dt.date(2026, 7, 30),
    last=DAY,
    per_day=[(dt.date(2026, 7, 30), 3), (DAY, 2)],
    top=[
        TopPaper(
            "2607.00001",
            "<script>alert(1)</script> & more",
            "https://huggingface.co/papers/2607.00001",
            None,
            DAY,
            12,
            [
                (dt.datetime(2026, 7, 31, 21, tzinfo=dt.UTC), 3),
                (dt.datetime(2026, 8, 1, tzinfo=dt.UTC), 12),
            ],
        )
    ],
    organizations=[Organization("Lab <A>", 2, 12)],
    keywords=[RisingKeyword("agents", 0, 2)],
    halves=((dt.date(2026, 7, 30), dt.date(2026, 7, 30)), (DAY, DAY)),
)


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
    trends = dataclasses.replace(
        TRENDS,
        top=[dataclasses.replace(TRENDS.top[0], title="$x^$ and $\\alpha", arxiv_id="$x^$")],
        organizations=[Organization(name, 2, 12) for name in names],
        keywords=[RisingKeyword("$x^$", 0, 2), RisingKeyword("$\\undefinedmacro$", 0, 1)],
    )
    page = build_report(trends, "2026-07-30 to 2026-07-31", "made")
    drawn = re.findall(r"<!-- (.*?) -->", page)
    for text in ("$\\undefinedmacro$", "$x^$", "清华大学", "Lab ]0;pwned evil", "Lab $\\frac{1}$"):
        assert text in drawn, text
    assert "L" * 39 + "…" in drawn and long_name not in drawn
    assert not any("\x1b" in text or "\u202e" in text for text in drawn)
    assert html.escape(long_name) in page and "$x^$ and $\\alpha" in page
    organizations = page.split('id="organizations"')[0].rsplit("<svg", 1)[1]
    # A bar each, beside the figure's and the axes' backgrounds and two spines.
    assert organizations.count('<g id="patch_') == len(names) + 4
