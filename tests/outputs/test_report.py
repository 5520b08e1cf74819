"""The report's HTML: self-contained, deterministic, escaped."""

from __future__ import annotations

import datetime as dt
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
