"""The item loader: one raw paper -> the fields of a ``Paper``.

Each field's processors follow from what the model says it holds
(``paper.KINDS``, ``paper.LINKS``): a link is cleaned as a URL, a count read
as an integer, a date or a moment read in the site's forms, any other text
tidied; output processors pick one value per field, except for lists, which
stay lists. A value that cannot be read is left out (``None``), or, for a
date, left as the site wrote it, so that validation rejects the paper and
says why instead of guessing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from itemloaders import ItemLoader
from itemloaders.processors import Identity, MapCompose, TakeFirst

from digest_crawler.dates import to_date, to_moment
from digest_crawler.paper import KINDS, LINKS, fields_in
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


def _input_processor(name: str) -> MapCompose:
    if name in fields_in(LINKS):
        return MapCompose(clean_url)
    kind = KINDS[name].type
    if kind is int:
        return MapCompose(to_int)
    if kind is dt.datetime:
        return MapCompose(utc_moment)
    if kind is dt.date:
        return MapCompose(listing_day_date)
    return MapCompose(collapse_whitespace)  # texts, and the items of a list of texts


_INPUT = {name: _input_processor(name) for name in KINDS}
_OUTPUT = {name: Identity() if kind.type is list else TakeFirst() for name, kind in KINDS.items()}


class PaperLoader(ItemLoader):
    """Loads the fields of one ``Paper`` into a dict for validation."""

    default_item_class = dict

    def get_input_processor(self, field_name: str) -> Any:
        return _INPUT[field_name]

    def get_output_processor(self, field_name: str) -> Any:
        return _OUTPUT[field_name]


def load_paper(
    raw: dict[str, Any], *, listing_date: dt.date | None = None, **extra: Any
) -> dict[str, Any]:
    """The fields of a ``Paper`` from one raw paper and what the listing adds
    (``listing_date``, ``url``, ``scraped_at``)."""
    loader = PaperLoader(listing_date=listing_date)
    values = {**raw, **extra, "listing_date": listing_date}
    for name, value in values.items():
        if value is not None:
            loader.add_value(name, value)
    paper: dict[str, Any] = loader.load_item()
    # No names on the page (cards) is unknown: left out; an empty JSON list
    # is known to be empty.
    for name, kind in KINDS.items():
        if kind.type is list and raw.get(name) == []:
            paper[name] = []
    return paper
