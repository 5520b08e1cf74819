"""Schema version 6: full-text search over the papers' texts (title,
abstract, authors, organization, AI summary and keywords), kept in step
with every write by the database. SQLite: an FTS5 table with external
content (``papers_fts``, over ``papers`` by rowid) and three triggers,
filled from the stored papers here. PostgreSQL: a stored generated
``tsvector`` column with a GIN index, computed for every stored paper as
the column is added. ``schema.py`` makes the same in a new archive; the
statements are copied here as they were at this version, but for the
beginnings of the texts PostgreSQL indexes (``left(...)``): version 9 set
them, and they are here too so that no text an archive of version 5 holds
can stop this step (PostgreSQL's vector holds 1 MB).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_SQLITE = [
    "CREATE VIRTUAL TABLE papers_fts USING fts5(title, abstract, authors, organization, ai_summary, ai_keywords, content='papers', content_rowid='rowid', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER papers_fts_insert AFTER INSERT ON papers BEGIN INSERT INTO papers_fts(rowid, title, abstract, authors, organization, ai_summary, ai_keywords) VALUES (new.rowid, new.title, new.abstract, new.authors, new.organization, new.ai_summary, new.ai_keywords); END",
    "CREATE TRIGGER papers_fts_delete AFTER DELETE ON papers BEGIN INSERT INTO papers_fts(papers_fts, rowid, title, abstract, authors, organization, ai_summary, ai_keywords) VALUES ('delete', old.rowid, old.title, old.abstract, old.authors, old.organization, old.ai_summary, old.ai_keywords); END",
    "CREATE TRIGGER papers_fts_update AFTER UPDATE OF title, abstract, authors, organization, ai_summary, ai_keywords ON papers WHEN old.title IS NOT new.title OR old.abstract IS NOT new.abstract OR old.authors IS NOT new.authors OR old.organization IS NOT new.organization OR old.ai_summary IS NOT new.ai_summary OR old.ai_keywords IS NOT new.ai_keywords BEGIN INSERT INTO papers_fts(papers_fts, rowid, title, abstract, authors, organization, ai_summary, ai_keywords) VALUES ('delete', old.rowid, old.title, old.abstract, old.authors, old.organization, old.ai_summary, old.ai_keywords); INSERT INTO papers_fts(rowid, title, abstract, authors, organization, ai_summary, ai_keywords) VALUES (new.rowid, new.title, new.abstract, new.authors, new.organization, new.ai_summary, new.ai_keywords); END",
]

_POSTGRESQL = [
    "ALTER TABLE papers ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (setweight(to_tsvector('english', coalesce(left(title, 1000), '')), 'A') || setweight(to_tsvector('english', coalesce(left(abstract, 30000), '')), 'B') || setweight(to_tsvector('english', coalesce(left(authors::text, 20000), '')), 'C') || setweight(to_tsvector('english', coalesce(left(organization, 1000), '')), 'C') || setweight(to_tsvector('english', coalesce(left(ai_summary, 5000), '')), 'C') || setweight(to_tsvector('english', coalesce(left(ai_keywords::text, 3000), '')), 'B')) STORED",
    "CREATE INDEX ix_papers_search_vector ON papers USING gin (search_vector)",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE:
            op.execute(statement)
        # Index what is already stored (external content: read from papers).
        op.execute("INSERT INTO papers_fts(papers_fts) VALUES ('rebuild')")
    else:
        for statement in _POSTGRESQL:
            op.execute(statement)
