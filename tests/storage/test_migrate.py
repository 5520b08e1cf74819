"""Schema versions: a new archive and an upgraded one are the same, and an
upgrade loses or changes nothing stored (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from digest_crawler import storage
from digest_crawler.storage import make_engine, metadata, migrate, queries
from digest_crawler.storage.schema import is_search_object, organization_key
from digest_crawler.storage.search import search
from tests.conftest import FIXTURES
from tests.storage.listings import words

# Made by `scrapy crawl daily` of the last release without migrations
# (commit 1e15530) over the fixture days: see fixtures/README.md.
ARCHIVE_V1 = FIXTURES / "archive-v1.sqlite"
HEAD = migrate.head_version()
# The FTS5 table, its shadow tables and its three triggers: the structure
# compared below holds them (the comparison is not empty for them).
SQLITE_SEARCH_OBJECTS = {
    "papers_fts",
    "papers_fts_config",
    "papers_fts_data",
    "papers_fts_delete",
    "papers_fts_docsize",
    "papers_fts_idx",
    "papers_fts_insert",
    "papers_fts_update",
}


def test_the_head_version_is_alembic_s_head_read_without_alembic() -> None:
    """``head_version`` reads the migrations' file names (a command's start
    loads no Alembic): each file is named by its revision, and the newest
    is Alembic's head."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(migrate._config())
    assert migrate.head_version() == int(scripts.get_current_head() or 0) >= 9
    for script in scripts.walk_revisions():
        assert script.path is not None
        assert Path(script.path).name.startswith(f"{script.revision}_"), script.path


def expression_indexes(engine: sa.Engine, table: str) -> list[tuple[str, str]]:
    """SQLite's indexes on expressions (``lower(organization)``), which its
    reflection skips: their names and definitions from ``sqlite_master``."""
    if engine.dialect.name != "sqlite":
        return []  # PostgreSQL reflects them, with their expressions
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
            " AND sql LIKE '%(%(%'",
            (table,),
        ).all()
    return sorted((name, "".join(sql.lower().replace('"', "").split())) for name, sql in rows)


def structure(engine: sa.Engine) -> dict[str, Any]:
    """Tables, columns (name, type, nullable, generation expression), keys,
    indexes (with their method), on SQLite the virtual tables and triggers as
    written and the expression indexes (which it does not reflect), as reflected."""
    inspector = sa.inspect(engine)
    found: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        found[table] = {
            # As a set: a column a migration adds comes last in the table,
            # wherever the model declares it.
            "columns": sorted(
                (c["name"], str(c["type"]), c["nullable"], str(c.get("computed")))
                for c in inspector.get_columns(table)
            ),
            "primary key": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign keys": sorted(
                (fk["name"], tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in inspector.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (
                    i["name"],
                    tuple(i["column_names"]),
                    bool(i["unique"]),
                    str(i.get("dialect_options", {}).get("postgresql_using")),
                )
                for i in inspector.get_indexes(table)
            ),
            "expression indexes": expression_indexes(engine, table),
        }
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            # What reflection does not show: the FTS5 table's definition and
            # the triggers that keep it in step.
            found["sqlite_master"] = connection.exec_driver_sql(
                "SELECT type, name, tbl_name, sql FROM sqlite_master"
                " WHERE type = 'trigger' OR sql LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name"
            ).all()
    return found


def structure_of_a_new_archive(engine: sa.Engine) -> dict[str, Any]:
    """The ``structure`` of a new archive made in place of the PostgreSQL
    archive ``engine`` opens (every table dropped first)."""
    with engine.begin() as connection:
        for table in sa.inspect(connection).get_table_names():
            connection.exec_driver_sql(f"DROP TABLE {table} CASCADE")
    assert migrate.upgrade(engine) == (None, HEAD)
    return structure(engine)


def search_objects(found: dict[str, Any]) -> set[str]:
    """The names of the search index's parts in a ``structure``."""
    names = set(found) | {row[1] for row in found.get("sqlite_master", [])}
    names |= {column[0] for column in found.get("papers", {}).get("columns", [])}
    names |= {index[0] for index in found.get("papers", {}).get("indexes", [])}
    return {name for name in names if is_search_object(name)}


