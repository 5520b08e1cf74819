"""Schema version 3: when each listing day was first and last read, and
whether it is settled (read on or after its last scheduled refresh).

``listing_days`` is filled from the run ledger: every day some run stored
was read when that run finished it (``crawl_days.finished_at``); a read 14
days or more after the day (the horizon of the default refresh schedule)
settled it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

HORIZON_DAYS = 14


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    moment = sa.Text() if sqlite else sa.DateTime(timezone=True)
    op.create_table(
        "listing_days",
        sa.Column("listing_date", sa.Date, primary_key=True),
        sa.Column("first_read_at", moment, nullable=False),
        sa.Column("last_read_at", moment, nullable=False),
        sa.Column("settled_at", moment),
    )
    # Days apart, by the date of the read (UTC) and the listing date.
    apart = (
        "julianday(substr(finished_at, 1, 10)) - julianday(day)"
        if sqlite
        else "(finished_at AT TIME ZONE 'UTC')::date - day"
    )
    op.execute(
        "INSERT INTO listing_days (listing_date, first_read_at, last_read_at, settled_at)"
        " SELECT day, min(finished_at), max(finished_at),"
        f" min(CASE WHEN {apart} >= {HORIZON_DAYS} THEN finished_at END)"
        " FROM crawl_days WHERE outcome = 'stored' GROUP BY day"
    )
