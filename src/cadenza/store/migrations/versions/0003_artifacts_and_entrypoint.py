"""artifacts; flow runs remember their entrypoint

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 19:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "artifacts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=True),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("flow_run_id", sa.String(length=36), nullable=True),
        sa.Column("task_run_id", sa.String(length=36), nullable=True),
        sa.Column("created", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_artifacts")),
    )
    with op.batch_alter_table("artifacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_artifacts_key_id"), ["key", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_artifacts_flow_run_id"), ["flow_run_id"], unique=False)
    with op.batch_alter_table("flow_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entrypoint", sa.String(length=1024), nullable=True))


def downgrade() -> None:
    # Not in batch mode: on SQLite that copies the table and drops the original, which
    # with foreign keys on deletes the task runs of every flow run (ON DELETE CASCADE).
    # ALTER TABLE ... DROP COLUMN needs SQLite 3.35 or newer.
    op.drop_column("flow_runs", "entrypoint")
    with op.batch_alter_table("artifacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_artifacts_flow_run_id"))
        batch_op.drop_index(batch_op.f("ix_artifacts_key_id"))
    op.drop_table("artifacts")
