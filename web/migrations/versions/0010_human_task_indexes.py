"""human_task: drop the two inbox indexes that the paged ones cover

`ix_human_task_assignee_open (status, assignee_id, due_at)` and `ix_human_task_lane_open
(status, lane, due_at)` are prefixes of `ix_human_task_assignee_page` and
`ix_human_task_lane_page` (0006_ui), which serve every query they served. Each one was one
more index to write on every task opened, claimed and completed.

Revision ID: 0010_human_task_indexes
Revises: 0009_order_history_index
"""

from alembic import op

revision = "0010_human_task_indexes"
down_revision = "0009_order_history_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_human_task_assignee_open", table_name="human_task")
    op.drop_index("ix_human_task_lane_open", table_name="human_task")


def downgrade() -> None:
    op.create_index("ix_human_task_lane_open", "human_task", ["status", "lane", "due_at"])
    op.create_index(
        "ix_human_task_assignee_open", "human_task", ["status", "assignee_id", "due_at"]
    )
