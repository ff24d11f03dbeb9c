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

SCHEMA_VERSION = "0009"
"""The Alembic revision this version of cadenza reads and writes."""

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def Str(length: int) -> sa.types.TypeEngine[str]:
    """``VARCHAR(length)``, compared and sorted bytewise on every database: SQLite
    compares text so (its ``BINARY`` collation), and on PostgreSQL the column has the
    ``"C"`` collation (schema 0009) whatever the database's default. Ids, names and
    keys thus sort, page and match by prefix the same everywhere (under a collation
    such as en-US, ``-`` and ``:`` sort before digits and ``B`` after ``a``)."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def UserText(length: int) -> sa.types.TypeEngine[str]:
    """A text users give without a limit (a name, a version, a path): ``VARCHAR(length)``
    on SQLite, which keeps any length, and ``TEXT`` (bytewise, as :func:`Str`) on
    PostgreSQL (schema 0009), which would refuse a longer value and stop the writer."""
    return sa.String(length).with_variant(sa.Text(collation="C"), "postgresql")


ID = Str(36)
BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _state_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("state_type", Str(16)),
        sa.Column("state_name", UserText(32)),
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
    sa.Column("name", UserText(255), nullable=False, unique=True),
    sa.Column("created", sa.Float, nullable=False),
)

flow_runs = sa.Table(
    "flow_runs",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("flow_id", ID, sa.ForeignKey("flows.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", UserText(255), nullable=False),
    sa.Column("parameters", sa.Text, nullable=False, server_default="{}"),
    sa.Column("tags", sa.Text, nullable=False, server_default="[]"),
    sa.Column("parent_flow_run_id", ID),
    sa.Column("parent_task_run_id", ID),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("version", UserText(255)),
    sa.Column("hostname", Str(255)),
    sa.Column("pid", sa.Integer),
    *_state_columns(),
    # Where the flow function lives ("path/to/file.py:function" or "module:function"),
    # to run it again; NULL in runs of schema 0002 and older.
    sa.Column("entrypoint", UserText(1024)),
    # Runs of a deployment (schema 0007): which deployment, pool and queue they belong
    # to, when they are due (the scheduled time), the key that makes the scheduler's
    # inserts idempotent, the worker that claimed them and its last sign of life.
    sa.Column("deployment_id", ID),
    sa.Column("work_pool_name", Str(255)),
    sa.Column("work_queue_name", Str(255)),
    sa.Column("expected_start_time", sa.Float),
    sa.Column("idempotency_key", UserText(255)),
    sa.Column("worker_id", ID),
    sa.Column("heartbeat", sa.Float),
    # Each index ends with the id, so that a filter on its first column gives the runs
    # in id order (newest or oldest first) without sorting them.
    sa.Index(None, "flow_id", "id"),
    sa.Index(None, "state_type", "id"),
    sa.Index(None, "state_name", "id"),
    sa.Index(None, "parent_flow_run_id", "id"),
    # Counting runs by state over a time range (the dashboard) reads this index alone.
    sa.Index(None, "created", "state_type"),
    # Claiming and late marking: due Scheduled runs, oldest due first.
    sa.Index(None, "state_type", "expected_start_time"),
    # Concurrency limits of pools: the active runs of a pool.
    sa.Index(None, "work_pool_name", "state_type"),
    # A deployment's upcoming runs.
    sa.Index(None, "deployment_id", "expected_start_time"),
    # Two schedulers inserting the same run of a deployment insert it once; runs
    # without a deployment (NULL) are never in conflict.
    sa.Index(None, "deployment_id", "idempotency_key", unique=True),
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
    sa.Column("name", UserText(255), nullable=False),
    sa.Column("task_key", UserText(512), nullable=False),
    sa.Column("dynamic_key", sa.Integer, nullable=False, server_default="0"),
    sa.Column("kind", Str(16), nullable=False, server_default="task"),
    sa.Column("subflow_run_id", ID),
    sa.Column("parent_task_run_id", ID),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("version", UserText(255)),
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
    sa.Column("name", UserText(255), nullable=False),
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
    sa.Column("key", Str(255)),
    sa.Column("type", Str(16), nullable=False),
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

# -- tracking: experiments, and what runs logged (see cadenza.store.tracking_sql) ---------
# A "run" is a flow run or a task run: ``run_id`` is an id of either table. No foreign
# keys to them, as a run id can be of one or the other.

experiments = sa.Table(
    "experiments",
    metadata,
    # Derived from the name (experiment_id_for), the same in every database.
    sa.Column("id", ID, primary_key=True),
    # The experiment of a flow's runs is named after the flow: as long as its name.
    sa.Column("name", UserText(255), nullable=False, unique=True),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("description", sa.Text),
)

tracked_runs = sa.Table(
    "tracked_runs",
    metadata,
    # The experiment of every flow run, and of every task run that logged something.
    sa.Column("run_id", ID, primary_key=True),
    sa.Column(
        "experiment_id",
        ID,
        sa.ForeignKey("experiments.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("kind", Str(8), nullable=False),  # flow | task
    # The flow run of a task run (NULL outside any flow); a flow run's own id.
    sa.Column("flow_run_id", ID),
    sa.Column("created", sa.Float, nullable=False),
    # The runs of an experiment in id order (newest first), without sorting.
    sa.Index(None, "experiment_id", "run_id"),
    sa.Index(None, "flow_run_id"),
)

run_params = sa.Table(
    "run_params",
    metadata,
    sa.Column("run_id", ID, primary_key=True),
    sa.Column("key", Str(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sqlite_with_rowid=False,
)

run_tags = sa.Table(
    "run_tags",
    metadata,
    sa.Column("run_id", ID, primary_key=True),
    sa.Column("key", Str(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    # When the value was set: a later value wins, also when batches arrive again.
    sa.Column("updated", sa.Float, nullable=False),
    sqlite_with_rowid=False,
)

metric_points = sa.Table(
    "metric_points",
    metadata,
    # Every point logged. The key is the whole point, so that a point recorded again
    # (a batch delivered twice) is one point. NaN is stored as value 0 with is_nan.
    sa.Column("run_id", ID, primary_key=True),
    sa.Column("key", Str(250), primary_key=True),
    sa.Column("step", sa.BigInteger, primary_key=True),
    sa.Column("timestamp", sa.Float, primary_key=True),
    sa.Column("value", sa.Float, primary_key=True),
    sa.Column("is_nan", sa.Boolean, primary_key=True),
    sqlite_with_rowid=False,
)

latest_metrics = sa.Table(
    "latest_metrics",
    metadata,
    # The point of the highest step (then timestamp, then value) of each metric of a
    # run: what search filters and sorts on, without reading the history.
    sa.Column("run_id", ID, primary_key=True),
    sa.Column("key", Str(250), primary_key=True),
    sa.Column("value", sa.Float),  # NULL for NaN
    sa.Column("timestamp", sa.Float, nullable=False),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Column("is_nan", sa.Boolean, nullable=False),
    sa.Index(None, "key", "value"),
    sqlite_with_rowid=False,
)

run_datasets = sa.Table(
    "run_datasets",
    metadata,
    sa.Column("run_id", ID, primary_key=True),
    sa.Column("name", Str(255), primary_key=True),
    sa.Column("digest", Str(64), primary_key=True),
    sa.Column("context", Str(255), primary_key=True),  # "" when not given
    sa.Column("source", sa.Text),
    sa.Column("schema", sa.Text),  # JSON: {column: dtype}
    sa.Column("num_rows", sa.BigInteger),
    sa.Column("profile", sa.Text),  # JSON
    sa.Column("timestamp", sa.Float, nullable=False),
    sqlite_with_rowid=False,
)


# -- the model registry ---------------------------------------------------------------
registered_models = sa.Table(
    "registered_models",
    metadata,
    sa.Column("name", Str(255), primary_key=True),
    sa.Column("description", sa.Text),
    # The highest version number ever given: versions are numbered from it, in the
    # transaction that creates them, and a deleted version's number is not given again.
    sa.Column("last_version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
)

registered_model_tags = sa.Table(
    "registered_model_tags",
    metadata,
    sa.Column(
        "name",
        Str(255),
        sa.ForeignKey("registered_models.name", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("key", Str(255), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

model_versions = sa.Table(
    "model_versions",
    metadata,
    sa.Column(
        "name",
        Str(255),
        sa.ForeignKey("registered_models.name", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("source", sa.Text, nullable=False),
    # No foreign keys to the runs: a run reported in batches may reach the database
    # after the model it logged, and a server may hold models of runs it never saw.
    sa.Column("run_id", ID),
    sa.Column("flow_run_id", ID),
    sa.Column("status", Str(32), nullable=False, server_default="READY"),
    sa.Column("stage", Str(32), nullable=False, server_default="None"),
    sa.Column("description", sa.Text),
    sa.Column("code_version", Str(255)),
    sa.Column("signature", sa.Text),
    sa.Column("user_id", Str(255)),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
    sa.Index(None, "run_id"),
    sa.Index(None, "flow_run_id"),
)

model_version_tags = sa.Table(
    "model_version_tags",
    metadata,
    sa.Column("name", Str(255), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("key", Str(255), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.ForeignKeyConstraint(
        ["name", "version"],
        ["model_versions.name", "model_versions.version"],
        ondelete="CASCADE",
    ),
)

registered_model_aliases = sa.Table(
    "registered_model_aliases",
    metadata,
    sa.Column("name", Str(255), primary_key=True),
    sa.Column("alias", Str(255), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.ForeignKeyConstraint(
        ["name", "version"],
        ["model_versions.name", "model_versions.version"],
        ondelete="CASCADE",
    ),
)

model_transitions = sa.Table(
    "model_transitions",
    metadata,
    sa.Column("id", BigIntId, primary_key=True, autoincrement=True),
    sa.Column(
        "name",
        Str(255),
        sa.ForeignKey("registered_models.name", ondelete="CASCADE"),
        nullable=False,
    ),
    # Kept when the version is deleted: it is history.
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("kind", Str(16), nullable=False),
    sa.Column("alias", Str(255)),
    sa.Column("from_value", Str(255)),
    sa.Column("to_value", Str(255)),
    sa.Column("user_id", Str(255)),
    sa.Column("comment", sa.Text),
    sa.Column("timestamp", sa.Float, nullable=False),
    sa.Index(None, "name", "id"),
)

logged_models = sa.Table(
    "logged_models",
    metadata,
    sa.Column("run_id", ID, primary_key=True),
    sa.Column("artifact_path", Str(512), primary_key=True),
    sa.Column("flow_run_id", ID),
    sa.Column("flavors", sa.Text, nullable=False, server_default="[]"),
    sa.Column("signature", sa.Text),
    sa.Column("requirements", sa.Text, nullable=False, server_default="[]"),
    sa.Column("code_version", Str(255)),
    sa.Column("created", sa.Float, nullable=False),
    sa.Index(None, "flow_run_id"),
)

# -- notifications -------------------------------------------------------------------------
# The automations service follows flow runs by the timestamp of their current state.
sa.Index(None, flow_runs.c.state_timestamp)

notification_channels = sa.Table(
    "notification_channels",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", Str(100), nullable=False, unique=True),
    sa.Column("type", Str(16), nullable=False),
    # The settings that are not secret, as JSON.
    sa.Column("config", sa.Text, nullable=False, server_default="{}"),
    # The secrets by field, as JSON: "env:NAME" references, or values encrypted with
    # the server's key ("fernet:..."); never a value in clear.
    sa.Column("secrets", sa.Text, nullable=False, server_default="{}"),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
)

automations = sa.Table(
    "automations",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", Str(100), nullable=False, unique=True),
    sa.Column("description", sa.Text),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("trigger", sa.Text, nullable=False),
    # The names of the channels to notify, as a JSON array.
    sa.Column("channels", sa.Text, nullable=False, server_default="[]"),
    sa.Column("subject", sa.Text),
    sa.Column("body", sa.Text),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
)

notification_outbox = sa.Table(
    "notification_outbox",
    metadata,
    sa.Column("id", ID, primary_key=True),
    # Who asked, the channel, the run and the transition: one message per key, so that
    # a transition evaluated twice is notified once (inserts of a known key are skipped).
    sa.Column("dedup_key", Str(512), nullable=False, unique=True),
    sa.Column("channel", Str(100), nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("context", sa.Text, nullable=False, server_default="{}"),
    sa.Column("event", Str(32), nullable=False),
    sa.Column("source", Str(16), nullable=False),
    # No foreign keys: a message outlives its automation, and may be about a run of
    # another database (a hook of a process reporting elsewhere).
    sa.Column("flow_run_id", ID),
    sa.Column("automation_id", ID),
    sa.Column("automation_name", Str(100)),
    sa.Column("status", Str(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("next_attempt_at", sa.Float, nullable=False),
    # A sender holds a message it is delivering until then; after it, another may.
    sa.Column("lease_until", sa.Float),
    sa.Column("sent_at", sa.Float),
    sa.Column("last_error", sa.Text),
    sa.Index(None, "status", "next_attempt_at"),
    sa.Index(None, "flow_run_id"),
    sa.Index(None, "automation_id", "id"),
    sa.Index(None, "channel", "id"),
)

notification_attempts = sa.Table(
    "notification_attempts",
    metadata,
    sa.Column("id", BigIntId, primary_key=True, autoincrement=True),
    sa.Column(
        "message_id",
        ID,
        sa.ForeignKey("notification_outbox.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("timestamp", sa.Float, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("duration", sa.Float),
    sa.Index(None, "message_id", "id"),
)

notification_cursors = sa.Table(
    "notification_cursors",
    metadata,
    # How far a follower of flow-run states has read (the automations service).
    sa.Column("name", Str(64), primary_key=True),
    sa.Column("position", sa.Float, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
)

notification_marks = sa.Table(
    "notification_marks",
    metadata,
    # Flow runs whose states arrived after the cursor had passed them (a client that
    # reported late): evaluated again from ``since``, then unmarked. ``version`` grows
    # with each new mark, so that a mark made during an evaluation is not removed by it.
    sa.Column("flow_run_id", ID, primary_key=True),
    sa.Column("since", sa.Float, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
)

# -- deployments, schedules, work pools, workers, concurrency limits (schema 0007) ---------
deployments = sa.Table(
    "deployments",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("flow_name", UserText(255), nullable=False),
    sa.Column("name", Str(255), nullable=False),
    sa.Column("entrypoint", UserText(1024), nullable=False),
    # The folder the flow runs in (relative paths of the entrypoint start there).
    sa.Column("path", UserText(1024)),
    sa.Column("parameters", sa.Text, nullable=False, server_default="{}"),
    # The JSON schema of the flow's parameters (from its signature), to check the
    # parameters of a run before it is created and to build the UI's form.
    sa.Column("parameter_schema", sa.Text, nullable=False, server_default="{}"),
    sa.Column("work_pool_name", Str(255), nullable=False),
    sa.Column("work_queue_name", Str(255), nullable=False, server_default="default"),
    sa.Column("tags", sa.Text, nullable=False, server_default="[]"),
    sa.Column("description", sa.Text),
    sa.Column("version", UserText(255)),
    sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("concurrency_limit", sa.Integer),
    sa.Column("catchup", Str(16), nullable=False, server_default="all"),
    sa.Column("flow_retries", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
    sa.UniqueConstraint("flow_name", "name"),
    sa.Index(None, "work_pool_name"),
)

deployment_schedules = sa.Table(
    "deployment_schedules",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column(
        "deployment_id",
        ID,
        sa.ForeignKey("deployments.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("kind", Str(16), nullable=False),  # cron, interval or rrule
    # The cron string, the interval in seconds, or the RRULE text.
    sa.Column("expression", sa.Text, nullable=False),
    sa.Column("anchor", sa.Float),
    sa.Column("timezone", Str(64), nullable=False, server_default="UTC"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("position", sa.Integer, nullable=False, server_default="0"),
    sa.Index(None, "deployment_id"),
)

work_pools = sa.Table(
    "work_pools",
    metadata,
    sa.Column("name", Str(255), primary_key=True),
    sa.Column("description", sa.Text),
    sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("concurrency_limit", sa.Integer),
    sa.Column("created", sa.Float, nullable=False),
)

work_queues = sa.Table(
    "work_queues",
    metadata,
    sa.Column(
        "pool_name",
        Str(255),
        sa.ForeignKey("work_pools.name", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("name", Str(255), primary_key=True),
    sa.Column("description", sa.Text),
    # Lower first: a worker takes due runs of priority 1 before those of priority 2.
    sa.Column("priority", sa.Integer, nullable=False, server_default="1"),
    sa.Column("concurrency_limit", sa.Integer),
    sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created", sa.Float, nullable=False),
)

workers = sa.Table(
    "workers",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", Str(255), nullable=False),
    sa.Column("pool_name", Str(255), nullable=False),
    sa.Column("hostname", Str(255)),
    sa.Column("pid", sa.Integer),
    sa.Column("started", sa.Float, nullable=False),
    sa.Column("last_heartbeat", sa.Float, nullable=False),
    sa.Index(None, "pool_name", "last_heartbeat"),
)

concurrency_limits = sa.Table(
    "concurrency_limits",
    metadata,
    sa.Column("tag", Str(255), primary_key=True),
    sa.Column("limit", sa.Integer, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
)

concurrency_slots = sa.Table(
    "concurrency_slots",
    metadata,
    sa.Column(
        "tag",
        Str(255),
        sa.ForeignKey("concurrency_limits.tag", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("holder", ID, primary_key=True),  # the task run holding the slot
    sa.Column("acquired", sa.Float, nullable=False),
    # A slot whose holder died is free again after this time.
    sa.Column("expires", sa.Float, nullable=False),
)

alembic_version = sa.Table(
    "alembic_version",
    sa.MetaData(),
    sa.Column("version_num", sa.String(32), primary_key=True),
)
