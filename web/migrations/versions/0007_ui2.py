"""inbox search: a skip-scan index over task names and a lane page index by name

Revision ID: 0007_ui2
Revises: 0005_merge
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_ui2"
down_revision = "0005_merge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The inbox search first lists the distinct task names (one probe each: web/ui/inbox_search.py)
    op.create_index("ix_human_task_name", "human_task", ["name"])
    # ... then asks for `lane = ? AND name IN (...)` in the inbox order: an ordered range per
    # name instead of reading the whole lane to test each row.
    op.create_index(
        "ix_human_task_lane_name_page",
        "human_task",
        ["status", "lane", "name", "due_at", sa.text("priority DESC"), "id"],
    )
    if op.get_bind().dialect.name == "postgresql":
        # Lane and task name are strongly correlated (a name belongs to one lane). Without
        # these statistics PostgreSQL multiplies their frequencies, expects thousands of rows
        # for "salesperson lane AND manager's task" and reads the table instead of the index.
        op.execute(
            "CREATE STATISTICS st_human_task_lane_name (mcv, dependencies) "
            "ON status, lane, name FROM human_task"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP STATISTICS IF EXISTS st_human_task_lane_name")
    op.drop_index("ix_human_task_lane_name_page", table_name="human_task")
    op.drop_index("ix_human_task_name", table_name="human_task")
