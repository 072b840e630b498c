"""merge the 0006/0007 heads; the built-in admin role no longer holds deploy_processes

Deploying BPMN is kept apart from administration (crm_domain.roles.SEPARATED_GRANTS): a plain
admin cannot deploy; the process designer role, or a role granted it, can.

Revision ID: 0008_merge_admin_grants
Revises: 0006_analytics, 0006_rules, 0006_settings_audit, 0006_ui, 0007_ui2
"""

import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008_merge_admin_grants"
down_revision = ("0006_analytics", "0006_rules", "0006_settings_audit", "0006_ui", "0007_ui2")
branch_labels = None
depends_on = None

SEPARATED = "deploy_processes"


def _set_admin_grants(change) -> None:
    bind = op.get_bind()
    row = bind.execute(sa.text("SELECT grants FROM role WHERE key = 'admin'")).first()
    if row is None:  # a fresh database: the seed writes the admin role afterwards
        return
    grants = row[0] if isinstance(row[0], list) else json.loads(row[0] or "[]")
    bind.execute(
        sa.text("UPDATE role SET grants = :grants WHERE key = 'admin'").bindparams(
            sa.bindparam("grants", type_=sa.JSON().with_variant(postgresql.JSONB(), "postgresql"))
        ),
        {"grants": change(grants)},
    )


def upgrade() -> None:
    _set_admin_grants(lambda grants: [g for g in grants if g != SEPARATED])


def downgrade() -> None:
    _set_admin_grants(lambda grants: [*grants, SEPARATED] if SEPARATED not in grants else grants)
