"""customer value analytics: settings, per-customer metrics, grade history, jobs, segments

Revision ID: 0006_analytics
Revises: 0005_merge
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0006_analytics"
down_revision = "0005_merge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analytics_setting",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("updated_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user_account.id"],
            name=op.f("fk_analytics_setting_updated_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_analytics_setting")),
    )
    op.create_table(
        "analytics_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=100), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("started_at", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("result", core.db.JsonType, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["user_account.id"],
            name=op.f("fk_analytics_job_requested_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_job")),
    )
    op.create_index("ix_analytics_job_status", "analytics_job", ["status"])
    op.create_table(
        "customer_metrics",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("computed_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("first_order_on", sa.Date(), nullable=True),
        sa.Column("last_order_on", sa.Date(), nullable=True),
        sa.Column("recency_days", sa.Integer(), nullable=True),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("monetary", sa.Float(), nullable=False),
        sa.Column("paid", sa.Float(), nullable=False),
        sa.Column("r_score", sa.Integer(), nullable=True),
        sa.Column("f_score", sa.Integer(), nullable=True),
        sa.Column("m_score", sa.Integer(), nullable=True),
        sa.Column("rfm_score", sa.Integer(), nullable=True),
        sa.Column("current_value", sa.Float(), nullable=False),
        sa.Column("clv_retention", sa.Float(), nullable=True),
        sa.Column("expected_purchases", sa.Float(), nullable=True),
        sa.Column("probability_alive", sa.Float(), nullable=True),
        sa.Column("expected_order_value", sa.Float(), nullable=True),
        sa.Column("clv_predicted", sa.Float(), nullable=True),
        sa.Column("potential_value", sa.Float(), nullable=True),
        sa.Column("product_value", sa.Float(), nullable=False),
        sa.Column("service_value", sa.Float(), nullable=False),
        sa.Column("cluster", sa.Integer(), nullable=True),
        sa.Column("grade", sa.String(length=2), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_customer_metrics_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_metrics")),
    )
    op.create_index("ix_customer_metrics_rfm_score", "customer_metrics", ["rfm_score"])
    op.create_table(
        "customer_grade_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("from_grade", sa.String(length=2), nullable=True),
        sa.Column("to_grade", sa.String(length=2), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_customer_grade_history_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["user_account.id"],
            name=op.f("fk_customer_grade_history_changed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["analytics_job.id"],
            name=op.f("fk_customer_grade_history_job_id_analytics_job"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_grade_history")),
    )
    op.create_index(
        "ix_customer_grade_history_customer", "customer_grade_history", ["customer_id", "id"]
    )
    op.create_table(
        "customer_segment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("definition", core.db.JsonType, nullable=False),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("org_unit_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["user_account.id"],
            name=op.f("fk_customer_segment_owner_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_unit.id"], name=op.f("fk_customer_segment_org_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_segment")),
    )
    op.create_index("ix_customer_segment_owner_id", "customer_segment", ["owner_id"])
    op.create_index("ix_customer_segment_org_unit_id", "customer_segment", ["org_unit_id"])


def downgrade() -> None:
    op.drop_table("customer_segment")
    op.drop_table("customer_grade_history")
    op.drop_table("customer_metrics")
    op.drop_index("ix_analytics_job_status", table_name="analytics_job")
    op.drop_table("analytics_job")
    op.drop_table("analytics_setting")
