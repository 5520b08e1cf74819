"""Schema version 9: no value an earlier release stored is beyond what a
backend's index holds.

- The organization filter's keys of names longer than 256 characters
  become their first 192 characters, ``#`` and the SHA-256 of the whole
  (``schema.organization_key``): PostgreSQL's btree holds rows of about
  2,700 bytes. (Only SQLite could hold such keys.)
- PostgreSQL's search vector indexes the first characters of each text
  (``paper.Searched.indexed``: 60,000 in all) instead of the whole, whose
  vector may pass the 1 MB a ``tsvector`` holds. An archive whose vector
  already has that form (made by version 6 of this release) is left as it
  is; otherwise the column is made again, recomputed for every paper.

Every stored text stays whole.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_SEARCH_VECTOR = (
    "ALTER TABLE papers ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (setweight(to_tsvector('english', coalesce(left(title, 1000), '')), 'A') || setweight(to_tsvector('english', coalesce(left(abstract, 30000), '')), 'B') || setweight(to_tsvector('english', coalesce(left(authors::text, 20000), '')), 'C') || setweight(to_tsvector('english', coalesce(left(organization, 1000), '')), 'C') || setweight(to_tsvector('english', coalesce(left(ai_summary, 5000), '')), 'C') || setweight(to_tsvector('english', coalesce(left(ai_keywords::text, 3000), '')), 'B')) STORED",
    "CREATE INDEX ix_papers_search_vector ON papers USING gin (search_vector)",
)


def _key(name: str | None) -> str | None:
    """``schema.organization_key`` as of this version."""
    if name is None:
        return None
    key = name.lower()
    if len(key) <= 256:
        return key
    return f"{key[:192]}#{hashlib.sha256(key.encode()).hexdigest()}"


def upgrade() -> None:
    bind = op.get_bind()
    long_named = bind.execute(
        sa.text(
            "SELECT arxiv_id, organization, organization_id FROM papers"
            " WHERE length(organization_key) > 256 OR length(organization_id_key) > 256"
        )
    ).all()
    if long_named:
        bind.execute(
            sa.text(
                "UPDATE papers SET organization_key = :name, organization_id_key = :handle"
                " WHERE arxiv_id = :arxiv_id"
            ),
            [
                {
                    "arxiv_id": row.arxiv_id,
                    "name": _key(row.organization),
                    "handle": _key(row.organization_id),
                }
                for row in long_named
            ],
        )
    if bind.dialect.name != "postgresql":
        return
    expression = bind.execute(
        sa.text(
            "SELECT generation_expression FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = 'papers'"
            " AND column_name = 'search_vector'"
        )
    ).scalar()
    if expression is not None and "left(" in expression:
        return
    op.execute("ALTER TABLE papers DROP COLUMN IF EXISTS search_vector")
    for statement in _SEARCH_VECTOR:
        op.execute(statement)
