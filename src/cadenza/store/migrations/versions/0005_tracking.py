"""experiment tracking: experiments, the experiment of each run, params, metric points,
latest metrics, run tags and datasets; every flow run recorded so far joins the
experiment named after its flow

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 09:00:00.000000
"""

from __future__ import annotations

import time
import uuid

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ID = sa.String(length=36)


def upgrade() -> None:
    experiments = op.create_table(
        "experiments",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiments")),
        sa.UniqueConstraint("name", name=op.f("uq_experiments_name")),
    )
    tracked = op.create_table(
        "tracked_runs",
        sa.Column("run_id", ID, nullable=False),
        sa.Column("experiment_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("flow_run_id", ID, nullable=True),
        sa.Column("created", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_tracked_runs_experiment_id_experiments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_tracked_runs")),
    )
    op.create_index(
        "ix_tracked_runs_experiment_id_run_id", "tracked_runs", ["experiment_id", "run_id"]
    )
    op.create_index("ix_tracked_runs_flow_run_id", "tracked_runs", ["flow_run_id"])
    op.create_table(
        "run_params",
        sa.Column("run_id", ID, nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "key", name=op.f("pk_run_params")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "run_tags",
        sa.Column("run_id", ID, nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "key", name=op.f("pk_run_tags")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "metric_points",
        sa.Column("run_id", ID, nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.Float(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("is_nan", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint(
            "run_id", "key", "step", "timestamp", "value", "is_nan", name=op.f("pk_metric_points")
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "latest_metrics",
        sa.Column("run_id", ID, nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("timestamp", sa.Float(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("is_nan", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "key", name=op.f("pk_latest_metrics")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_latest_metrics_key_value", "latest_metrics", ["key", "value"])
    op.create_table(
        "run_datasets",
        sa.Column("run_id", ID, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("context", sa.String(length=255), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("schema", sa.Text(), nullable=True),
        sa.Column("num_rows", sa.BigInteger(), nullable=True),
        sa.Column("profile", sa.Text(), nullable=True),
        sa.Column("timestamp", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "run_id", "name", "digest", "context", name=op.f("pk_run_datasets")
        ),
        sqlite_with_rowid=False,
    )
    _flow_runs_join_their_flows_experiment(experiments, tracked)


def _experiment_id(name: str) -> str:
    # The same as cadenza.store.tracking_queries.experiment_id_for.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "cadenza:experiment:" + name))


def _flow_runs_join_their_flows_experiment(experiments: sa.Table, tracked: sa.Table) -> None:
    """Every flow run recorded so far belongs to the experiment named after its flow."""
    conn = op.get_bind()
    flows = sa.table("flows", sa.column("id", sa.String), sa.column("name", sa.String))
    runs = sa.table(
        "flow_runs",
        sa.column("id", sa.String),
        sa.column("flow_id", sa.String),
        sa.column("created", sa.Float),
    )
    now = time.time()
    for flow_id, name in conn.execute(sa.select(flows.c.id, flows.c.name)).all():
        experiment_id = _experiment_id(name)
        conn.execute(
            experiments.insert().values(id=experiment_id, name=name, created=now, description=None)
        )
        conn.execute(
            tracked.insert().from_select(
                ["run_id", "experiment_id", "kind", "flow_run_id", "created"],
                sa.select(
                    runs.c.id,
                    sa.literal(experiment_id, ID),
                    sa.literal("flow", sa.String),
                    runs.c.id,
                    runs.c.created,
                ).where(runs.c.flow_id == flow_id),
            )
        )


def downgrade() -> None:
    op.drop_table("run_datasets")
    op.drop_index("ix_latest_metrics_key_value", table_name="latest_metrics")
    op.drop_table("latest_metrics")
    op.drop_table("metric_points")
    op.drop_table("run_tags")
    op.drop_table("run_params")
    op.drop_index("ix_tracked_runs_flow_run_id", table_name="tracked_runs")
    op.drop_index("ix_tracked_runs_experiment_id_run_id", table_name="tracked_runs")
    op.drop_table("tracked_runs")
    op.drop_table("experiments")
