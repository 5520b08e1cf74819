"""Full-text search: relevance, the index following every write (through
the real writer), filters, unparseable queries; SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from digest_crawler.paper import Paper
from digest_crawler.storage import make_engine, migrate
from digest_crawler.storage.queries import PaperFilter, open_archive
from digest_crawler.storage.search import SearchError, search
from digest_crawler.storage.write import write_listing
from tests.conftest import FIXTURES
from tests.storage import listings
from tests.storage.listings import NewCrawl, find

NOW = dt.datetime(2026, 7, 31, 21, 30, tzinfo=dt.UTC)
DAY = dt.date(2026, 7, 31)
FILLER = "We study large language models and report results on standard benchmarks. "


def paper(arxiv_id: str, title: str, abstract: str, **fields: object) -> Paper:
    values: dict[str, object] = {
        "arxiv_id": arxiv_id,
        "url": f"https://huggingface.co/papers/{arxiv_id}",
        "title": title,
        "abstract": abstract,
        "listing_date": DAY,
        "upvotes": 10,
        "scraped_at": NOW,
        **fields,
    }
    return Paper.model_validate(values)


# One paper has the rare word in its title; the others only in their
# abstracts, and more often (a plain count of the word would pick them).
PAPERS = [
    paper("2607.00001", "Scaling laws revisited", FILLER * 3 + "Quokka quokka quokka."),
    paper("2607.00002", "Quokka: a small model", FILLER * 3),
    paper("2607.00003", "Vision transformers", "The quokka of vision, quokka again. " + FILLER),
    paper(
        "2607.00004",
        "Speech at scale",
        FILLER,
        authors=["Ada Lovelace", "Alan Turing"],
        organization="Kling Team",
        organization_id="KlingTeam",
        ai_keywords=["speech recognition", "wombat"],
        listing_date=dt.date(2026, 7, 30),
    ),
]


def store(url: str, papers: list[Paper], now: dt.datetime = NOW) -> None:
    """Write ``papers`` as one listing, through the crawl's own writer."""
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        with engine.begin() as connection:
            write_listing(connection, list(enumerate(papers, 1)), [], "u", now, batch_size=500)
    finally:
        engine.dispose()


def test_a_rare_word_in_the_title_ranks_above_the_same_word_in_abstracts(
    database_url: str,
) -> None:
    store(database_url, PAPERS)
    found = find(database_url, "quokka")
    assert found[0].arxiv_id == "2607.00002"
    assert {m.arxiv_id for m in found} == {"2607.00001", "2607.00002", "2607.00003"}
    assert "**" in found[0].snippet and "quokka" in found[0].snippet.lower()
    assert (found[0].listing_date, found[0].upvotes) == (DAY, 10)


def test_the_index_follows_a_recrawl_that_changes_a_title(database_url: str) -> None:
    store(database_url, PAPERS)
    renamed = PAPERS[1].model_copy(update={"title": "Platypus: a small model"})
    store(database_url, [renamed], now=NOW + dt.timedelta(days=1))
    assert [m.arxiv_id for m in find(database_url, "platypus")] == ["2607.00002"]
    assert "2607.00002" not in {m.arxiv_id for m in find(database_url, "quokka")}
    assert find(database_url, "platypus")[0].title == "Platypus: a small model"


def test_authors_organization_and_keywords_are_searched(database_url: str) -> None:
    store(database_url, PAPERS)
    for query in ("lovelace", "kling", "wombat"):
        assert [m.arxiv_id for m in find(database_url, query)] == ["2607.00004"], query


def test_filters_and_limit(database_url: str) -> None:
    store(database_url, PAPERS)
    assert find(database_url, "models", PaperFilter(since=DAY, until=DAY), limit=100)
    assert find(database_url, "speech", PaperFilter(since=DAY)) == []
    assert [
        m.arxiv_id for m in find(database_url, "speech", PaperFilter(organization="klingteam"))
    ] == ["2607.00004"]
    assert len(find(database_url, "models", limit=2)) == 2


@pytest.mark.parametrize("query", ['"unbalanced', "AND", "self-supervised", "title:"])
def test_a_query_fts5_cannot_parse_is_a_one_line_error(tmp_path: Path, query: str) -> None:
    url = f"sqlite:///{tmp_path / 'papers.sqlite'}"
    store(url, PAPERS)
    with pytest.raises(SearchError, match="cannot parse the query") as error:
        find(url, query)
    assert "\n" not in str(error.value)


