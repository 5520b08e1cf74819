"""Schema version 10: what reparsing the raw answers needs.

- ``crawl_listings.reading_rules``: the version of the reading rules
  (``site.reading.READING_RULES``) that read each listing, so that the days
  an older parser read can be found and read again (``scrapy reparse``).
  NULL for the listings read before this release.
- The upvote snapshots are indexed by paper and moment (``arxiv_id``,
  ``observed_at``, ``id``) instead of paper and insertion order: a read
  stored again at its own moment (by ``scrapy reparse``) finds the snapshot
  before it, which need not be the last one added.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("crawl_listings", sa.Column("reading_rules", sa.Integer))
    op.drop_index("ix_upvote_snapshots_arxiv_id", table_name="upvote_snapshots")
    op.create_index(
        "ix_upvote_snapshots_arxiv_id_observed_at",
        "upvote_snapshots",
        ["arxiv_id", "observed_at", "id"],
    )
