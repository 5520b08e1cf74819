"""Schema version 7: indexes for the readers' orders and filters. The
listing date index also holds ``arxiv_id`` (the export's order, without a
sort); ``published_at`` gets the same; the organization filter reads two
new indexed keys, the name and the handle in lower case (filled here for
the papers stored before; see ``schema.py``); a week's or a
month's list is read in rank order from ``ix_period_listings_rank``. No row
changes. (The keys of names longer than an index row holds are bounded as
version 9 bounds them.)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _key(name: str | None) -> str | None:
    """The key of a name as version 9 makes it (``schema.organization_key``
    then): here too, so that a name longer than an index row holds cannot
    stop this step."""
    if name is None:
        return None
    key = name.lower()
    if len(key) <= 256:
        return key
    return f"{key[:192]}#{hashlib.sha256(key.encode()).hexdigest()}"


def upgrade() -> None:
    op.drop_index("ix_papers_listing_date", table_name="papers")
    op.create_index("ix_papers_listing_date", "papers", ["listing_date", "arxiv_id"])
    op.create_index("ix_papers_published_at", "papers", ["published_at", "arxiv_id"])
    # The organization filter's keys, in Python's (Unicode) lower case,
    # computed here for the papers stored before; the writer keeps them.
    op.add_column("papers", sa.Column("organization_key", sa.Text))
    op.add_column("papers", sa.Column("organization_id_key", sa.Text))
    bind = op.get_bind()
    named = bind.execute(
        sa.text(
            "SELECT arxiv_id, organization, organization_id FROM papers"
            " WHERE organization IS NOT NULL OR organization_id IS NOT NULL"
        )
    ).all()
    if named:
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
                for row in named
            ],
        )
    op.create_index("ix_papers_organization_key", "papers", ["organization_key"])
    op.create_index("ix_papers_organization_id_key", "papers", ["organization_id_key"])
    op.create_index(
        "ix_period_listings_rank",
        "period_listings",
        ["period", "period_start", "rank", "arxiv_id"],
    )
