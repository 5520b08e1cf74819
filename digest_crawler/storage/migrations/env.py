"""Alembic's environment: runs on the connection the caller hands over
(``digest_crawler.storage.migrate``), inside the caller's transaction."""

from __future__ import annotations

from alembic import context

from digest_crawler.storage.schema import is_search_object, metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot alter a table in place: Alembic's batch mode copies it.
    render_as_batch=connection.dialect.name == "sqlite",
    # The search index is made by DDL of its own, not declared as tables:
    # autogenerate must not offer to drop it.
    include_name=lambda name, _type, _parents: not is_search_object(name),
)
with context.begin_transaction():
    context.run_migrations()
