"""One ``dailyPapers[]`` entry -> a raw paper: the shape both doors share.

The listing page's hydration JSON and the API's answer hold the same
entries; each becomes one raw dict whose keys are the fields of a ``Paper``
and whose values are as the site gives them (cleaning is the loader's job).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from digest_crawler.dates import to_moment

#: A paper as the site gives it: the fields of a ``Paper``, values unchecked.
RawPaper = dict[str, Any]


def submitted_day(paper: RawPaper) -> dt.date | None:
    """The day a raw paper entered the digest (``paper.submittedOnDailyAt``,
    UTC), if it says.

    >>> submitted_day({"submitted_at": "2026-07-31T04:49:29.000Z"})
    datetime.date(2026, 7, 31)
    >>> submitted_day({"submitted_at": "soon"}) is None
    True
    """
    try:
        return to_moment(paper.get("submitted_at")).date()
    except (ValueError, TypeError, OverflowError):
        return None


#: The most JSON values one API answer (``PAGE_SIZE`` entries) may make: a
#: real entry makes about 120 (the captured answers), one of a paper with
#: 5,000 authors some 20,000.
MAX_ANSWER_VALUES = 200_000
#: The most JSON values a listing page's hydration JSON may make: a listing
#: of ``MAX_LISTING`` real entries makes some 600,000.
MAX_PAGE_VALUES = 1_000_000


def values_at_most(text: str) -> int:
    """How many JSON values ``text`` can make at most, counted without
    parsing it (a scan of the text, not a value made): every value but the
    first of a list or an object follows a comma, and each list or object
    opens with a bracket (text inside strings only adds to the count). What
    parsing a JSON text costs in memory grows with its values, not its
    bytes: ``[{},{},...]`` makes 5 million dicts of 16 MB.

    >>> values_at_most('[{"id": "1"}, {"id": "2"}]')  # a list, two dicts, two strings
    5
    """
    return text.count(",") + text.count("[") + text.count("{") + 1


def loads(text: str) -> Any:
    """JSON as the site writes it; a number too long for ``int()`` (over
    4,300 digits) stays its text, for the loader to judge, instead of
    making the whole answer unreadable."""
    return json.loads(text, parse_int=_whole_number)


def _whole_number(digits: str) -> int | str:
    return int(digits) if len(digits) <= 4000 else digits


def paper_from_entry(entry: Any, legacy: bool = False) -> RawPaper:
    """Map one ``dailyPapers[]`` entry to raw item fields.

    A malformed entry still gives a dict (perhaps empty): validation then
    says what is missing, and the record is kept aside, not lost. ``legacy``:
    an entry of a 2024 page, dated by its own ``publishedAt`` (in 2026 that
    is the arXiv announcement, days before the listing day).
    """
    entry = entry if isinstance(entry, dict) else {}
    paper = _dict(entry.get("paper"))
    # No list of authors (left out, null, another type) is unknown, not "none".
    authors = paper.get("authors")
    authors = authors if isinstance(authors, list) else None
    organization = _dict(paper.get("organization") or entry.get("organization"))
    submitter = _dict(entry.get("submittedBy") or paper.get("submittedOnDailyBy"))
    return {
        "arxiv_id": paper.get("id"),
        "title": paper.get("title") or entry.get("title"),
        "abstract": paper.get("summary") or entry.get("summary"),
        "ai_summary": paper.get("ai_summary"),
        "ai_keywords": keywords if isinstance(keywords := paper.get("ai_keywords"), list) else None,
        # Hidden authors count on the cards too ("6 authors" for six, one hidden).
        "authors": None if authors is None else [_dict(a).get("name") for a in authors],
        "author_count": None if authors is None else len(authors),
        # The display name ("USC Physical Superintelligence (PSI) Lab") and
        # the handle ("USC-PSI-Lab").
        "organization": organization.get("fullname") or organization.get("name"),
        "organization_id": organization.get("name"),
        "published_at": paper.get("publishedAt"),
        # When it entered the digest: 2026 pages say it in
        # paper.submittedOnDailyAt; 2024 pages only in the entry's publishedAt.
        "submitted_at": paper.get("submittedOnDailyAt")
        or (entry.get("publishedAt") if legacy else None),
        "upvotes": paper.get("upvotes"),
        "num_comments": entry.get("numComments"),
        "github_repo": paper.get("githubRepo"),
        "github_stars": paper.get("githubStars"),
        "project_page": paper.get("projectPage"),
        "thumbnail": entry.get("thumbnail"),
        "submitted_by": submitter.get("name") or submitter.get("user"),
    }


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
