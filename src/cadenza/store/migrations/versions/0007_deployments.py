"""deployments and their schedules, work pools and queues, workers, concurrency
limits; flow runs of deployments

Revision ID: 0007
Revises: 0004
Create Date: 2026-11-24 10:00:00.000000
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = sa.String(length=36)
_FLOW_RUN_COLUMNS: list[tuple[str, Any]] = [
    ("deployment_id", _ID),
    ("work_pool_name", sa.String(length=255)),
    ("work_queue_name", sa.String(length=255)),
    ("expected_start_time", sa.Float()),
    ("idempotency_key", sa.String(length=255)),
    ("worker_id", _ID),
    ("heartbeat", sa.Float()),
]
_FLOW_RUN_INDEXES = [
    ("ix_flow_runs_state_type_expected_start_time", ["state_type", "expected_start_time"], False),
    ("ix_flow_runs_work_pool_name_state_type", ["work_pool_name", "state_type"], False),
    (
        "ix_flow_runs_deployment_id_expected_start_time",
        ["deployment_id", "expected_start_time"],
        False,
    ),
    ("ix_flow_runs_deployment_id_idempotency_key", ["deployment_id", "idempotency_key"], True),
]


def upgrade() -> None:
    # Columns added without batch mode: on SQLite, batch mode copies the table, and
    # dropping the old one would delete the task runs of every flow run (ON DELETE
    # CASCADE). ALTER TABLE ... ADD COLUMN keeps the rows where they are.
    for name, type_ in _FLOW_RUN_COLUMNS:
        op.add_column("flow_runs", sa.Column(name, type_, nullable=True))
    for index, columns, unique in _FLOW_RUN_INDEXES:
        op.create_index(index, "flow_runs", columns, unique=unique)

    op.create_table(
        "deployments",
        sa.Column("id", _ID, nullable=False),
        sa.Column("flow_name", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("entrypoint", sa.String(length=1024), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=True),
        sa.Column("parameters", sa.Text(), server_default="{}", nullable=False),
        sa.Column("parameter_schema", sa.Text(), server_default="{}", nullable=False),
        sa.Column("work_pool_name", sa.String(length=255), nullable=False),
        sa.Column(
            "work_queue_name", sa.String(length=255), server_default="default", nullable=False
        ),
        sa.Column("tags", sa.Text(), server_default="[]", nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("version", sa.String(length=255), nullable=True),
        sa.Column("paused", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("concurrency_limit", sa.Integer(), nullable=True),
        sa.Column("catchup", sa.String(length=16), server_default="all", nullable=False),
        sa.Column("flow_retries", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("updated", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployments")),
        sa.UniqueConstraint("flow_name", "name", name=op.f("uq_deployments_flow_name")),
    )
    op.create_index("ix_deployments_work_pool_name", "deployments", ["work_pool_name"])
    op.create_table(
        "deployment_schedules",
        sa.Column("id", _ID, nullable=False),
        sa.Column("deployment_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("expression", sa.Text(), nullable=False),
        sa.Column("anchor", sa.Float(), nullable=True),
        sa.Column("timezone", sa.String(length=64), server_default="UTC", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name=op.f("fk_deployment_schedules_deployment_id_deployments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment_schedules")),
    )
    op.create_index(
        "ix_deployment_schedules_deployment_id", "deployment_schedules", ["deployment_id"]
    )
    op.create_table(
        "work_pools",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("paused", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("concurrency_limit", sa.Integer(), nullable=True),
        sa.Column("created", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_work_pools")),
    )
    op.create_table(
        "work_queues",
        sa.Column("pool_name", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("priority", sa.Integer(), server_default="1", nullable=False),
        sa.Column("concurrency_limit", sa.Integer(), nullable=True),
        sa.Column("paused", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pool_name"],
            ["work_pools.name"],
            name=op.f("fk_work_queues_pool_name_work_pools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pool_name", "name", name=op.f("pk_work_queues")),
    )
    op.create_table(
        "workers",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("pool_name", sa.String(length=255), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("started", sa.Float(), nullable=False),
        sa.Column("last_heartbeat", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
    )
    op.create_index(
        "ix_workers_pool_name_last_heartbeat", "workers", ["pool_name", "last_heartbeat"]
    )
    op.create_table(
        "concurrency_limits",
        sa.Column("tag", sa.String(length=255), nullable=False),
        sa.Column("limit", sa.Integer(), nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("tag", name=op.f("pk_concurrency_limits")),
    )
    op.create_table(
        "concurrency_slots",
        sa.Column("tag", sa.String(length=255), nullable=False),
        sa.Column("holder", _ID, nullable=False),
        sa.Column("acquired", sa.Float(), nullable=False),
        sa.Column("expires", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tag"],
            ["concurrency_limits.tag"],
            name=op.f("fk_concurrency_slots_tag_concurrency_limits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tag", "holder", name=op.f("pk_concurrency_slots")),
    )


def downgrade() -> None:
    op.drop_table("concurrency_slots")
    op.drop_table("concurrency_limits")
    op.drop_index("ix_workers_pool_name_last_heartbeat", table_name="workers")
    op.drop_table("workers")
    op.drop_table("work_queues")
    op.drop_table("work_pools")
    op.drop_index("ix_deployment_schedules_deployment_id", table_name="deployment_schedules")
    op.drop_table("deployment_schedules")
    op.drop_index("ix_deployments_work_pool_name", table_name="deployments")
    op.drop_table("deployments")
    for index, _, _ in reversed(_FLOW_RUN_INDEXES):
        op.drop_index(index, table_name="flow_runs")
    # Not in batch mode, for the reason given in upgrade (needs SQLite 3.35 or newer).
    for name, _ in reversed(_FLOW_RUN_COLUMNS):
        op.drop_column("flow_runs", name)