def differences(engine: sa.Engine) -> list[Any]:
    """What the archive lacks or has beyond the tables of ``schema.py``. The
    search index is not declared as tables: ``structure`` compares it."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"include_name": lambda name, _type, _parents: not is_search_object(name)},
        )
        return compare_metadata(context, metadata)


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the search index (an index of ``papers``)."""
    connection = sqlite3.connect(path)
    try:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'alembic_version'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
            if not is_search_object(name)
        ]
        return {
            t: connection.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables
        }
    finally:
        connection.close()


def archive_at(backend: str, path: Path, request: pytest.FixtureRequest) -> str:
    """Where a test's archive goes: the SQLite file ``path``, or a schema of
    its own on the PostgreSQL server."""
    if backend == "sqlite":
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def as_version_2(value: Any) -> Any:
    """A version 1 value as version 2 stores it (the documented conversions)."""
    if value == "null":
        return None
    if isinstance(value, str) and len(value) == 26 and value[10] == " " and value[4] == "-":
        return value.replace(" ", "T") + "Z"
    return value


def as_version_11(value: Any) -> Any:
    """A list as version 11 keeps it on SQLite: its letters, not ``\\u`` escapes."""
    if isinstance(value, str) and value.startswith("[") and "\\u" in value:
        return json.dumps(json.loads(value), ensure_ascii=False)
    return value


