"""indexes for listing flow runs by state name, parent and creation time

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 20:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_flow_runs_parent_flow_run_id", table_name="flow_runs")
    op.create_index("ix_flow_runs_parent_flow_run_id_id", "flow_runs", ["parent_flow_run_id", "id"])
    op.create_index("ix_flow_runs_state_name_id", "flow_runs", ["state_name", "id"])
    op.create_index("ix_flow_runs_created", "flow_runs", ["created"])


def downgrade() -> None:
    op.drop_index("ix_flow_runs_created", table_name="flow_runs")
    op.drop_index("ix_flow_runs_state_name_id", table_name="flow_runs")
    op.drop_index("ix_flow_runs_parent_flow_run_id_id", table_name="flow_runs")
    op.create_index("ix_flow_runs_parent_flow_run_id", "flow_runs", ["parent_flow_run_id"])
