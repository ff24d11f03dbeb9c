"""Tables of the run store (SQLAlchemy Core), shared by SQLite and PostgreSQL.

Timestamps are seconds since the epoch (float). JSON values (parameters, tags,
inputs, state history) are stored as text written by cadenza, so both dialects
store and return them the same way. Ids are time-ordered UUIDv7 strings: newest
first is ``ORDER BY id DESC``.

Any change here needs an Alembic migration in ``migrations/versions`` and a new
``SCHEMA_VERSION``; ``tests/store/test_migrations.py`` checks that they agree.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

SCHEMA_VERSION = "0004"
"""The Alembic revision this version of cadenza reads and writes."""

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = sa.String(36)
BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _state_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("state_type", sa.String(16)),
        sa.Column("state_name", sa.String(32)),
        sa.Column("state_message", sa.Text),
        sa.Column("state_timestamp", sa.Float),
        sa.Column("run_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("start_time", sa.Float),
        sa.Column("end_time", sa.Float),
        # Every state the run went through, as a JSON array. NULL stands for the
        # usual Pending -> Running -> Completed path with no messages, which the
        # columns above hold already (created, start_time, end_time): most task runs.
        sa.Column("history", sa.Text),
    ]


flows = sa.Table(
    "flows",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("created", sa.Float, nullable=False),
)

flow_runs = sa.Table(
    "flow_runs",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("flow_id", ID, sa.ForeignKey("flows.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("parameters", sa.Text, nullable=False, server_default="{}"),
    sa.Column("tags", sa.Text, nullable=False, server_default="[]"),
    sa.Column("parent_flow_run_id", ID),
    sa.Column("parent_task_run_id", ID),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("version", sa.String(255)),
    sa.Column("hostname", sa.String(255)),
    sa.Column("pid", sa.Integer),
    *_state_columns(),
    # Where the flow function lives ("path/to/file.py:function" or "module:function"),
    # to run it again; NULL in runs of schema 0002 and older.
    sa.Column("entrypoint", sa.String(1024)),
    # Each index ends with the id, so that a filter on its first column gives the runs
    # in id order (newest or oldest first) without sorting them.
    sa.Index(None, "flow_id", "id"),
    sa.Index(None, "state_type", "id"),
    sa.Index(None, "state_name", "id"),
    sa.Index(None, "parent_flow_run_id", "id"),
    # Counting runs by state over a time range (the dashboard) reads this index alone.
    sa.Index(None, "created", "state_type"),
)

flow_run_tags = sa.Table(
    "flow_run_tags",
    metadata,
    # One row per tag of a flow run (the tags are also in flow_runs.tags): filtering by
    # tag reads the runs of that tag from the primary key, in id order.
    sa.Column("tag", sa.Text, primary_key=True),
    sa.Column(
        "flow_run_id",
        ID,
        sa.ForeignKey("flow_runs.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)

task_runs = sa.Table(
    "task_runs",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("flow_run_id", ID, sa.ForeignKey("flow_runs.id", ondelete="CASCADE")),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("task_key", sa.String(512), nullable=False),
    sa.Column("dynamic_key", sa.Integer, nullable=False, server_default="0"),
    sa.Column("kind", sa.String(16), nullable=False, server_default="task"),
    sa.Column("subflow_run_id", ID),
    sa.Column("parent_task_run_id", ID),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("version", sa.String(255)),
    sa.Column("tags", sa.Text, nullable=False, server_default="[]"),
    sa.Column("inputs", sa.Text),
    *_state_columns(),
    sa.Index(None, "flow_run_id", "id"),
)

logs = sa.Table(
    "logs",
    metadata,
    sa.Column("id", BigIntId, primary_key=True, autoincrement=True),
    sa.Column("flow_run_id", ID),
    sa.Column("task_run_id", ID),
    sa.Column("level", sa.Integer, nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("timestamp", sa.Float, nullable=False),
    # A digest of the line (runs, level, logger, message, and which of several alike
    # lines of its batch it is): with the timestamp, the line's identity, so that a
    # batch delivered twice records its lines once. NULL in lines of schema 0001.
    sa.Column("dedup_key", sa.BigInteger),
    sa.Index(None, "flow_run_id", "id"),
    sa.Index(None, "task_run_id"),
    sa.Index(None, "timestamp", "dedup_key", unique=True),
)

artifacts = sa.Table(
    "artifacts",
    metadata,
    sa.Column("id", ID, primary_key=True),
    # Artifacts with the same key are versions of one artifact, newest (highest id)
    # first; NULL for artifacts without a key.
    sa.Column("key", sa.String(255)),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("data", sa.Text, nullable=False),
    # No foreign keys: an artifact may belong to no run, and one whose run is not in
    # this database is kept.
    sa.Column("flow_run_id", ID),
    sa.Column("task_run_id", ID),
    sa.Column("created", sa.Float, nullable=False),
    sa.Index(None, "key", "id"),
    sa.Index(None, "flow_run_id"),
)

alembic_version = sa.Table(
    "alembic_version",
    sa.MetaData(),
    sa.Column("version_num", sa.String(32), primary_key=True),
)
