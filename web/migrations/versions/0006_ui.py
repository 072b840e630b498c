"""staff workspace: login lockout counters; inbox paging indexes

Revision ID: 0006_ui
Revises: 0005_merge
"""

import sqlalchemy as sa
from alembic import op

from core.db import UtcDateTime

revision = "0006_ui"
down_revision = "0005_merge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("username", sa.String(length=80), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_failed_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("locked_until", UtcDateTime(timezone=True), nullable=True),
    )
    # The open tabs walk these in the inbox's exact order (due, then priority, then id), so a
    # page is an index range scan that stops after one page, however long the queue.
    op.create_index(
        "ix_human_task_assignee_page",
        "human_task",
        ["status", "assignee_id", "due_at", sa.text("priority DESC"), "id"],
    )
    op.create_index(
        "ix_human_task_lane_page",
        "human_task",
        ["status", "lane", "due_at", sa.text("priority DESC"), "id"],
    )
    # The inbox's "completed" tab: my completed tasks, newest first, paged by keyset.
    op.create_index(
        "ix_human_task_completed_by", "human_task", ["completed_by_id", "completed_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_human_task_completed_by", table_name="human_task")
    op.drop_index("ix_human_task_lane_page", table_name="human_task")
    op.drop_index("ix_human_task_assignee_page", table_name="human_task")
    op.drop_table("login_throttle")