def test_a_new_sqlite_archive_is_exactly_the_schema(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.sqlite'}")
    assert migrate.upgrade(engine) == (None, migrate.head_version())
    assert differences(engine) == []
    assert migrate.upgrade(engine) == (HEAD, HEAD)  # a second upgrade does nothing
    engine.dispose()


def test_every_migration_run_from_an_empty_file_gives_the_same_schema(tmp_path: Path) -> None:
    engines = [make_engine(f"sqlite:///{tmp_path / name}") for name in ("steps", "new")]
    assert migrate.upgrade(engines[0], to=HEAD) == (None, HEAD)
    migrate.upgrade(engines[1])
    assert differences(engines[0]) == []
    assert structure(engines[0]) == structure(engines[1])
    assert search_objects(structure(engines[1])) == SQLITE_SEARCH_OBJECTS
    for engine in engines:
        engine.dispose()


def test_a_version_1_archive_upgrades_in_place_to_the_schema_of_a_new_one(tmp_path: Path) -> None:
    old, new = tmp_path / "old.sqlite", tmp_path / "new.sqlite"
    shutil.copy(ARCHIVE_V1, old)
    before = dump(old)
    assert sum(map(len, before.values())) > 300 and before["rejected_items"]
    engines = [make_engine(f"sqlite:///{path}") for path in (old, new)]
    assert migrate.upgrade(engines[0]) == (1, HEAD)
    migrate.upgrade(engines[1])
    assert differences(engines[0]) == []
    assert structure(engines[0]) == structure(engines[1])
    for engine in engines:
        engine.dispose()

    after = dump(old)
    # Every row as it was (a column added later is NULL at the end of its
    # row; a table renamed since is compared under its new name).
    renamed = {"crawl_days": "crawl_listings"}
    after = {
        next((old for old, new in renamed.items() if new == table), table): rows
        for table, rows in after.items()
    }
    assert {
        table: [row[: len(before[table][0])] for row in rows]
        for table, rows in after.items()
        if table in before
    } == {
        table: [tuple(as_version_11(as_version_2(v)) for v in row) for row in rows]
        for table, rows in before.items()
    }
    # Version 4's fields are unknown (NULL) until read again; version 7's
    # organization keys are made from the stored names.
    added = {row[len(before["papers"][0]) :] for row in after["papers"]}
    assert {tail[:3] for tail in added} == {(None, None, None)}
    connection = sqlite3.connect(old)
    keys = connection.execute(
        "SELECT organization, organization_id, organization_key, organization_id_key FROM papers"
    ).fetchall()
    connection.close()
    assert any(name for name, *_ in keys)
    assert all(
        (key, handle_key) == (name and name.lower(), handle and handle.lower())
        for name, handle, key, handle_key in keys
    )
    # Version 3: each day some run stored, with its first and last read; the
    # fixture's days were all read months later, which settles them.
    stored = {row[1] for row in before["crawl_days"] if row[2] == "stored"}
    assert {row[0] for row in after["listing_days"]} == stored and stored
    for day, first, last, settled in after["listing_days"]:
        assert first <= last and settled == first, day
    nulls = [row for row in before["papers"] if row[4] == "null"]
    assert nulls, "the fixture holds papers read from cards (authors JSON null)"
    moments = [row[18] for row in after["papers"]]  # first_seen_at, as in version 1
    assert all(m.endswith("Z") and "T" in m for m in moments)
    assert dt.datetime.fromisoformat(moments[0]).tzinfo == dt.UTC


def test_postgresql_archives_new_and_of_version_1_upgrade_to_the_same_schema(
    postgres_url: str,
) -> None:
    engine = make_engine(postgres_url)
    try:
        # Version 1 as released: its tables, without alembic_version.
        migrate.upgrade(engine, to=1)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE alembic_version")
            connection.exec_driver_sql(
                "INSERT INTO papers (arxiv_id, url, title, authors, listing_date, upvotes,"
                " scraped_at, first_seen_at, last_seen_at, changed_at) VALUES"
                " ('2603.00001', 'u', 't', 'null'::jsonb, '2026-03-11', 3, now(), now(), now(), now()),"
                " ('2603.00002', 'u', 't', '[\"A\"]'::jsonb, '2026-03-11', 4, now(), now(), now(), now())"
            )
            connection.exec_driver_sql(
                "INSERT INTO listings VALUES ('2026-03-11', '2603.00001', 1, now(), now())"
            )
        assert migrate.upgrade(engine) == (1, HEAD)
        assert differences(engine) == []
        with engine.connect() as connection:
            authors: dict[str, Any] = dict(
                connection.exec_driver_sql(
                    "SELECT arxiv_id, authors FROM papers ORDER BY arxiv_id"
                ).all()
            )
            keys = {fk["name"] for fk in sa.inspect(connection).get_foreign_keys("listings")}
        assert authors == {"2603.00001": None, "2603.00002": ["A"]}
        assert keys == {"fk_listings_arxiv_id"}
        upgraded = structure(engine)
        assert search_objects(upgraded) == {"search_vector", "ix_papers_search_vector"}
        assert structure_of_a_new_archive(engine) == upgraded
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_version_8_renames_the_ledger_s_days_to_listings_keeping_every_row(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = archive_at(backend, tmp_path / "v7.sqlite", request)
    engine = make_engine(url)
    try:
        migrate.upgrade(engine, to=7)
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO crawl_runs (id, spider, arguments, period, first_day, last_day,"
                " started_at, days_requested, days_served, days_no_digest, days_failed, complete)"
                " VALUES (1, 'daily', '{}', 'week', '2026-07-27', '2026-08-03',"
                " '2026-08-04T00:00:00.000000Z', 2, 1, 0, 1, false)"
            )
            connection.exec_driver_sql(
                "INSERT INTO crawl_days (run_id, day, outcome, papers, reason, url, finished_at,"
                " carried_over) VALUES (1, '2026-07-27', 'stored', 30, NULL, 'u',"
                " '2026-08-04T00:00:00.000000Z', false), (1, '2026-08-03', 'failed', 0,"
                " 'HTTP 500', 'u', '2026-08-04T00:00:00.000000Z', false)"
            )
        assert migrate.upgrade(engine) == (7, HEAD)
        assert differences(engine) == []
        with engine.connect() as connection:
            run = connection.execute(sa.select(storage.crawl_runs)).one()._mapping
            listings = connection.execute(
                sa.select(storage.crawl_listings).order_by(storage.crawl_listings.c.listing)
            ).all()
            keys = {fk["name"] for fk in sa.inspect(connection).get_foreign_keys("crawl_listings")}
        assert (run["first_listing"], run["last_listing"]) == (
            dt.date(2026, 7, 27),
            dt.date(2026, 8, 3),
        )
        assert [run[f"listings_{n}"] for n in ("requested", "served", "no_digest", "failed")] == [
            2,
            1,
            0,
            1,
        ]
        assert [(r.listing, r.outcome, r.papers, r.reason) for r in listings] == [
            (dt.date(2026, 7, 27), "stored", 30, None),
            (dt.date(2026, 8, 3), "failed", 0, "HTTP 500"),
        ]
        assert keys == {"fk_crawl_listings_run_id"}
    finally:
        engine.dispose()


#: Version 6's search vector as released before version 9: every text whole.
UNBOUNDED_SEARCH_VECTOR = (
    "ALTER TABLE papers ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    + " || ".join(
        f"setweight(to_tsvector('english', coalesce({column}, '')), '{weight}')"
        for column, weight in (
            ("title", "A"),
            ("abstract", "B"),
            ("authors::text", "C"),
            ("organization", "C"),
            ("ai_summary", "C"),
            ("ai_keywords::text", "B"),
        )
    )
    + ") STORED"
)


def insert_paper(engine: sa.Engine, arxiv_id: str, organization: str, abstract: str) -> None:
    """A paper as versions 4 to 8 store it (no organization keys yet at 5)."""
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO papers (arxiv_id, url, title, abstract, organization,"
                " organization_id, listing_date, upvotes, scraped_at, first_seen_at,"
                " last_seen_at, changed_at) VALUES (:arxiv_id, 'u', 'A title', :abstract,"
                " :organization, :organization, '2026-07-31', 3, '2026-08-01T00:00:00.000000Z',"
                " '2026-08-01T00:00:00.000000Z', '2026-08-01T00:00:00.000000Z',"
                " '2026-08-01T00:00:00.000000Z')"
            ),
            {"arxiv_id": arxiv_id, "organization": organization, "abstract": abstract},
        )


