"""PostgreSQL: the names, versions, keys and paths that users give become TEXT, which
keeps any length as SQLite does (VARCHAR(n) refused longer values, and a long run name
stopped the writer); nothing changes on SQLite

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 20:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# (table, column, its length before)
COLUMNS = [
    ("flows", "name", 255),
    ("flow_runs", "name", 255),
    ("flow_runs", "version", 255),
    ("flow_runs", "entrypoint", 1024),
    ("flow_runs", "idempotency_key", 255),
    ("flow_runs", "state_name", 32),
    ("task_runs", "name", 255),
    ("task_runs", "task_key", 512),
    ("task_runs", "version", 255),
    ("task_runs", "state_name", 32),
    ("logs", "name", 255),
    ("experiments", "name", 255),
    ("deployments", "flow_name", 255),
    ("deployments", "entrypoint", 1024),
    ("deployments", "path", 1024),
    ("deployments", "version", 255),
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # VARCHAR to TEXT needs no rewrite of the table on PostgreSQL, nor of its indexes.
    for table, column, length in COLUMNS:
        op.alter_column(table, column, type_=sa.Text(), existing_type=sa.String(length))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # Longer values are cut to the old length: the old schema cannot hold them.
    for table, column, length in COLUMNS:
        op.alter_column(
            table,
            column,
            type_=sa.String(length),
            existing_type=sa.Text(),
            postgresql_using=f"left({column}, {length})",
        )
