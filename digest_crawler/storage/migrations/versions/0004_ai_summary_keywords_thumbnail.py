"""Schema version 4: the fields the site gives that were not kept: the
paper's ``ai_summary`` and ``ai_keywords`` (where the site made them) and
the listing's ``thumbnail``. NULL in papers stored before (not known), and a
NULL never overwrites: the next read of a paper fills them in.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json_list = sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )
    op.add_column("papers", sa.Column("ai_summary", sa.Text))
    op.add_column("papers", sa.Column("ai_keywords", json_list))
    op.add_column("papers", sa.Column("thumbnail", sa.Text))
