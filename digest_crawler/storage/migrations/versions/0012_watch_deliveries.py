"""Schema version 12: what the watches delivered (``scrapy watch``).

``watch_deliveries`` keeps one row per watch, destination and paper: sent
in a message the destination accepted, or seen (the older matches recorded
when a watch first ran for a destination), so that a paper is never sent
twice to one destination and one it missed is sent on the next run.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    moment = sa.Text() if op.get_bind().dialect.name == "sqlite" else sa.DateTime(timezone=True)
    op.create_table(
        "watch_deliveries",
        sa.Column("watch", sa.String(64), primary_key=True),
        sa.Column("destination", sa.String(512), primary_key=True),
        sa.Column(
            "arxiv_id",
            sa.String(32),
            sa.ForeignKey("papers.arxiv_id", name="fk_watch_deliveries_arxiv_id"),
            primary_key=True,
        ),
        sa.Column("delivered_at", moment, nullable=False),
        sa.Column("how", sa.String(8), nullable=False),
    )
