"""Schema version 11: adoption, what cites a paper on the Hub over time.

- ``papers.linked_models``, ``linked_datasets``, ``linked_spaces``: the
  counts the Hub's answer for the paper (``/api/papers/{id}``) gave when
  last asked, and ``adoption_read_at``, when that was. NULL in the papers
  stored before (never asked).
- ``adoption_snapshots``: each change of those counts, at its moment.
- ``adoption_due``: the papers a run is to ask for and has not yet read.
- On SQLite, the lists (``authors``, ``ai_keywords``) are kept as JSON of
  their letters as they are (``engine.json_text``), no longer ``\\u``
  escapes: the full-text index read "M\\u00fcller", and a search for
  "Müller" found nothing. Each such list is written again (the same value),
  and the index's trigger indexes it anew.

Nothing stored before is lost or changes value.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import json
from typing import Any

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

    if op.get_bind().dialect.name == "sqlite":
        _letters_as_they_are(op.get_bind())


def _json_text(value: Any) -> str:
    """JSON of ``value`` with only what UTF-8 cannot hold (a lone surrogate) escaped."""
    text = json.dumps(value, ensure_ascii=False)
    return "".join(
        f"\\u{ord(character):04x}" if 0xD800 <= ord(character) <= 0xDFFF else character
        for character in text
    )


def _letters_as_they_are(connection: sa.Connection) -> None:
    """Write again each list that escapes a letter (``\\u``), as its letters."""
    for column in ("authors", "ai_keywords"):
        rows = connection.exec_driver_sql(
            f"SELECT rowid, {column} FROM papers WHERE instr({column}, '\\u') > 0"
        ).fetchall()
        for rowid, text in rows:
            try:
                value = json.loads(text)
            except ValueError:  # not JSON (another tool's): left as it is
                continue
            again = _json_text(value)
            if again != text:
                connection.exec_driver_sql(
                    f"UPDATE papers SET {column} = ? WHERE rowid = ?", (again, rowid)
                )
