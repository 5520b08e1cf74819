"""Schema version 11: adoption, what cites a paper on the Hub over time.

- ``papers.linked_models``, ``linked_datasets``, ``linked_spaces``: the
  counts the Hub's answer for the paper (``/api/papers/{id}``) gave when
  last asked, and ``adoption_read_at``, when that was. NULL in the papers
  stored before (never asked).
- ``adoption_snapshots``: each change of those counts, at its moment.
- ``adoption_due``: the papers a run is to ask for and has not yet read.

Nothing stored before changes.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

COUNTS = ("linked_models", "linked_datasets", "linked_spaces")


def upgrade() -> None:
    # A moment: ISO 8601 text on SQLite, timestamptz elsewhere (schema.UTCDateTime).
    moment = sa.Text() if op.get_bind().dialect.name == "sqlite" else sa.DateTime(timezone=True)
    for name in COUNTS:
        op.add_column("papers", sa.Column(name, sa.Integer))
    op.add_column("papers", sa.Column("adoption_read_at", moment))
    op.create_table(
        "adoption_snapshots",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "arxiv_id",
            sa.String(32),
            sa.ForeignKey("papers.arxiv_id", name="fk_adoption_snapshots_arxiv_id"),
            nullable=False,
        ),
        sa.Column("observed_at", moment, nullable=False),
        *(sa.Column(name, sa.Integer) for name in COUNTS),
    )
    op.create_index(
        "ix_adoption_snapshots_arxiv_id_observed_at",
        "adoption_snapshots",
        ["arxiv_id", "observed_at", "id"],
    )
    op.create_table(
        "adoption_due",
        sa.Column(
            "arxiv_id",
            sa.String(32),
            sa.ForeignKey("papers.arxiv_id", name="fk_adoption_due_arxiv_id"),
            primary_key=True,
        ),
        sa.Column("due_since", moment, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("reason", sa.Text),
    )
