"""sales, service and marketing collections

Revision ID: 0003_sales_service
Revises: 0002_crm_domain
Create Date: 2026-11-23 10:19:40.341119
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import core.db

revision = "0003_sales_service"
down_revision = "0002_crm_domain"
branch_labels = None
depends_on = None


JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
READ, WRITE = ["read"], ["read", "create", "update"]
FULL = ["read", "create", "update", "delete"]
NEW_COLLECTIONS = ("receivables", "commissions", "sales-plans")
# Rights of the built-in roles on what this revision adds, given to databases whose roles were
# seeded before it (fresh ones are seeded whole after the migrations). Keys an admin has set
# already are left alone.
ADDED_RIGHTS = {
    "salesperson": {
        "receivables": {"actions": WRITE, "scope": "own"},
        "commissions": {"actions": READ, "scope": "own"},
        "sales-plans": {"actions": READ, "scope": "own"},
    },
    "sales_manager": {name: {"actions": FULL, "scope": "subtree"} for name in NEW_COLLECTIONS},
    "executive": {name: {"actions": READ, "scope": "all"} for name in NEW_COLLECTIONS},
    "service_agent": {"contracts": {"actions": READ, "scope": "unit"}},
    "admin": {name: {"actions": FULL, "scope": "all"} for name in NEW_COLLECTIONS},
}
ROLE = sa.table(
    "role",
    sa.column("key", sa.String),
    sa.column("built_in", sa.Boolean),
    sa.column("permissions", JSON),
)


def _change_built_in_roles(change) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(ROLE.c.key, ROLE.c.permissions).where(ROLE.c.built_in.is_(True)))
    for key, permissions in list(rows):
        changed = change(key, dict(permissions or {}))
        if changed != (permissions or {}):
            bind.execute(ROLE.update().where(ROLE.c.key == key).values(permissions=changed))


def _grant(key: str, permissions: dict) -> dict:
    return {**ADDED_RIGHTS.get(key, {}), **permissions}


def _revoke(key: str, permissions: dict) -> dict:
    return {name: right for name, right in permissions.items() if name not in NEW_COLLECTIONS}


def upgrade() -> None:
    op.create_table(
        "campaign",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("budget", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "segment",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "custom",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("org_unit_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_campaign_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_unit.id"], name=op.f("fk_campaign_org_unit_id_org_unit")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user_account.id"], name=op.f("fk_campaign_owner_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
    )
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaign_org_unit_id"), ["org_unit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaign_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaign_status"), ["status"], unique=False)

    op.create_table(
        "sales_plan",
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("target_amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "custom",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("org_unit_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_sales_plan_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_unit.id"], name=op.f("fk_sales_plan_org_unit_id_org_unit")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user_account.id"], name=op.f("fk_sales_plan_owner_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_sales_plan_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_plan")),
    )
    with op.batch_alter_table("sales_plan", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sales_plan_org_unit_id"), ["org_unit_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sales_plan_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sales_plan_period"), ["period"], unique=False)
        batch_op.create_index(batch_op.f("ix_sales_plan_user_id"), ["user_id"], unique=False)

    op.create_table(
        "article",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("solution", sa.Text(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "custom",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_article_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_article_product_id_product")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article")),
    )
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_article_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_article_title"), ["title"], unique=False)

    op.create_table(
        "contract",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contract_no", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("value", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("renewal_of_id", sa.Integer(), nullable=True),
        sa.Column("auto_renew", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "custom",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("org_unit_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_contract_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_contract_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_unit.id"], name=op.f("fk_contract_org_unit_id_org_unit")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user_account.id"], name=op.f("fk_contract_owner_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["renewal_of_id"], ["contract.id"], name=op.f("fk_contract_renewal_of_id_contract")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract")),
        sa.UniqueConstraint("contract_no", name=op.f("uq_contract_contract_no")),
    )
    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contract_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contract_ends_on"), ["ends_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_contract_org_unit_id"), ["org_unit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contract_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_contract_renewal_of_id"), ["renewal_of_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_contract_status"), ["status"], unique=False)

    op.create_table(
        "opportunity",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("probability", sa.Integer(), nullable=False),
        sa.Column("expected_close", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("lost_reason", sa.String(length=500), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "custom",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("org_unit_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_opportunity_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_opportunity_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_unit.id"], name=op.f("fk_opportunity_org_unit_id_org_unit")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user_account.id"], name=op.f("fk_opportunity_owner_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunity")),
    )
    with op.batch_alter_table("opportunity", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_opportunity_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_opportunity_expected_close"), ["expected_close"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_opportunity_org_unit_id"), ["org_unit_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_opportunity_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_opportunity_stage"), ["stage"], unique=False)

    op.create_table(
        "quote",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=True),
        sa.Column("quote_no", sa.String(length=50), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("discount_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("subtotal", sa.Numeric(precision=22, scale=2), nullable=False),
        sa.Column("discount_amount", sa.Numeric(precision=22, scale=2), nullable=False),
        sa.Column("total", sa.Numeric(precision=22, scale=2), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "custom",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("org_unit_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name=op.f("fk_quote_created_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_quote_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_id"], ["opportunity.id"], name=op.f("fk_quote_opportunity_id_opportunity")
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_unit.id"], name=op.f("fk_quote_org_unit_id_org_unit")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user_account.id"], name=op.f("fk_quote_owner_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quote")),
        sa.UniqueConstraint("quote_no", name=op.f("uq_quote_quote_no")),
    )
    with op.batch_alter_table("quote", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quote_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_quote_opportunity_id"), ["opportunity_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_quote_org_unit_id"), ["org_unit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quote_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quote_status"), ["status"], unique=False)

    op.create_table(
        "service_request",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("contract_id", sa.Integer(), nullable=True),
        sa.Column("warranty_until", sa.Date(), nullable=True),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("sla_due_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("resolved_at", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "custom",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("org_unit_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["user_account.id"],
            name=op.f("fk_service_request_assignee_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contact.id"], name=op.f("fk_service_request_contact_id_contact")
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contract.id"], name=op.f("fk_service_request_contract_id_contract")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_service_request_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_service_request_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_unit.id"], name=op.f("fk_service_request_org_unit_id_org_unit")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user_account.id"], name=op.f("fk_service_request_owner_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_service_request_product_id_product")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_request")),
    )
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_request_assignee_id"), ["assignee_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_service_request_contact_id"), ["contact_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_service_request_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_service_request_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_service_request_org_unit_id"), ["org_unit_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_service_request_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_service_request_priority"), ["priority"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_service_request_product_id"), ["product_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_service_request_sla_due_at"), ["sla_due_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_service_request_status"), ["status"], unique=False)

    op.create_table(
        "defect",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("service_request_id", sa.Integer(), nullable=True),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("root_cause", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "custom",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("org_unit_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_defect_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_unit.id"], name=op.f("fk_defect_org_unit_id_org_unit")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user_account.id"], name=op.f("fk_defect_owner_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_defect_product_id_product")
        ),
        sa.ForeignKeyConstraint(
            ["service_request_id"],
            ["service_request.id"],
            name=op.f("fk_defect_service_request_id_service_request"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_defect")),
    )
    with op.batch_alter_table("defect", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_defect_org_unit_id"), ["org_unit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_defect_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_defect_product_id"), ["product_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_defect_service_request_id"), ["service_request_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_defect_severity"), ["severity"], unique=False)
        batch_op.create_index(batch_op.f("ix_defect_status"), ["status"], unique=False)

    op.create_table(
        "quote_line",
        sa.Column("quote_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("discount_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("amount", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_quote_line_product_id_product")
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"],
            ["quote.id"],
            name=op.f("fk_quote_line_quote_id_quote"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quote_line")),
    )
    with op.batch_alter_table("quote_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quote_line_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quote_line_quote_id"), ["quote_id"], unique=False)

    op.create_table(
        "sales_order",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("order_no", sa.String(length=50), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=True),
        sa.Column("quote_id", sa.Integer(), nullable=True),
        sa.Column("ordered_on", sa.Date(), nullable=False),
        sa.Column("promised_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", sa.Numeric(precision=22, scale=2), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "custom",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("org_unit_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contract.id"], name=op.f("fk_sales_order_contract_id_contract")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_sales_order_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_sales_order_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_unit.id"], name=op.f("fk_sales_order_org_unit_id_org_unit")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user_account.id"], name=op.f("fk_sales_order_owner_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"], ["quote.id"], name=op.f("fk_sales_order_quote_id_quote")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_order")),
        sa.UniqueConstraint("order_no", name=op.f("uq_sales_order_order_no")),
    )
    with op.batch_alter_table("sales_order", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sales_order_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sales_order_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sales_order_ordered_on"), ["ordered_on"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sales_order_org_unit_id"), ["org_unit_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sales_order_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sales_order_quote_id"), ["quote_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sales_order_status"), ["status"], unique=False)

    op.create_table(
        "commission",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("rate", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("base_amount", sa.Numeric(precision=22, scale=2), nullable=False),
        sa.Column("amount", sa.Numeric(precision=22, scale=2), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "custom",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("org_unit_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_commission_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_order.id"], name=op.f("fk_commission_order_id_sales_order")
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_unit.id"], name=op.f("fk_commission_org_unit_id_org_unit")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user_account.id"], name=op.f("fk_commission_owner_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_commission_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commission")),
    )
    with op.batch_alter_table("commission", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_commission_order_id"), ["order_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_commission_org_unit_id"), ["org_unit_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_commission_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_commission_period"), ["period"], unique=False)
        batch_op.create_index(batch_op.f("ix_commission_user_id"), ["user_id"], unique=False)

    op.create_table(
        "receivable",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("instalment", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("paid_amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "custom",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("org_unit_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_receivable_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_receivable_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_order.id"], name=op.f("fk_receivable_order_id_sales_order")
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_unit.id"], name=op.f("fk_receivable_org_unit_id_org_unit")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user_account.id"], name=op.f("fk_receivable_owner_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receivable")),
    )
    with op.batch_alter_table("receivable", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_receivable_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_receivable_due_on"), ["due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_receivable_order_id"), ["order_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_receivable_org_unit_id"), ["org_unit_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_receivable_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "sales_order_line",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("discount_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("amount", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["sales_order.id"],
            name=op.f("fk_sales_order_line_order_id_sales_order"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_sales_order_line_product_id_product")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_order_line")),
    )
    with op.batch_alter_table("sales_order_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sales_order_line_order_id"), ["order_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sales_order_line_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "payment",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("receivable_id", sa.Integer(), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column(
            "allocations",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "custom",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("org_unit_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_payment_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_payment_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_order.id"], name=op.f("fk_payment_order_id_sales_order")
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_unit.id"], name=op.f("fk_payment_org_unit_id_org_unit")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user_account.id"], name=op.f("fk_payment_owner_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["receivable_id"], ["receivable.id"], name=op.f("fk_payment_receivable_id_receivable")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment")),
    )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_org_unit_id"), ["org_unit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_paid_on"), ["paid_on"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_payment_receivable_id"), ["receivable_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_payment_reference"), ["reference"], unique=False)

    _change_built_in_roles(_grant)


def downgrade() -> None:
    _change_built_in_roles(_revoke)
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_reference"))
        batch_op.drop_index(batch_op.f("ix_payment_receivable_id"))
        batch_op.drop_index(batch_op.f("ix_payment_paid_on"))
        batch_op.drop_index(batch_op.f("ix_payment_owner_id"))
        batch_op.drop_index(batch_op.f("ix_payment_org_unit_id"))
        batch_op.drop_index(batch_op.f("ix_payment_order_id"))
        batch_op.drop_index(batch_op.f("ix_payment_customer_id"))

    op.drop_table("payment")
    with op.batch_alter_table("sales_order_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sales_order_line_product_id"))
        batch_op.drop_index(batch_op.f("ix_sales_order_line_order_id"))

    op.drop_table("sales_order_line")
    with op.batch_alter_table("receivable", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receivable_owner_id"))
        batch_op.drop_index(batch_op.f("ix_receivable_org_unit_id"))
        batch_op.drop_index(batch_op.f("ix_receivable_order_id"))
        batch_op.drop_index(batch_op.f("ix_receivable_due_on"))
        batch_op.drop_index(batch_op.f("ix_receivable_customer_id"))

    op.drop_table("receivable")
    with op.batch_alter_table("commission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commission_user_id"))
        batch_op.drop_index(batch_op.f("ix_commission_period"))
        batch_op.drop_index(batch_op.f("ix_commission_owner_id"))
        batch_op.drop_index(batch_op.f("ix_commission_org_unit_id"))
        batch_op.drop_index(batch_op.f("ix_commission_order_id"))

    op.drop_table("commission")
    with op.batch_alter_table("sales_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sales_order_status"))
        batch_op.drop_index(batch_op.f("ix_sales_order_quote_id"))
        batch_op.drop_index(batch_op.f("ix_sales_order_owner_id"))
        batch_op.drop_index(batch_op.f("ix_sales_order_org_unit_id"))
        batch_op.drop_index(batch_op.f("ix_sales_order_ordered_on"))
        batch_op.drop_index(batch_op.f("ix_sales_order_customer_id"))
        batch_op.drop_index(batch_op.f("ix_sales_order_contract_id"))

    op.drop_table("sales_order")
    with op.batch_alter_table("quote_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quote_line_quote_id"))
        batch_op.drop_index(batch_op.f("ix_quote_line_product_id"))

    op.drop_table("quote_line")
    with op.batch_alter_table("defect", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_defect_status"))
        batch_op.drop_index(batch_op.f("ix_defect_severity"))
        batch_op.drop_index(batch_op.f("ix_defect_service_request_id"))
        batch_op.drop_index(batch_op.f("ix_defect_product_id"))
        batch_op.drop_index(batch_op.f("ix_defect_owner_id"))
        batch_op.drop_index(batch_op.f("ix_defect_org_unit_id"))

    op.drop_table("defect")
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_request_status"))
        batch_op.drop_index(batch_op.f("ix_service_request_sla_due_at"))
        batch_op.drop_index(batch_op.f("ix_service_request_product_id"))
        batch_op.drop_index(batch_op.f("ix_service_request_priority"))
        batch_op.drop_index(batch_op.f("ix_service_request_owner_id"))
        batch_op.drop_index(batch_op.f("ix_service_request_org_unit_id"))
        batch_op.drop_index(batch_op.f("ix_service_request_customer_id"))
        batch_op.drop_index(batch_op.f("ix_service_request_contract_id"))
        batch_op.drop_index(batch_op.f("ix_service_request_contact_id"))
        batch_op.drop_index(batch_op.f("ix_service_request_assignee_id"))

    op.drop_table("service_request")
    with op.batch_alter_table("quote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quote_status"))
        batch_op.drop_index(batch_op.f("ix_quote_owner_id"))
        batch_op.drop_index(batch_op.f("ix_quote_org_unit_id"))
        batch_op.drop_index(batch_op.f("ix_quote_opportunity_id"))
        batch_op.drop_index(batch_op.f("ix_quote_customer_id"))

    op.drop_table("quote")
    with op.batch_alter_table("opportunity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opportunity_stage"))
        batch_op.drop_index(batch_op.f("ix_opportunity_owner_id"))
        batch_op.drop_index(batch_op.f("ix_opportunity_org_unit_id"))
        batch_op.drop_index(batch_op.f("ix_opportunity_expected_close"))
        batch_op.drop_index(batch_op.f("ix_opportunity_customer_id"))

    op.drop_table("opportunity")
    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_status"))
        batch_op.drop_index(batch_op.f("ix_contract_renewal_of_id"))
        batch_op.drop_index(batch_op.f("ix_contract_owner_id"))
        batch_op.drop_index(batch_op.f("ix_contract_org_unit_id"))
        batch_op.drop_index(batch_op.f("ix_contract_ends_on"))
        batch_op.drop_index(batch_op.f("ix_contract_customer_id"))

    op.drop_table("contract")
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_title"))
        batch_op.drop_index(batch_op.f("ix_article_product_id"))

    op.drop_table("article")
    with op.batch_alter_table("sales_plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sales_plan_user_id"))
        batch_op.drop_index(batch_op.f("ix_sales_plan_period"))
        batch_op.drop_index(batch_op.f("ix_sales_plan_owner_id"))
        batch_op.drop_index(batch_op.f("ix_sales_plan_org_unit_id"))

    op.drop_table("sales_plan")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_status"))
        batch_op.drop_index(batch_op.f("ix_campaign_owner_id"))
        batch_op.drop_index(batch_op.f("ix_campaign_org_unit_id"))
        batch_op.drop_index(batch_op.f("ix_campaign_name"))

    op.drop_table("campaign")
