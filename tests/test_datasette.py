"""The Datasette metadata the project ships (deploy/datasette-metadata.json)
names only what a new archive has, and Datasette serves the archive with it
as README shows: search, facets, the foreign-key links with paper titles."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from digest_crawler.storage import make_engine, migrate
from digest_crawler.storage.write import write_listing
from tests.storage.test_search import NOW, PAPERS, store
from tests.support.cli import PROJECT

METADATA = PROJECT / "deploy" / "datasette-metadata.json"


def test_the_metadata_names_only_tables_and_columns_of_a_new_archive(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'papers.sqlite'}")
    migrate.upgrade(engine)
    inspector = sa.inspect(engine)
    tables = {
        name: {c["name"] for c in inspector.get_columns(name)}
        for name in inspector.get_table_names()
    }
    engine.dispose()
    (database,) = json.loads(METADATA.read_text(encoding="utf-8"))["databases"].values()
    described = {name for name, table in database["tables"].items() if not table.get("hidden")}
    # Every table of the archive but the search index's is described, and nothing else.
    assert described == {
        t for t in tables if not t.startswith("papers_fts") and t != "alembic_version"
    }
    for name, table in database["tables"].items():
        columns = tables[name]
        assert set(table.get("columns", {})) <= columns, name
        assert not table.get("columns") or set(table["columns"]) == columns, (
            f"{name}: undescribed columns"
        )
        assert set(table.get("facets", [])) <= columns, name
        for key in ("label_column", "sort_desc"):
            assert table.get(key, next(iter(columns))) in columns, (name, key)
        if "fts_table" in table:
            assert table["fts_table"] in tables and table["fts_pk"] == "rowid"


def datasette_get(database: Path, path: str) -> Any:
    """What ``datasette DATABASE --metadata ... --get PATH`` answers (JSON)."""
    datasette = shutil.which("datasette", path=str(Path(sys.executable).parent))
    if datasette is None:
        pytest.skip("Datasette is not installed (pip install -e '.[datasette]')")
    result = subprocess.run(
        [datasette, database.name, "--metadata", str(METADATA), "--get", path],
        cwd=database.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.system
def test_datasette_serves_the_archive_with_it_as_readme_shows(tmp_path: Path) -> None:
    store(f"sqlite:///{tmp_path / 'papers.sqlite'}", PAPERS)

    def get(path: str) -> Any:
        return datasette_get(tmp_path / "papers.sqlite", path)

    found = get("/papers/papers.json?_search=quokka&_shape=array&_col=title")
    assert {row["arxiv_id"] for row in found} == {"2607.00001", "2607.00002", "2607.00003"}
    (listing,) = get("/papers/listings.json?_labels=on&_shape=array&arxiv_id=2607.00002")
    assert listing["arxiv_id"] == {"value": "2607.00002", "label": "Quokka: a small model"}
    facets = get("/papers/papers.json?_facet=organization")
    assert "organization" in facets["facet_results"]


@pytest.mark.system
def test_an_archive_of_another_name_is_served_through_a_link_named_papers(
    tmp_path: Path,
) -> None:
    """Datasette names a database after its file and the metadata describes
    the database ``papers``: ``archive.sqlite`` served as it is has no
    search box. README: serve it through a link named ``papers.sqlite``;
    SQLite follows the link to the archive's WAL too (a running crawl's
    last commits, not yet in the file itself)."""
    archive = tmp_path / "archive.sqlite"
    store(f"sqlite:///{archive}", PAPERS[:1])
    writer = make_engine(f"sqlite:///{archive}")
    try:
        with writer.connect() as connection:  # open: its commit stays in the WAL
            with connection.begin():
                write_listing(connection, list(enumerate(PAPERS[1:], 2)), [], "u", NOW, 500)
            assert (tmp_path / "archive.sqlite-wal").stat().st_size > 0
            unlinked = datasette_get(archive, "/archive/papers.json?_search=quokka")
            assert len(unlinked["rows"]) == len(PAPERS)  # ?_search= ignored: no search box
            (tmp_path / "served").mkdir()
            (tmp_path / "served" / "papers.sqlite").symlink_to(archive)
            found = datasette_get(
                tmp_path / "served" / "papers.sqlite",
                "/papers/papers.json?_search=quokka&_shape=array&_col=title",
            )
    finally:
        writer.dispose()
    assert {row["arxiv_id"] for row in found} == {"2607.00001", "2607.00002", "2607.00003"}
