"""log lines get an identity, so that a batch delivered twice records them once

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 19:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("logs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dedup_key", sa.BigInteger(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_logs_timestamp_dedup_key"), ["timestamp", "dedup_key"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logs_timestamp_dedup_key"))
        batch_op.drop_column("dedup_key")