def test_postgresql_reads_any_query_as_a_web_search(postgres_url: str) -> None:
    store(postgres_url, PAPERS)
    assert find(postgres_url, '"unbalanced') == [] and find(postgres_url, "AND") == []
    assert [m.arxiv_id for m in find(postgres_url, '"small model" -scaling')] == ["2607.00002"]


def test_an_archive_made_before_the_index_gets_it_by_the_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    shutil.copy(FIXTURES / "archive-v1.sqlite", path)
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with engine.connect() as connection:
        arxiv_id, title = connection.execute(
            sa.text("SELECT arxiv_id, title FROM papers ORDER BY arxiv_id LIMIT 1")
        ).one()
    engine.dispose()
    word = max(title.split(), key=len).strip(":,.()")
    assert arxiv_id in {m.arxiv_id for m in find(f"sqlite:///{path}", f'"{word}"', limit=100)}


def test_the_rebuild_readme_gives_after_a_vacuum_leaves_a_sound_index(tmp_path: Path) -> None:
    path = tmp_path / "papers.sqlite"
    store(f"sqlite:///{path}", PAPERS)
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("VACUUM")
        connection.execute("INSERT INTO papers_fts(papers_fts) VALUES ('rebuild')")
        # FTS5's own check of the index against the content table.
        connection.execute("INSERT INTO papers_fts(papers_fts, rank) VALUES ('integrity-check', 1)")
    finally:
        connection.close()
    assert find(f"sqlite:///{path}", "quokka")[0].arxiv_id == "2607.00002"


