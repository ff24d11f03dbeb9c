"""notifications: channels, automations, the outbox and its delivery attempts, the
automations service's cursor; an index of flow runs by the time of their state

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ID = sa.String(length=36)


def upgrade() -> None:
    op.create_index("ix_flow_runs_state_timestamp", "flow_runs", ["state_timestamp"])
    op.create_table(
        "notification_channels",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("config", sa.Text(), server_default="{}", nullable=False),
        sa.Column("secrets", sa.Text(), server_default="{}", nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("updated", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_channels")),
        sa.UniqueConstraint("name", name=op.f("uq_notification_channels_name")),
    )
    op.create_table(
        "automations",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("trigger", sa.Text(), nullable=False),
        sa.Column("channels", sa.Text(), server_default="[]", nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("updated", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automations")),
        sa.UniqueConstraint("name", name=op.f("uq_automations_name")),
    )
    op.create_table(
        "notification_outbox",
        sa.Column("id", ID, nullable=False),
        sa.Column("dedup_key", sa.String(length=512), nullable=False),
        sa.Column("channel", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("context", sa.Text(), server_default="{}", nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("flow_run_id", ID, nullable=True),
        sa.Column("automation_id", ID, nullable=True),
        sa.Column("automation_name", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("next_attempt_at", sa.Float(), nullable=False),
        sa.Column("lease_until", sa.Float(), nullable=True),
        sa.Column("sent_at", sa.Float(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_outbox")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_notification_outbox_dedup_key")),
    )
    for name, columns in (
        ("ix_notification_outbox_status_next_attempt_at", ["status", "next_attempt_at"]),
        ("ix_notification_outbox_flow_run_id", ["flow_run_id"]),
        ("ix_notification_outbox_automation_id_id", ["automation_id", "id"]),
        ("ix_notification_outbox_channel_id", ["channel", "id"]),
    ):
        op.create_index(name, "notification_outbox", columns)
    op.create_table(
        "notification_attempts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("message_id", ID, nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("timestamp", sa.Float(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["notification_outbox.id"],
            name=op.f("fk_notification_attempts_message_id_notification_outbox"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_attempts")),
    )
    op.create_index(
        "ix_notification_attempts_message_id_id", "notification_attempts", ["message_id", "id"]
    )
    op.create_table(
        "notification_cursors",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Float(), nullable=False),
        sa.Column("updated", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_notification_cursors")),
    )
    op.create_table(
        "notification_marks",
        sa.Column("flow_run_id", ID, nullable=False),
        sa.Column("since", sa.Float(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.PrimaryKeyConstraint("flow_run_id", name=op.f("pk_notification_marks")),
    )


def downgrade() -> None:
    op.drop_table("notification_marks")
    op.drop_table("notification_cursors")
    op.drop_index("ix_notification_attempts_message_id_id", table_name="notification_attempts")
    op.drop_table("notification_attempts")
    for name in (
        "ix_notification_outbox_channel_id",
        "ix_notification_outbox_automation_id_id",
        "ix_notification_outbox_flow_run_id",
        "ix_notification_outbox_status_next_attempt_at",
    ):
        op.drop_index(name, table_name="notification_outbox")
    op.drop_table("notification_outbox")
    op.drop_table("automations")
    op.drop_table("notification_channels")
    op.drop_index("ix_flow_runs_state_timestamp", table_name="flow_runs")
