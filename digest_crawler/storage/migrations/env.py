"""Alembic's environment: runs on the connection the caller hands over
(``digest_crawler.storage.migrate``), inside the caller's transaction."""

from __future__ import annotations

from alembic import context

from digest_crawler.storage.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot alter a table in place: Alembic's batch mode copies it.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
