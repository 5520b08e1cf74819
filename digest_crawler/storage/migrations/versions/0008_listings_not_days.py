"""Schema version 8: the run ledger names listings (a day's, a week's or a
month's list) where it meant them, not days.

- ``crawl_days`` becomes ``crawl_listings``, its ``day`` column ``listing``
  (the listing's first day), its foreign key ``fk_crawl_listings_run_id``.
- ``crawl_runs``: ``first_day``/``last_day`` become ``first_listing``/
  ``last_listing``, and ``days_requested``, ``days_served``,
  ``days_no_digest``, ``days_failed`` become ``listings_...``.

Every row is kept: the tables and columns are renamed, not copied (SQLite
recreates ``crawl_listings`` to rename its foreign key, copying its rows).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

RUN_COLUMNS = {
    "first_day": "first_listing",
    "last_day": "last_listing",
    "days_requested": "listings_requested",
    "days_served": "listings_served",
    "days_no_digest": "listings_no_digest",
    "days_failed": "listings_failed",
}


def upgrade() -> None:
    op.rename_table("crawl_days", "crawl_listings")
    op.alter_column("crawl_listings", "day", new_column_name="listing")
    for old, new in RUN_COLUMNS.items():
        op.alter_column("crawl_runs", old, new_column_name=new)
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("crawl_listings", recreate="always") as batch:
            batch.drop_constraint("fk_crawl_days_run_id", type_="foreignkey")
            batch.create_foreign_key("fk_crawl_listings_run_id", "crawl_runs", ["run_id"], ["id"])
        return
    op.execute(
        "ALTER TABLE crawl_listings RENAME CONSTRAINT fk_crawl_days_run_id"
        " TO fk_crawl_listings_run_id"
    )
    op.execute(
        "ALTER TABLE crawl_listings RENAME CONSTRAINT crawl_days_pkey TO crawl_listings_pkey"
    )
