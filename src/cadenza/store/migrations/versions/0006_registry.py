"""the model registry: registered models, versions, tags, aliases, the history of
stages and aliases, and the models logged by runs

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ID = sa.String(length=36)
_NAME = sa.String(length=255)


def upgrade() -> None:
    op.create_table(
        "registered_models",
        sa.Column("name", _NAME, nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("last_version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("updated", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_registered_models")),
    )
    op.create_table(
        "registered_model_tags",
        sa.Column("name", _NAME, nullable=False),
        sa.Column("key", _NAME, nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["name"],
            ["registered_models.name"],
            name=op.f("fk_registered_model_tags_name_registered_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("name", "key", name=op.f("pk_registered_model_tags")),
    )
    op.create_table(
        "model_versions",
        sa.Column("name", _NAME, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("run_id", _ID, nullable=True),
        sa.Column("flow_run_id", _ID, nullable=True),
        sa.Column("status", sa.String(length=32), server_default="READY", nullable=False),
        sa.Column("stage", sa.String(length=32), server_default="None", nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("code_version", _NAME, nullable=True),
        sa.Column("signature", sa.Text(), nullable=True),
        sa.Column("user_id", _NAME, nullable=True),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("updated", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["name"],
            ["registered_models.name"],
            name=op.f("fk_model_versions_name_registered_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("name", "version", name=op.f("pk_model_versions")),
    )
    op.create_index("ix_model_versions_run_id", "model_versions", ["run_id"])
    op.create_index("ix_model_versions_flow_run_id", "model_versions", ["flow_run_id"])
    op.create_table(
        "model_version_tags",
        sa.Column("name", _NAME, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("key", _NAME, nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["name", "version"],
            ["model_versions.name", "model_versions.version"],
            name=op.f("fk_model_version_tags_name_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("name", "version", "key", name=op.f("pk_model_version_tags")),
    )
    op.create_table(
        "registered_model_aliases",
        sa.Column("name", _NAME, nullable=False),
        sa.Column("alias", _NAME, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["name", "version"],
            ["model_versions.name", "model_versions.version"],
            name=op.f("fk_registered_model_aliases_name_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("name", "alias", name=op.f("pk_registered_model_aliases")),
    )
    op.create_table(
        "model_transitions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", _NAME, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("alias", _NAME, nullable=True),
        sa.Column("from_value", _NAME, nullable=True),
        sa.Column("to_value", _NAME, nullable=True),
        sa.Column("user_id", _NAME, nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("timestamp", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["name"],
            ["registered_models.name"],
            name=op.f("fk_model_transitions_name_registered_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_transitions")),
    )
    op.create_index("ix_model_transitions_name_id", "model_transitions", ["name", "id"])
    op.create_table(
        "logged_models",
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("artifact_path", sa.String(length=512), nullable=False),
        sa.Column("flow_run_id", _ID, nullable=True),
        sa.Column("flavors", sa.Text(), server_default="[]", nullable=False),
        sa.Column("signature", sa.Text(), nullable=True),
        sa.Column("requirements", sa.Text(), server_default="[]", nullable=False),
        sa.Column("code_version", _NAME, nullable=True),
        sa.Column("created", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "artifact_path", name=op.f("pk_logged_models")),
    )
    op.create_index("ix_logged_models_flow_run_id", "logged_models", ["flow_run_id"])


def downgrade() -> None:
    op.drop_index("ix_logged_models_flow_run_id", table_name="logged_models")
    op.drop_table("logged_models")
    op.drop_index("ix_model_transitions_name_id", table_name="model_transitions")
    op.drop_table("model_transitions")
    op.drop_table("registered_model_aliases")
    op.drop_table("model_version_tags")
    op.drop_index("ix_model_versions_flow_run_id", table_name="model_versions")
    op.drop_index("ix_model_versions_run_id", table_name="model_versions")
    op.drop_table("model_versions")
    op.drop_table("registered_model_tags")
    op.drop_table("registered_models")
