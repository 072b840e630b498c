"""merge the CRM branches (sales/service, import jobs, notifications) into one head

Revision ID: 0005_merge
Revises: 0003_sales_service, 0003_import_jobs, 0004_notifications
"""

revision = "0005_merge"
down_revision = ("0003_sales_service", "0003_import_jobs", "0004_notifications")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
