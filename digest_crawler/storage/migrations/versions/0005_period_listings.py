"""Schema version 5: week and month lists. ``period_listings`` keeps each
paper's rank in each week's or month's list it appears on, with first and
last seen times (like ``listings`` for days); ``crawl_runs.period`` says
what a run's listings are (every run before was of days).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    moment = sa.Text() if op.get_bind().dialect.name == "sqlite" else sa.DateTime(timezone=True)
    op.create_table(
        "period_listings",
        sa.Column("period", sa.String(8), primary_key=True),
        sa.Column("period_start", sa.Date, primary_key=True),
        sa.Column(
            "arxiv_id",
            sa.String(32),
            sa.ForeignKey("papers.arxiv_id", name="fk_period_listings_arxiv_id"),
            primary_key=True,
        ),
        sa.Column("rank", sa.Integer),
        sa.Column("first_seen_at", moment, nullable=False),
        sa.Column("last_seen_at", moment, nullable=False),
    )
    op.create_index("ix_period_listings_arxiv_id", "period_listings", ["arxiv_id"])
    op.add_column(
        "crawl_runs",
        sa.Column("period", sa.String(8), nullable=False, server_default="day"),
    )
