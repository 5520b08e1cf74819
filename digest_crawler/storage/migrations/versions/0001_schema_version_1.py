"""Schema version 1: the archive as released before migrations existed.

Archives made then have no ``alembic_version`` table; they are stamped with
this revision and upgraded from it.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _moment() -> sa.types.TypeEngine[Any]:
    # Version 1 kept moments as naive UTC text on SQLite (VARCHAR(26)).
    return sa.DateTime(timezone=True) if op.get_bind().dialect.name != "sqlite" else sa.String(26)


def upgrade() -> None:
    json_list = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    op.create_table(
        "papers",
        sa.Column("arxiv_id", sa.String(32), primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("abstract", sa.Text),
        sa.Column("authors", json_list),
        sa.Column("author_count", sa.Integer),
        sa.Column("organization", sa.Text),
        sa.Column("organization_id", sa.Text),
        sa.Column("published_at", sa.Date),
        sa.Column("listing_date", sa.Date, nullable=False),
        sa.Column("submitted_at", _moment()),
        sa.Column("upvotes", sa.Integer, nullable=False),
        sa.Column("num_comments", sa.Integer),
        sa.Column("github_repo", sa.Text),
        sa.Column("github_stars", sa.Integer),
        sa.Column("project_page", sa.Text),
        sa.Column("submitted_by", sa.Text),
        sa.Column("scraped_at", _moment(), nullable=False),
        sa.Column("first_seen_at", _moment(), nullable=False),
        sa.Column("last_seen_at", _moment(), nullable=False),
        sa.Column("changed_at", _moment(), nullable=False),
    )
    op.create_index("ix_papers_listing_date", "papers", ["listing_date"])
    op.create_index("ix_papers_changed_at", "papers", ["changed_at"])
    op.create_table(
        "rejected_items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("arxiv_id", sa.String(64)),
        sa.Column("page_url", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("rejected_at", _moment(), nullable=False),
    )
    op.create_table(
        "listings",
        sa.Column("listing_date", sa.Date, primary_key=True),
        sa.Column("arxiv_id", sa.String(32), primary_key=True),
        sa.Column("rank", sa.Integer),
        sa.Column("first_seen_at", _moment(), nullable=False),
        sa.Column("last_seen_at", _moment(), nullable=False),
    )
    op.create_index("ix_listings_arxiv_id", "listings", ["arxiv_id"])
    op.create_table(
        "upvote_snapshots",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("arxiv_id", sa.String(32), nullable=False),
        sa.Column("observed_at", _moment(), nullable=False),
        sa.Column("upvotes", sa.Integer, nullable=False),
        sa.Column("num_comments", sa.Integer),
        sa.Column("github_stars", sa.Integer),
    )
    op.create_index("ix_upvote_snapshots_arxiv_id", "upvote_snapshots", ["arxiv_id", "id"])
    op.create_table(
        "crawl_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("spider", sa.String(64), nullable=False),
        sa.Column("arguments", sa.Text, nullable=False),
        sa.Column("first_day", sa.Date, nullable=False),
        sa.Column("last_day", sa.Date, nullable=False),
        sa.Column("started_at", _moment(), nullable=False),
        sa.Column("finished_at", _moment()),
        sa.Column("days_requested", sa.Integer, nullable=False),
        sa.Column("days_served", sa.Integer),
        sa.Column("days_no_digest", sa.Integer),
        sa.Column("days_failed", sa.Integer),
        sa.Column("items_stored", sa.Integer),
        sa.Column("papers_new", sa.Integer),
        sa.Column("papers_updated", sa.Integer),
        sa.Column("items_rejected", sa.Integer),
        sa.Column("finish_reason", sa.String(64)),
        sa.Column("complete", sa.Boolean, nullable=False),
        sa.Column("resumed_by", sa.Integer),
    )
    op.create_table(
        "crawl_days",
        sa.Column("run_id", sa.Integer, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("papers", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("url", sa.Text),
        sa.Column("finished_at", _moment(), nullable=False),
        sa.Column("carried_over", sa.Boolean, nullable=False),
    )
