"""Schema version 7: indexes for the readers' orders and filters. The
listing date index also holds ``arxiv_id`` (the export's order, without a
sort); ``published_at`` gets the same; ``lower(organization)`` and
``lower(organization_id)`` serve the organization filter on PostgreSQL
(SQLite's lower() is not the reader's: see ``schema.py``); a week's or a
month's list is read in rank order from ``ix_period_listings_rank``. No row
changes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_papers_listing_date", table_name="papers")
    op.create_index("ix_papers_listing_date", "papers", ["listing_date", "arxiv_id"])
    op.create_index("ix_papers_published_at", "papers", ["published_at", "arxiv_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_papers_organization_lower", "papers", [sa.text("lower(organization)")])
        op.create_index(
            "ix_papers_organization_id_lower", "papers", [sa.text("lower(organization_id)")]
        )
    op.create_index(
        "ix_period_listings_rank",
        "period_listings",
        ["period", "period_start", "rank", "arxiv_id"],
    )
