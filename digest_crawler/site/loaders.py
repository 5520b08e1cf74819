"""The item loader: one raw paper of ``pages.py`` -> the fields of a ``Paper``.

Input processors tidy each value (``processors.py``) and turn the site's
date forms into dates and UTC moments; output processors pick one value per
field, except for ``authors``, which stays a list. A value that cannot be
read is left out (``None``), or, for a date, left as the site wrote it, so
that validation rejects the paper and says why instead of guessing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from itemloaders import ItemLoader
from itemloaders.processors import Identity, MapCompose, TakeFirst

from digest_crawler.dates import to_date, to_moment
from digest_crawler.site.processors import clean_url, collapse_whitespace, to_int


def listing_day_date(value: Any, loader_context: dict[str, Any]) -> Any:
    """A date of the site; a year-less ``Feb 19`` takes its year from the
    listing (``listing_date`` in the loader context).

    >>> listing_day_date("Feb 19", {"listing_date": dt.date(2026, 3, 9)})
    datetime.date(2026, 2, 19)
    >>> listing_day_date("sometime", {})
    'sometime'
    """
    try:
        return to_date(value, loader_context.get("listing_date"))
    except (ValueError, TypeError, OverflowError):
        return value


def utc_moment(value: Any) -> Any:
    """A moment of the site as an aware UTC datetime; as given when it is none.

    >>> utc_moment("2026-07-31T00:00:00.000Z").isoformat()
    '2026-07-31T00:00:00+00:00'
    """
    try:
        return to_moment(value)
    except (ValueError, TypeError, OverflowError):
        return value


class PaperLoader(ItemLoader):
    """Loads the fields of one ``Paper`` into a dict for validation."""

    default_item_class = dict
    default_input_processor = MapCompose(collapse_whitespace)
    default_output_processor = TakeFirst()

    url_in = github_repo_in = project_page_in = thumbnail_in = MapCompose(clean_url)
    author_count_in = upvotes_in = num_comments_in = github_stars_in = MapCompose(to_int)
    published_at_in = MapCompose(listing_day_date)
    submitted_at_in = scraped_at_in = MapCompose(utc_moment)
    listing_date_in = Identity()
    authors_out = ai_keywords_out = Identity()


def load_paper(
    raw: dict[str, Any], *, listing_date: dt.date | None = None, **extra: Any
) -> dict[str, Any]:
    """The fields of a ``Paper`` from one raw paper dict of ``pages.py`` and
    what the listing adds (``listing_date``, ``url``, ``scraped_at``)."""
    loader = PaperLoader(listing_date=listing_date)
    values = {**raw, **extra, "listing_date": listing_date}
    for name, value in values.items():
        if value is not None:
            loader.add_value(name, value)
    paper: dict[str, Any] = loader.load_item()
    # No names on the page (cards) is unknown: left out; an empty JSON list
    # is known to be empty.
    for name in ("authors", "ai_keywords"):
        if raw.get(name) == []:
            paper[name] = []
    return paper
