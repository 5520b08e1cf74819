"""Every backend's own limits, met for real: a value no column refuses can
still exceed what an index, a full-text vector or one statement can hold
(PostgreSQL: 1 MB of ``tsvector``, about 2,700 bytes of a btree index row,
65,535 bind parameters; SQLite: 32,766). None of them may abort a
listing's transaction: the paper is stored, the listing with it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from digest_crawler import storage
from digest_crawler.items import Listing
from digest_crawler.paper import KINDS, Paper, Searched, fields_in, search_weight
from digest_crawler.storage import queries
from tests.storage.listings import NewCrawl, find, paper, rows, words

D = dt.date


def found(database_url: str, **chosen: Any) -> list[str]:
    engine = storage.make_reader(database_url)
    try:
        with engine.connect() as connection:
            query = queries.select_papers(queries.PaperFilter(**chosen))[0]
            return [row.arxiv_id for row in connection.execute(query)]
    finally:
        engine.dispose()


def searched(database_url: str, query: str) -> list[str]:
    return [match.arxiv_id for match in find(database_url, query)]


def test_an_abstract_beyond_a_full_text_vector_is_stored_and_found_by_its_words(
    database_url: str, crawl: NewCrawl
) -> None:
    # About 1.3 MB of distinct words: PostgreSQL's tsvector holds 1 MB.
    abstract = words(120_000, "abstract")
    assert len(abstract) > 1_300_000
    with crawl() as run:
        written = run.store(
            paper(arxiv_id="2607.00001", abstract=abstract),
            paper(arxiv_id="2607.00002"),
        )
    assert (written.papers, written.rejected) == (2, 0)
    stored = {row["arxiv_id"]: row for row in rows(database_url)}
    assert stored["2607.00001"]["abstract"] == abstract  # kept whole
    (listing,) = rows(database_url, storage.crawl_listings)
    assert (listing["outcome"], listing["papers"]) == ("stored", 2)
    # The indexed part is its beginning: the first words are found.
    assert searched(database_url, abstract.split()[0]) == ["2607.00001"]
    assert sorted(searched(database_url, "AskChem")) == ["2607.00001", "2607.00002"]


def test_every_text_at_the_worst_a_vector_can_be_is_stored(
    database_url: str, crawl: NewCrawl
) -> None:
    # The densest text for a vector (measured): hyphenated pairs of distinct
    # 4-byte letters ("𠀀-𠀁", three lexemes each), about 11 bytes of vector
    # a character, in every searched text beyond what PostgreSQL indexes.
    letters = iter(map(chr, range(0x20000, 0x2A6E0)))  # CJK Extension B
    texts = {}
    for name in fields_in(Searched):
        indexed = search_weight(name).indexed
        pairs = [f"{next(letters)}-{next(letters)}" for _ in range(indexed // 4 + 1)]
        texts[name] = " ".join(pairs * 2)
    big: dict[str, Any] = {
        name: [text] if KINDS[name].type is list else text for name, text in texts.items()
    }
    with crawl() as run:
        written = run.store(paper(arxiv_id="2607.00001", **big), paper(arxiv_id="2607.00002"))
    assert (written.papers, written.rejected) == (2, 0)
    stored = {row["arxiv_id"]: row for row in rows(database_url)}
    assert {name: stored["2607.00001"][name] for name in big} == big
    assert searched(database_url, f'"{texts["abstract"].split()[0]}"') == ["2607.00001"]
    if database_url.startswith("postgresql"):  # near the limit, inside it
        engine = storage.make_reader(database_url)
        with engine.connect() as connection:
            size = connection.exec_driver_sql(
                "SELECT max(pg_column_size(search_vector)) FROM papers"
            ).scalar_one()
        engine.dispose()
        assert 500_000 < size < 1_048_576


def test_an_organization_beyond_an_index_row_is_stored_and_filtered_exactly(
    database_url: str, crawl: NewCrawl
) -> None:
    # 3,000 characters, 6,000 bytes: PostgreSQL's btree holds about 2,700.
    long_name = "Ω" + words(300, "org")[:2999]
    longer_name = long_name + " Lab"
    handle = "x" * 3000
    with crawl() as run:
        written = run.store(
            paper(arxiv_id="2607.00001", organization=long_name, organization_id=handle),
            paper(arxiv_id="2607.00002", organization=longer_name),
            paper(arxiv_id="2607.00003"),
        )
    assert (written.papers, written.rejected) == (3, 0)
    stored = {row["arxiv_id"]: row for row in rows(database_url)}
    assert stored["2607.00001"]["organization"] == long_name
    assert stored["2607.00001"]["organization_id"] == handle
    # The filter tells the two long names apart, in any case.
    assert found(database_url, organization=long_name.upper()) == ["2607.00001"]
    assert found(database_url, organization=longer_name) == ["2607.00002"]
    assert found(database_url, organization="X" * 3000) == ["2607.00001"]
    assert found(database_url, organization="x" * 2999) == []
    assert found(database_url, organization="new york university") == ["2607.00003"]


def test_a_listing_beyond_one_statement_s_parameters_is_stored_whole(
    database_url: str, crawl: NewCrawl
) -> None:
    # 70,000 papers: more ids than one statement may bind on either backend.
    count = 70_000
    ids = [f"2607.{n:05d}" for n in range(1, count + 1)]
    template = Paper.model_validate(paper())
    valid = [
        (rank, template.model_copy(update={"arxiv_id": arxiv_id, "upvotes": rank}))
        for rank, arxiv_id in enumerate(ids, start=1)
    ]
    day = template.listing_date
    item = Listing(day=day, url=f"http://127.0.0.1/papers/date/{day}", outcome="served")
    item.valid = valid
    with crawl() as run:
        written = run.store_listing(item)
        assert (written.papers, written.new, written.snapshots) == (count, count, count)
        # Read again with one paper fewer: every one of the others refreshed.
        item.valid = [(rank, p.model_copy(update={"upvotes": rank + 1})) for rank, p in valid[1:]]
        again = run.store_listing(item)
        assert (again.papers, again.new, again.missing, again.changed) == (
            count - 1,
            0,
            1,
            count - 1,
        )
        assert again.snapshots == count - 1
    engine = storage.make_reader(database_url)
    with engine.connect() as connection:
        counted = {
            table.name: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar()
            for table in (storage.papers, storage.listings, storage.upvote_snapshots)
        }
    engine.dispose()
    assert counted == {"papers": count, "listings": count, "upvote_snapshots": 2 * count - 1}
