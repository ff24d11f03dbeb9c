"""PostgreSQL: text columns compare bytewise and keep any length, as on SQLite

Ids, names, keys and states get the "C" collation, so that they sort, page and match by
prefix as on SQLite whatever the database's default collation (under en-US, "B" sorts
after "a", and "-" or ":" before digits, which broke prefix lookups of ids). The names,
versions, keys and paths that users give become TEXT: VARCHAR(n) refused longer values,
and a long run name stopped the writer. Nothing changes on SQLite.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 20:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Per table: (column, its length in 0008, whether it becomes TEXT).
COLUMNS: dict[str, list[tuple[str, int, bool]]] = {
    "artifacts": [
        ("id", 36, False),
        ("key", 255, False),
        ("type", 16, False),
        ("flow_run_id", 36, False),
        ("task_run_id", 36, False),
    ],
    "automations": [
        ("id", 36, False),
        ("name", 100, False),
    ],
    "concurrency_limits": [
        ("tag", 255, False),
    ],
    "concurrency_slots": [
        ("tag", 255, False),
        ("holder", 36, False),
    ],
    "deployment_schedules": [
        ("id", 36, False),
        ("deployment_id", 36, False),
        ("kind", 16, False),
        ("timezone", 64, False),
    ],
    "deployments": [
        ("id", 36, False),
        ("flow_name", 255, True),
        ("name", 255, False),
        ("entrypoint", 1024, True),
        ("path", 1024, True),
        ("work_pool_name", 255, False),
        ("work_queue_name", 255, False),
        ("version", 255, True),
        ("catchup", 16, False),
    ],
    "experiments": [
        ("id", 36, False),
        ("name", 255, True),
    ],
    "flow_run_tags": [
        ("flow_run_id", 36, False),
    ],
    "flow_runs": [
        ("id", 36, False),
        ("flow_id", 36, False),
        ("name", 255, True),
        ("parent_flow_run_id", 36, False),
        ("parent_task_run_id", 36, False),
        ("version", 255, True),
        ("hostname", 255, False),
        ("state_type", 16, False),
        ("state_name", 32, True),
        ("entrypoint", 1024, True),
        ("deployment_id", 36, False),
        ("work_pool_name", 255, False),
        ("work_queue_name", 255, False),
        ("idempotency_key", 255, True),
        ("worker_id", 36, False),
    ],
    "flows": [
        ("id", 36, False),
        ("name", 255, True),
    ],
    "latest_metrics": [
        ("run_id", 36, False),
        ("key", 250, False),
    ],
    "logged_models": [
        ("run_id", 36, False),
        ("artifact_path", 512, False),
        ("flow_run_id", 36, False),
        ("code_version", 255, False),
    ],
    "logs": [
        ("flow_run_id", 36, False),
        ("task_run_id", 36, False),
        ("name", 255, True),
    ],
    "metric_points": [
        ("run_id", 36, False),
        ("key", 250, False),
    ],
    "model_transitions": [
        ("name", 255, False),
        ("kind", 16, False),
        ("alias", 255, False),
        ("from_value", 255, False),
        ("to_value", 255, False),
        ("user_id", 255, False),
    ],
    "model_version_tags": [
        ("name", 255, False),
        ("key", 255, False),
    ],
    "model_versions": [
        ("name", 255, False),
        ("run_id", 36, False),
        ("flow_run_id", 36, False),
        ("status", 32, False),
        ("stage", 32, False),
        ("code_version", 255, False),
        ("user_id", 255, False),
    ],
    "notification_attempts": [
        ("message_id", 36, False),
    ],
    "notification_channels": [
        ("id", 36, False),
        ("name", 100, False),
        ("type", 16, False),
    ],
    "notification_cursors": [
        ("name", 64, False),
    ],
    "notification_marks": [
        ("flow_run_id", 36, False),
    ],
    "notification_outbox": [
        ("id", 36, False),
        ("dedup_key", 512, False),
        ("channel", 100, False),
        ("event", 32, False),
        ("source", 16, False),
        ("flow_run_id", 36, False),
        ("automation_id", 36, False),
        ("automation_name", 100, False),
        ("status", 16, False),
    ],
    "registered_model_aliases": [
        ("name", 255, False),
        ("alias", 255, False),
    ],
    "registered_model_tags": [
        ("name", 255, False),
        ("key", 255, False),
    ],
    "registered_models": [
        ("name", 255, False),
    ],
    "run_datasets": [
        ("run_id", 36, False),
        ("name", 255, False),
        ("digest", 64, False),
        ("context", 255, False),
    ],
    "run_params": [
        ("run_id", 36, False),
        ("key", 250, False),
    ],
    "run_tags": [
        ("run_id", 36, False),
        ("key", 250, False),
    ],
    "task_runs": [
        ("id", 36, False),
        ("flow_run_id", 36, False),
        ("name", 255, True),
        ("task_key", 512, True),
        ("kind", 16, False),
        ("subflow_run_id", 36, False),
        ("parent_task_run_id", 36, False),
        ("version", 255, True),
        ("state_type", 16, False),
        ("state_name", 32, True),
    ],
    "tracked_runs": [
        ("run_id", 36, False),
        ("experiment_id", 36, False),
        ("kind", 8, False),
        ("flow_run_id", 36, False),
    ],
    "work_pools": [
        ("name", 255, False),
    ],
    "work_queues": [
        ("pool_name", 255, False),
        ("name", 255, False),
    ],
    "workers": [
        ("id", 36, False),
        ("name", 255, False),
        ("pool_name", 255, False),
        ("hostname", 255, False),
    ],
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # One statement per table: its indexes are rebuilt once (the rows are not rewritten).
    for table, columns in COLUMNS.items():
        changes = ", ".join(
            f'ALTER COLUMN "{name}" TYPE {"TEXT" if text else f"VARCHAR({length})"} COLLATE "C"'
            for name, length, text in columns
        )
        op.execute(f'ALTER TABLE "{table}" {changes}')


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # Back to the database's default collation; longer texts are cut to the old length,
    # which is all the old schema can hold.
    for table, columns in COLUMNS.items():
        changes = ", ".join(
            f'ALTER COLUMN "{name}" TYPE VARCHAR({length}) COLLATE pg_catalog."default"'
            + (f' USING left("{name}", {length})' if text else "")
            for name, length, text in columns
        )
        op.execute(f'ALTER TABLE "{table}" {changes}')
