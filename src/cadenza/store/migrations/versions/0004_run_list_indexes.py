"""flow run tags in a table of their own; indexes for listing flow runs by state
name, parent and creation time

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 20:30:00.000000
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_BATCH = 5000


def upgrade() -> None:
    op.drop_index("ix_flow_runs_parent_flow_run_id", table_name="flow_runs")
    op.create_index("ix_flow_runs_parent_flow_run_id_id", "flow_runs", ["parent_flow_run_id", "id"])
    op.create_index("ix_flow_runs_state_name_id", "flow_runs", ["state_name", "id"])
    op.create_index("ix_flow_runs_created_state_type", "flow_runs", ["created", "state_type"])
    tags = op.create_table(
        "flow_run_tags",
        sa.Column("tag", sa.Text(), nullable=False),
        sa.Column("flow_run_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["flow_run_id"],
            ["flow_runs.id"],
            name=op.f("fk_flow_run_tags_flow_run_id_flow_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tag", "flow_run_id", name=op.f("pk_flow_run_tags")),
    )
    _copy_tags(tags)


def _copy_tags(tags: sa.Table) -> None:
    """One row per tag of every flow run recorded so far (read from flow_runs.tags)."""
    conn = op.get_bind()
    runs = sa.table("flow_runs", sa.column("id", sa.String), sa.column("tags", sa.Text))
    found = conn.execute(sa.select(runs.c.id, runs.c.tags).where(runs.c.tags != "[]"))
    batch: list[dict[str, str]] = []
    for run_id, text in found:
        try:
            values = json.loads(text)
        except ValueError:
            continue
        if isinstance(values, list):
            unique = dict.fromkeys(t for t in values if isinstance(t, str))
            batch += [{"tag": t, "flow_run_id": run_id} for t in unique]
        if len(batch) >= _BATCH:
            conn.execute(tags.insert(), batch)
            batch = []
    if batch:
        conn.execute(tags.insert(), batch)


def downgrade() -> None:
    op.drop_table("flow_run_tags")
    op.drop_index("ix_flow_runs_created_state_type", table_name="flow_runs")
    op.drop_index("ix_flow_runs_state_name_id", table_name="flow_runs")
    op.drop_index("ix_flow_runs_parent_flow_run_id_id", table_name="flow_runs")
    op.create_index("ix_flow_runs_parent_flow_run_id", "flow_runs", ["parent_flow_run_id"])
