"""The one paper model, and the forms that follow from it."""

from __future__ import annotations

import json

from digest_crawler.outputs.records import UpvoteSnapshot
from digest_crawler.paper import (
    COUNTS,
    KEPT,
    KINDS,
    LINKS,
    PAPER_FIELDS,
    REFRESHED,
    Paper,
    Searched,
    field_table,
    fields_in,
)
from digest_crawler.site.loaders import load_paper
from digest_crawler.storage.schema import SEARCH_COLUMNS, papers, upvote_snapshots
from tests.support import docs
from tests.support.cli import PROJECT


def test_every_field_says_what_it_means() -> None:
    descriptions = {name: info.description for name, info in Paper.model_fields.items()}
    assert len(descriptions) == len(PAPER_FIELDS) > 0
    assert all(descriptions.values()), [name for name, text in descriptions.items() if not text]


def test_the_groups_are_declared_on_their_fields() -> None:
    assert fields_in(KEPT) == ("arxiv_id", "listing_date", "scraped_at")
    assert set(REFRESHED) == set(PAPER_FIELDS) - set(fields_in(KEPT))
    assert fields_in(COUNTS) == ("upvotes", "num_comments", "github_stars")
    assert fields_in(LINKS) == ("url", "github_repo", "project_page", "thumbnail")
    assert set(fields_in(Searched)) == set(SEARCH_COLUMNS)


def test_the_snapshot_keeps_exactly_the_counts() -> None:
    assert list(UpvoteSnapshot.model_fields) == ["observed_at", *fields_in(COUNTS)]
    assert [c.name for c in upvote_snapshots.columns] == [
        "id",
        "arxiv_id",
        "observed_at",
        *fields_in(COUNTS),
    ]
    assert upvote_snapshots.c.upvotes.nullable is False
    assert upvote_snapshots.c.num_comments.nullable is True


def test_the_columns_follow_the_fields() -> None:
    for name, kind in KINDS.items():
        assert papers.c[name].nullable is kind.optional, name
    assert papers.c.arxiv_id.type.length == KINDS["arxiv_id"].max_length == 32  # type: ignore[attr-defined]


def test_every_link_is_cleaned_as_a_url() -> None:
    raw = {name: "javascript:alert(1)" for name in fields_in(LINKS)}
    assert len(raw) == 4 and load_paper(raw) == {}
    web = {name: " https://example.org/a b " for name in fields_in(LINKS)}
    assert load_paper(web) == {name: "https://example.org/a%20b" for name in web}


def test_the_docs_field_table_is_the_model_s() -> None:
    assert field_table() in docs.text("archive.md")


def test_datasette_describes_each_field_as_the_model_does() -> None:
    metadata = json.loads((PROJECT / "deploy" / "datasette-metadata.json").read_text())
    (database,) = metadata["databases"].values()
    columns = database["tables"]["papers"]["columns"]
    assert {name: columns[name] for name in PAPER_FIELDS} == {
        name: info.description for name, info in Paper.model_fields.items()
    }
