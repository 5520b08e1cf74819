"""Schema version 2: missing values are SQL NULL, SQLite moments are ISO 8601
UTC text with a Z, and the history tables name the rows they belong to.

- ``papers.authors`` held JSON ``null`` (not SQL NULL) where a page gave no
  names, so a later crawl's "keep the stored value" rule could not see it
  as missing: those become SQL NULL.
- SQLite: moments were ``2026-07-31 00:00:00.000000`` (naive, UTC); they
  become ``2026-07-31T00:00:00.000000Z``, as in the feeds, in TEXT columns.
- Foreign keys: ``listings`` and ``upvote_snapshots`` to ``papers``,
  ``crawl_days`` and ``crawl_runs.resumed_by`` to ``crawl_runs``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MOMENTS = {
    "papers": ("submitted_at", "scraped_at", "first_seen_at", "last_seen_at", "changed_at"),
    "rejected_items": ("rejected_at",),
    "listings": ("first_seen_at", "last_seen_at"),
    "upvote_snapshots": ("observed_at",),
    "crawl_runs": ("started_at", "finished_at"),
    "crawl_days": ("finished_at",),
}
NULLABLE = {("papers", "submitted_at"), ("crawl_runs", "finished_at")}
FOREIGN_KEYS = (  # (name, table, column, referred table, referred column)
    ("fk_listings_arxiv_id", "listings", "arxiv_id", "papers", "arxiv_id"),
    ("fk_upvote_snapshots_arxiv_id", "upvote_snapshots", "arxiv_id", "papers", "arxiv_id"),
    ("fk_crawl_runs_resumed_by", "crawl_runs", "resumed_by", "crawl_runs", "id"),
    ("fk_crawl_days_run_id", "crawl_days", "run_id", "crawl_runs", "id"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("UPDATE papers SET authors = NULL WHERE authors = 'null'")
        for table, columns in MOMENTS.items():
            for column in columns:
                op.execute(
                    f"UPDATE {table} SET {column} = replace({column}, ' ', 'T') || 'Z'"
                    f" WHERE {column} LIKE '____-__-__ __:__:__%' AND {column} NOT LIKE '%Z'"
                )
        keys = {table: [fk for fk in FOREIGN_KEYS if fk[1] == table] for table in MOMENTS}
        for table, columns in MOMENTS.items():
            with op.batch_alter_table(table, recreate="always") as batch:
                for column in columns:
                    batch.alter_column(
                        column,
                        type_=sa.Text(),
                        existing_type=sa.String(26),
                        existing_nullable=(table, column) in NULLABLE,
                    )
                for name, _, local, referred, remote in keys[table]:
                    batch.create_foreign_key(name, referred, [local], [remote])
        return
    op.execute("UPDATE papers SET authors = NULL WHERE jsonb_typeof(authors) = 'null'")
    for name, table, local, referred, remote in FOREIGN_KEYS:
        op.create_foreign_key(name, table, referred, [local], [remote])
