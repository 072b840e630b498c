"""reminder rules, start rules and what they fired

Revision ID: 0006_rules
Revises: 0005_merge
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0006_rules"
down_revision = "0005_merge"
branch_labels = None
depends_on = None


def _json():
    return sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def _stamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, core.db.UtcDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "reminder_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("collection", sa.String(length=50), nullable=False),
        sa.Column("date_field", sa.String(length=100), nullable=True),
        sa.Column("yearly", sa.Boolean(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("timing", sa.String(length=10), nullable=False),
        sa.Column("recipients", _json(), nullable=False),
        sa.Column("manager_role", sa.String(length=80), nullable=False),
        sa.Column("channels", _json(), nullable=False),
        sa.Column("message", _json(), nullable=False),
        sa.Column("filters", _json(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_reminder_rule_created_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_rule")),
    )
    op.create_table(
        "fired_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("collection", sa.String(length=50), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("occurrence", sa.Date(), nullable=False),
        sa.Column("fired_on", sa.Date(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("recipient_ids", _json(), nullable=False),
        _stamp("created_at"),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["reminder_rule.id"],
            name=op.f("fk_fired_reminder_rule_id_reminder_rule"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fired_reminder")),
        sa.UniqueConstraint(
            "rule_id", "record_id", "occurrence", name="uq_fired_reminder_occurrence"
        ),
    )
    op.create_table(
        "start_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("collection", sa.String(length=50), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=True),
        sa.Column("value", _json(), nullable=True),
        sa.Column("conditions", _json(), nullable=False),
        sa.Column("process_key", sa.String(length=255), nullable=False),
        sa.Column("data_mapping", _json(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("after_entry_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_start_rule_created_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_start_rule")),
    )
    op.create_table(
        "start_rule_firing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("collection", sa.String(length=50), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _stamp("next_attempt_at", nullable=True),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["start_rule.id"],
            name=op.f("fk_start_rule_firing_rule_id_start_rule"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_start_rule_firing")),
        sa.UniqueConstraint("rule_id", "entry_id", name="uq_start_rule_firing_event"),
    )
    op.create_index(
        "ix_start_rule_firing_retry", "start_rule_firing", ["status", "next_attempt_at"]
    )
    op.create_table(
        "rule_job_cursor",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _stamp("updated_at"),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rule_job_cursor")),
    )


def downgrade() -> None:
    op.drop_table("rule_job_cursor")
    op.drop_index("ix_start_rule_firing_retry", table_name="start_rule_firing")
    op.drop_table("start_rule_firing")
    op.drop_table("start_rule")
    op.drop_table("fired_reminder")
    op.drop_table("reminder_rule")
