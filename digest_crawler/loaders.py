"""The item loader: raw page values -> a ``PaperItem``.

Input processors tidy each value (``processors.py``); output processors
pick one value per field, except for ``authors``, which stays a list.
Dates stay in their site forms here: the date pipeline converts them,
because a year-less ``Feb 19`` needs the listing date to get its year.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from itemloaders import ItemLoader
from itemloaders.processors import Identity, TakeFirst

from digest_crawler.items import PAPER_FIELDS, PaperItem
from digest_crawler.processors import clean_url, collapse_whitespace, to_int

Processor = Callable[[Iterable[Any]], Any]


def each(function: Callable[[Any], Any]) -> Processor:
    """``MapCompose(function)`` for a single function: apply it to every
    value and drop ``None``, without MapCompose's per-call context set-up
    (most of a paper's loading time when every field used it).

    >>> each(int)(["1", "2"])
    [1, 2]
    """

    def process(values: Iterable[Any]) -> list[Any]:
        return [result for value in values if (result := function(value)) is not None]

    return process


_text, _count, _link = each(collapse_whitespace), each(to_int), each(clean_url)
_TEXT = ("arxiv_id", "title", "abstract", "authors", "organization", "organization_id")
_COUNTS = ("author_count", "upvotes", "num_comments", "github_stars", "rank")
_LINKS = ("url", "github_repo", "project_page")


class PaperLoader(ItemLoader):
    """Every field's processors are declared here, in two tables read once
    per value (not by ``<field>_in`` attributes, which itemloaders resolves
    through ``getattr`` and item field metadata on every value)."""

    default_item_class = PaperItem

    input_processors: ClassVar[dict[str, Processor]] = {
        **{name: Identity() for name in (*PAPER_FIELDS, "rank")},
        **{name: _text for name in (*_TEXT, "submitted_by")},
        **{name: _count for name in _COUNTS},
        **{name: _link for name in _LINKS},
    }
    output_processors: ClassVar[dict[str, Processor]] = {
        **{name: TakeFirst() for name in (*PAPER_FIELDS, "rank")},
        "authors": Identity(),
    }

    def get_input_processor(self, field_name: str) -> Processor:
        return self.input_processors.get(field_name) or super().get_input_processor(field_name)

    def get_output_processor(self, field_name: str) -> Processor:
        return self.output_processors.get(field_name) or super().get_output_processor(field_name)


def load_paper(raw: dict[str, Any], **extra: Any) -> PaperItem:
    """Build a ``PaperItem`` from one raw paper dict of ``pages.py``."""
    loader = PaperLoader()
    values = {**raw, **extra}
    loader.add_value(None, {name: value for name, value in values.items() if value is not None})
    item: PaperItem = loader.load_item()
    # No names on the page (cards) is unknown (None); an empty JSON list is [].
    item.authors = None if raw.get("authors") is None else (item.authors or [])
    return item