def kept_papers(engine: sa.Engine) -> dict[str, tuple[Any, ...]]:
    with engine.connect() as connection:
        return {
            row.arxiv_id: (row.organization, row.organization_id, row.abstract)
            for row in connection.execute(
                sa.select(
                    storage.papers.c.arxiv_id,
                    storage.papers.c.organization,
                    storage.papers.c.organization_id,
                    storage.papers.c.abstract,
                )
            )
        }


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_values_beyond_postgresql_s_indexes_do_not_stop_an_upgrade(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # A 3,000-character organization (6,000 bytes: a btree row holds about
    # 2,700) and an abstract of 1.3 MB of words (a tsvector holds 1 MB),
    # both stored by a release of schema 5, before the keys and the index.
    url = archive_at(backend, tmp_path / "v5.sqlite", request)
    engine = make_engine(url)
    try:
        migrate.upgrade(engine, to=5)
        long_name = "Ω" + words(300, "org")[:2999]
        insert_paper(engine, "2607.00001", long_name, words(120_000, "abstract"))
        insert_paper(engine, "2607.00002", "New York University", "Short.")
        before = kept_papers(engine)
        assert migrate.upgrade(engine) == (5, HEAD)
        assert differences(engine) == []
        assert kept_papers(engine) == before
        with engine.connect() as connection:
            keys = dict(
                connection.execute(
                    sa.select(storage.papers.c.arxiv_id, storage.papers.c.organization_key)
                ).all()
            )
            found = [
                match.arxiv_id
                for match in search(
                    connection,
                    before["2607.00001"][2].split()[0],
                    queries.PaperFilter(),
                    limit=10,
                )
            ]
        assert keys == {
            "2607.00001": organization_key(long_name),
            "2607.00002": "new york university",
        }
        assert found == ["2607.00001"]
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_version_9_bounds_what_version_8_indexed_whole(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = archive_at(backend, tmp_path / "v8.sqlite", request)
    engine = make_engine(url)
    try:
        migrate.upgrade(engine, to=8)
        long_name = "Lab " * 100
        insert_paper(engine, "2607.00001", long_name, "Chemistry literature synthesis.")
        with engine.begin() as connection:
            if backend == "postgresql":  # the vector as version 6 made it then
                connection.exec_driver_sql("ALTER TABLE papers DROP COLUMN search_vector")
                connection.exec_driver_sql(UNBOUNDED_SEARCH_VECTOR)
                connection.exec_driver_sql(
                    "CREATE INDEX ix_papers_search_vector ON papers USING gin (search_vector)"
                )
            # A key as version 7 made it then (SQLite held any length).
            connection.execute(
                sa.text("UPDATE papers SET organization_key = :key, organization_id_key = :key"),
                {"key": long_name.lower()} if backend == "sqlite" else {"key": "lab"},
            )
        before = kept_papers(engine)
        assert migrate.upgrade(engine) == (8, HEAD)
        assert differences(engine) == []
        assert kept_papers(engine) == before
        with engine.connect() as connection:
            keys = connection.execute(
                sa.select(storage.papers.c.organization_key, storage.papers.c.organization_id_key)
            ).one()
            found = search(connection, "synthesis", queries.PaperFilter(), limit=10)
        expected = organization_key(long_name) if backend == "sqlite" else "lab"
        assert tuple(keys) == (expected, expected)
        assert [match.arxiv_id for match in found] == ["2607.00001"]
        if backend == "postgresql":  # the vector's expression included
            upgraded = structure(engine)
            assert structure_of_a_new_archive(engine) == upgraded
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_version_12_adds_the_watches_deliveries_keeping_every_row(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A version 11 archive gains ``watch_deliveries`` (empty, keyed by
    watch, destination and paper), everything stored before kept."""
    url = archive_at(backend, tmp_path / "v11.sqlite", request)
    engine = make_engine(url)
    try:
        migrate.upgrade(engine, to=11)
        insert_paper(engine, "2607.00001", "Kling Team", "Agents that read.")
        before = kept_papers(engine)
        assert migrate.upgrade(engine) == (11, HEAD) and HEAD >= 12
        assert differences(engine) == []
        assert kept_papers(engine) == before
        moment = dt.datetime(2026, 8, 1, tzinfo=dt.UTC)
        row = {
            "watch": "agents",
            "destination": "mailto://user:****@127.0.0.1/",
            "arxiv_id": "2607.00001",
            "delivered_at": moment,
            "how": "sent",
        }
        with engine.begin() as connection:
            connection.execute(sa.insert(storage.watch_deliveries), row)
        with engine.connect() as connection:
            stored = connection.execute(sa.select(storage.watch_deliveries)).one()._mapping
            assert dict(stored) == row
            with pytest.raises(sa.exc.IntegrityError):  # one row per watch, destination, paper
                connection.execute(sa.insert(storage.watch_deliveries), row)
    finally:
        engine.dispose()


def test_an_archive_newer_than_this_release_is_refused(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.sqlite'}")
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0099'")
    with pytest.raises(migrate.SchemaError, match="schema version 99, newer than this release"):
        migrate.upgrade(engine)
    engine.dispose()


def test_fixture_archive_is_version_1() -> None:
    tables = dump(ARCHIVE_V1)
    assert "alembic_version" not in tables
    assert json.loads(tables["crawl_runs"][0][2]) == {"start": "2026-03-08", "end": "2026-03-11"}


ODD_VERSIONS = [
    (["'²'"], "alembic_version holds '²', which is no schema version (they are 0001, 0002, ...)"),
    (["''"], "alembic_version holds '', which is no schema version"),
    (["'abc'"], "alembic_version holds 'abc', which is no schema version"),
    (["'0000'"], "alembic_version holds '0000', which is no schema version"),
    (["' 0008'"], "alembic_version holds ' 0008', which is no schema version"),
    (["'8'"], "alembic_version holds '8', which is no schema version"),
    (["'0002'", "'0008'"], "alembic_version holds 2 rows ('0002', '0008'): an archive has one"),
    (
        [],
        f"alembic_version is empty, but the tables are those of schema version {HEAD}: put its"
        f" row back (INSERT INTO alembic_version VALUES ('{HEAD:04d}'))",
    ),
    (None, f"alembic_version is missing, but the tables are those of schema version {HEAD}"),
]


@pytest.mark.parametrize(
    ("rows", "message"),
    ODD_VERSIONS,
    ids=[
        "superscript",
        "empty-text",
        "letters",
        "zero",
        "space",
        "short",
        "two-rows",
        "no-row",
        "no-table",
    ],
)
def test_an_odd_schema_version_is_named_and_nothing_is_upgraded(
    database_url: str, rows: list[str] | None, message: str
) -> None:
    """Whatever ``alembic_version`` holds (or lacks) on a current archive,
    the upgrade and the readers say what it is in one line, and nothing
    is changed: not taken for version 1 and migrated into a failure."""
    from digest_crawler.storage.queries import ArchiveError, open_archive

    engine = make_engine(database_url)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        if rows is None:
            connection.exec_driver_sql("DROP TABLE alembic_version")
        else:
            connection.exec_driver_sql("DELETE FROM alembic_version")
            for row in rows:
                connection.exec_driver_sql(f"INSERT INTO alembic_version VALUES ({row})")
    before = structure(engine)
    with pytest.raises(migrate.SchemaError) as raised:
        migrate.upgrade(engine)
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)
    assert structure(engine) == before
    engine.dispose()
    with pytest.raises(ArchiveError) as refused:
        open_archive(database_url)
    assert message in str(refused.value)


@pytest.mark.parametrize("version", [3, 5, 7, 10, 11])
def test_an_older_archive_without_its_version_row_is_named_by_its_tables(
    tmp_path: Path, version: int
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'papers.sqlite'}")
    migrate.upgrade(engine, to=version)
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM alembic_version")
    with engine.connect() as connection, pytest.raises(migrate.SchemaError) as raised:
        migrate.version_of(connection)
    engine.dispose()
    assert f"the tables are those of schema version {version}: " in str(raised.value)


@pytest.mark.parametrize("tables", [["papers (x)"], ["papers (arxiv_id)", "listings (a)"]])
def test_another_tool_s_papers_table_is_no_archive_and_is_left_alone(
    tmp_path: Path, tables: list[str]
) -> None:
    """Taken for an archive of version 1 before, and upgraded into a
    failure that said only "listings"."""
    from digest_crawler.storage.queries import ArchiveError, open_archive

    url = f"sqlite:///{tmp_path / 'other.sqlite'}"
    engine = make_engine(url)
    with engine.begin() as connection:
        for table in tables:
            connection.exec_driver_sql(f"CREATE TABLE {table}")
    before = structure(engine)
    with pytest.raises(migrate.SchemaError) as raised:
        migrate.upgrade(engine)
    assert str(raised.value).startswith("its tables are no archive's (")
    assert str(raised.value).endswith("): is DIGEST_DATABASE_URL the archive's?")
    assert structure(engine) == before
    engine.dispose()
    with pytest.raises(ArchiveError, match="its tables are no archive's"):
        open_archive(url)


def test_version_11_makes_the_letters_of_lists_searchable_on_sqlite(tmp_path: Path) -> None:
    """Versions before 11 kept SQLite's lists as JSON with ``\\u`` escapes,
    which the full-text index read as such: "Müller" was not found. The
    upgrade writes each such list again as its letters (the same value), and
    the index finds it; what a new crawl writes is found at once."""
    url = f"sqlite:///{tmp_path / 'papers.sqlite'}"
    engine = make_engine(url)
    migrate.upgrade(engine, to=10)
    moment = "2026-07-31T00:00:00.000000Z"
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO papers (arxiv_id, url, title, listing_date, upvotes, scraped_at,"
            " first_seen_at, last_seen_at, changed_at, authors, ai_keywords)"
            " VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)",
            (
                "2607.00001",
                "https://huggingface.co/papers/2607.00001",
                "A paper",
                "2026-07-31",
                *[moment] * 4,
                json.dumps(["Jürgen Müller", "Zoë"]),  # as json.dumps wrote it: \u00fc
                json.dumps(["Großmodell", "x\ud800"]),  # a lone surrogate stays escaped
            ),
        )
    with engine.connect() as connection:
        assert search(connection, "Müller", queries.PaperFilter(), 10) == []
    assert migrate.upgrade(engine) == (10, HEAD)
    with engine.connect() as connection:
        (found,) = search(connection, "Müller", queries.PaperFilter(), 10)
        assert found.arxiv_id == "2607.00001"
        assert search(connection, "großmodell", queries.PaperFilter(), 10)
        stored = connection.exec_driver_sql("SELECT authors, ai_keywords FROM papers").one()
    assert stored == ('["Jürgen Müller", "Zoë"]', '["Großmodell", "x\\ud800"]')
    assert json.loads(stored[1]) == ["Großmodell", "x\ud800"]  # the same value
    engine.dispose()
