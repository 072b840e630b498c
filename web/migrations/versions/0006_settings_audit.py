"""system settings (typed rows + version stamp) and the admin audit log

Revision ID: 0006_settings_audit
Revises: 0005_merge
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0006_settings_audit"
down_revision = "0005_merge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "system_setting",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("value", core.db.JsonType, nullable=True),
        sa.Column("updated_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["user_account.id"],
            name=op.f("fk_system_setting_updated_by_user_account"),
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_system_setting")),
    )
    op.create_table(
        "system_settings_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stamp", sa.String(length=32), nullable=False),
        sa.Column("changed_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_settings_version")),
    )
    op.create_table(
        "admin_audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("before", core.db.JsonType, nullable=True),
        sa.Column("after", core.db.JsonType, nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user_account.id"],
            name=op.f("fk_admin_audit_entry_actor_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_audit_entry")),
    )
    op.create_index("ix_admin_audit_entry_at", "admin_audit_entry", ["at"])
    op.create_index("ix_admin_audit_entry_actor_id", "admin_audit_entry", ["actor_id"])
    op.create_index("ix_admin_audit_entry_kind_at", "admin_audit_entry", ["kind", "at"])


def downgrade() -> None:
    op.drop_index("ix_admin_audit_entry_kind_at", table_name="admin_audit_entry")
    op.drop_index("ix_admin_audit_entry_actor_id", table_name="admin_audit_entry")
    op.drop_index("ix_admin_audit_entry_at", table_name="admin_audit_entry")
    op.drop_table("admin_audit_entry")
    op.drop_table("system_settings_version")
    op.drop_table("system_setting")