DAMAGE = {
    "sqlite-table": ("sqlite", "DROP TABLE papers_fts"),
    "sqlite-trigger": ("sqlite", "DROP TRIGGER papers_fts_update"),
    "postgresql-column": ("postgresql", "ALTER TABLE papers DROP COLUMN search_vector"),
    "postgresql-index": ("postgresql", "DROP INDEX ix_papers_search_vector"),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_search_index_is_said_and_the_upgrade_rebuilds_it(
    damage: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Part of the index dropped by hand: search says the index (not the
    query) is at fault and names scrapy upgrade, which rebuilds it from the
    stored papers; writes (whose triggers need it) work again."""
    backend, statement = DAMAGE[damage]
    url = (
        f"sqlite:///{tmp_path / 'papers.sqlite'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    store(url, PAPERS)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(statement)
    with pytest.raises(SearchError) as raised:
        find(url, "quokka")
    assert str(raised.value).startswith("the archive's search index is damaged (it lacks the ")
    assert str(raised.value).endswith(": scrapy upgrade rebuilds it from the stored papers")
    assert migrate.upgrade(engine) == (migrate.head_version(), migrate.head_version())
    engine.dispose()
    assert find(url, "quokka")[0].arxiv_id == "2607.00002"
    store(url, [paper("2607.00002", "Wombat: a small model", FILLER)])  # the triggers follow
    assert [m.arxiv_id for m in find(url, "wombat")] == ["2607.00002", "2607.00004"]
    assert "2607.00002" not in [m.arxiv_id for m in find(url, "quokka")][:1]


def test_a_long_text_of_one_word_is_searched_in_moments(tmp_path: Path) -> None:
    """FTS5's snippet() takes the square of a text's matches (a megabyte
    of one word: minutes; these 350 KB: 13 s): a paper whose texts are long gets its
    snippet from highlight() instead, the same marks, cut as long."""
    import time

    url = f"sqlite:///{tmp_path / 'papers.sqlite'}"
    flood = "wombat " * 50_000
    store(url, [*PAPERS, paper("2607.00009", "Marsupials", flood, ai_summary="A wombat.")])
    started = time.monotonic()
    found = find(url, "wombat")
    assert time.monotonic() - started < 5
    assert [m.arxiv_id for m in found] == ["2607.00009", "2607.00004"]
    assert found[0].snippet == " ".join(["**wombat**"] * 16) + "…"
    assert find(url, "marsupials")[0].snippet == "**Marsupials**"  # the weightiest text first


#: Filters of every kind, alone and together (the archive of
#: ``tests/support/archive.py``: 20 days from 2026-07-29, the first settled,
#: a week's list of 2026-W31).
FILTERS: dict[str, dict[str, object]] = {
    "none": {},
    "since": {"since": dt.date(2026, 8, 5)},
    "until": {"until": dt.date(2026, 8, 1)},
    "published": {"by": "published", "since": dt.date(2026, 8, 1), "until": dt.date(2026, 8, 9)},
    "min-upvotes": {"min_upvotes": 100},
    "organization": {"organization": "KLING TEAM"},
    "changed-since": {"changed_since": dt.datetime(2026, 8, 1, tzinfo=dt.UTC)},
    "changed-since-none": {"changed_since": dt.datetime(2026, 8, 2, tzinfo=dt.UTC)},
    "settled": {"settled": True},
    "week": {"week": "2026-W31"},
    "month": {"month": "2026-08"},
    "together": {"since": dt.date(2026, 7, 30), "min_upvotes": 10, "organization": "klingteam"},
    "week-settled-upvotes": {"week": "2026-W31", "settled": True, "min_upvotes": 50},
}


def ranked_among_every_chosen_paper(
    connection: sa.Connection, query: str, chosen: PaperFilter, limit: int
) -> list[str]:
    """The ids search gave before it became O(matches): every match ranked
    among the ids of ``queries.paper_ids`` (which joins every paper to its
    listing day), relevance, then the newer listing, then the id."""
    from digest_crawler.paper import search_weight
    from digest_crawler.storage.queries import paper_ids
    from digest_crawler.storage.schema import SEARCH_COLUMNS, papers

    mine = papers.c.arxiv_id.in_(paper_ids(chosen).scalar_subquery())
    then = (papers.c.listing_date.desc(), papers.c.arxiv_id)
    if connection.dialect.name == "sqlite":
        fts = sa.table("papers_fts", sa.column("rowid"))
        name: sa.ColumnElement[Any] = sa.literal_column("papers_fts")
        weights = [search_weight(column).weight for column in SEARCH_COLUMNS]
        statement = (
            sa.select(papers.c.arxiv_id)
            .select_from(fts.join(papers, sa.literal_column("papers.rowid") == fts.c.rowid))
            .where(name.op("MATCH")(query), mine)
            .order_by(sa.func.bm25(name, *weights), *then)
        )
    else:
        tsquery = sa.func.websearch_to_tsquery(sa.text("'english'::regconfig"), query)
        vector: sa.ColumnElement[Any] = sa.literal_column("papers.search_vector")
        statement = (
            sa.select(papers.c.arxiv_id)
            .where(vector.op("@@")(tsquery), mine)
            .order_by(sa.func.ts_rank(vector, tsquery).desc(), *then)
        )
    return list(connection.scalars(statement.limit(limit)))


def test_search_finds_what_ranking_every_chosen_paper_finds(archive_url: str) -> None:
    """Whatever the filter and limit, the same papers in the same order as
    ranking every match among all the chosen papers' ids: the archive's
    texts differ only in their numbers, so scores tie in runs of hundreds
    and a limit cuts through a run (the newer listing, then the id, decide)."""
    engine = open_archive(archive_url)
    try:
        with engine.connect() as connection:
            for name, options in FILTERS.items():
                chosen = PaperFilter.model_validate(options)
                for query in ("paper", "retrieval agents", "kling OR summary", "summ*"):
                    for limit in (1, 7, 300):
                        expected = ranked_among_every_chosen_paper(connection, query, chosen, limit)
                        found = search(connection, query, chosen, limit)
                        assert [m.arxiv_id for m in found] == expected, (name, query, limit)
            # The whole run of ties, and past it.
            assert len(search(connection, "paper", PaperFilter(), 2000)) == 1000
    finally:
        engine.dispose()


def test_names_and_keywords_beyond_ascii_are_found(crawl: NewCrawl, database_url: str) -> None:
    with crawl() as run:
        run.store(
            listings.paper(authors=["Jürgen Müller", "Zoë Ωmega"], ai_keywords=["Großmodell"])
        )
    for query in ("Müller", "müller", "Ωmega", "großmodell"):
        assert [m.arxiv_id for m in find(database_url, query)] == ["2607.28618"], query
