"""The item loader: raw page values -> a ``PaperItem``.

Input processors tidy each value (``processors.py``); output processors
pick one value per field, except for ``authors``, which stays a list.
Dates stay in their site forms here: the date pipeline converts them,
because a year-less ``Feb 19`` needs the listing date to get its year.
"""

from __future__ import annotations

from typing import Any

from itemloaders import ItemLoader
from itemloaders.processors import Identity, MapCompose, TakeFirst

from digest_crawler.items import PAPER_FIELDS, PaperItem
from digest_crawler.processors import clean_url, collapse_whitespace, to_int

_text = MapCompose(collapse_whitespace)
_count = MapCompose(to_int)


class PaperLoader(ItemLoader):
    default_item_class = PaperItem
    default_output_processor = TakeFirst()

    arxiv_id_in = _text
    title_in = _text
    abstract_in = _text
    authors_in = _text
    authors_out = Identity()
    organization_in = _text
    organization_id_in = _text
    submitted_by_in = _text
    author_count_in = _count
    upvotes_in = _count
    num_comments_in = _count
    github_stars_in = _count
    github_repo_in = MapCompose(clean_url)
    project_page_in = MapCompose(clean_url)
    url_in = MapCompose(clean_url)
    rank_in = MapCompose(to_int)


# Every field names its processors on the loader: where one is missing,
# itemloaders looks it up in the item's field metadata, building an
# ItemAdapter per lookup, which costs more than the processing itself.
for _name in (*PAPER_FIELDS, "rank"):
    if not hasattr(PaperLoader, f"{_name}_in"):
        setattr(PaperLoader, f"{_name}_in", Identity())
    if not hasattr(PaperLoader, f"{_name}_out"):
        setattr(PaperLoader, f"{_name}_out", TakeFirst())


def load_paper(raw: dict[str, Any], **extra: Any) -> PaperItem:
    """Build a ``PaperItem`` from one raw paper dict of ``pages.py``."""
    loader = PaperLoader()
    for name, value in {**raw, **extra}.items():
        if value is not None:
            loader.add_value(name, value)
    item: PaperItem = loader.load_item()
    # No names on the page (cards) is unknown (None); an empty JSON list is [].
    item.authors = None if raw.get("authors") is None else (item.authors or [])
    return item
