"""The CRM collections the API, import/export and processes share, and how each is searched."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from marshmallow import Schema

from crm_domain import marketing, orders, sales, sales_targets, service
from crm_domain.customers import Contact, ContactSchema, Customer, CustomerSchema, pinyin_of
from crm_domain.interactions import Interaction, InteractionSchema, check_interaction
from crm_domain.products import Product, ProductSchema
from crm_domain.records import Change, Child
from crm_domain.users import User


@dataclass(frozen=True)
class Collection:
    name: str  # the URL segment, e.g. "service-requests"
    model: type
    schema: type[Schema]
    label: dict
    search: tuple[str, ...] = ()  # columns `q` matches (case-insensitive substring)
    filters: tuple[str, ...] = ()  # columns filterable by equality
    sortable: tuple[str, ...] = ("id", "created_at", "updated_at")
    sensitive: tuple[str, ...] = ()  # masked without the view_sensitive grant
    owned: bool = True  # has owner_id/org_unit_id and a data scope
    parent: tuple[str, str] | None = None  # (foreign key, collection) it belongs to
    derive: Callable[[object], None] | None = None  # fills computed columns before a save
    # (time column, title column): records shown on their customer's timeline
    timeline: tuple[str, str] | None = None
    extra: dict = field(default_factory=dict)
    # --- rules and hooks, applied by record_service on every create and update -----------
    # Ids in the input that must name a record the actor can see (collection name) or that
    # must exist (model class): 422 on the field otherwise. The parent key is checked apart.
    references: dict[str, str | type] = field(default_factory=dict)
    unique: tuple[str, ...] = ()  # columns no two records share: 422 on the field
    immutable: tuple[str, ...] = ()  # fields that cannot change after the create
    children: dict[str, Child] = field(default_factory=dict)  # nested rows, e.g. "lines"
    # Cross-field and cross-record rules, run once the fields themselves are valid; may add
    # derived values to change.values and errors to change.errors.
    check: Callable[[Change], None] | None = None
    # owner_id/org_unit_id of a new record, for records that belong to a person or unit named
    # in their data (instead of the parent's, the request's or the actor's).
    owner: Callable[[Change], dict] | None = None
    # Same transaction, after the INSERT/UPDATE (change.record is None on create) ...
    after_save: Callable[[Change, object], None] | None = None
    # ... and before a DELETE; both may raise (Conflict, Invalid) to refuse the change.
    before_delete: Callable[[Change, object], None] | None = None


def _customer_pinyin(customer: Customer) -> None:
    customer.pinyin = pinyin_of(customer.name, customer.short_name)


COLLECTIONS: dict[str, Collection] = {}


def register(collection: Collection) -> Collection:
    COLLECTIONS[collection.name] = collection
    return collection


register(
    Collection(
        name="customers",
        model=Customer,
        schema=CustomerSchema,
        label={"zh": "客户", "en": "Customers"},
        search=("name", "short_name", "pinyin", "phone", "tax_id"),
        filters=(
            "kind",
            "relation",
            "region",
            "industry",
            "grade",
            "credit_rating",
            "lifecycle_stage",
            "owner_id",
            "org_unit_id",
            "external_key",
            "tax_id",
        ),
        sortable=("id", "name", "created_at", "updated_at", "grade", "total_business", "region"),
        sensitive=("bank_account", "tax_id"),
        unique=("tax_id", "external_key"),
        derive=_customer_pinyin,
    )
)
register(
    Collection(
        name="contacts",
        model=Contact,
        schema=ContactSchema,
        label={"zh": "联系人", "en": "Contacts"},
        search=("name", "mobile", "phone", "email"),
        filters=("customer_id", "role", "is_primary", "owner_id"),
        sortable=("id", "name", "created_at", "updated_at"),
        parent=("customer_id", "customers"),
    )
)
register(
    Collection(
        name="interactions",
        model=Interaction,
        schema=InteractionSchema,
        label={"zh": "联络记录", "en": "Interactions"},
        search=("summary",),
        filters=("customer_id", "contact_id", "channel", "direction", "owner_id"),
        sortable=("id", "occurred_at", "created_at"),
        parent=("customer_id", "customers"),
        timeline=("occurred_at", "summary"),
        references={"contact_id": "contacts"},
        check=check_interaction,
    )
)
register(
    Collection(
        name="products",
        model=Product,
        schema=ProductSchema,
        label={"zh": "产品", "en": "Products"},
        search=("sku", "name", "brand", "series"),
        filters=("brand", "series", "unit", "active"),
        sortable=("id", "sku", "name", "brand", "series", "price", "created_at"),
        owned=False,
        unique=("sku",),
    )
)

# --- sales ------------------------------------------------------------------------------
LINES = {"lines": Child(sales.QuoteLine, references={"product_id": "products"})}
ORDER_LINES = {"lines": Child(orders.OrderLine, references={"product_id": "products"})}
register(
    Collection(
        name="opportunities",
        model=sales.Opportunity,
        schema=sales.OpportunitySchema,
        label={"zh": "商机", "en": "Opportunities"},
        search=("title", "source"),
        filters=("customer_id", "stage", "source", "owner_id", "org_unit_id"),
        sortable=("id", "title", "amount", "probability", "expected_close", "created_at"),
        parent=("customer_id", "customers"),
        timeline=("created_at", "title"),
        check=sales.check_opportunity,
        derive=sales.derive_opportunity,
    )
)
register(
    Collection(
        name="quotes",
        model=sales.Quote,
        schema=sales.QuoteSchema,
        label={"zh": "报价单", "en": "Quotes"},
        search=("quote_no",),
        filters=("customer_id", "opportunity_id", "status", "currency", "owner_id"),
        sortable=("id", "quote_no", "valid_until", "total", "created_at", "updated_at"),
        parent=("customer_id", "customers"),
        timeline=("created_at", "quote_no"),
        references={"opportunity_id": "opportunities"},
        unique=("quote_no",),
        children=LINES,
        check=sales.check_quote,
        derive=sales.derive_quote,
    )
)
register(
    Collection(
        name="contracts",
        model=sales.Contract,
        schema=sales.ContractSchema,
        label={"zh": "合同", "en": "Contracts"},
        search=("contract_no", "title"),
        filters=("customer_id", "status", "auto_renew", "renewal_of_id", "owner_id"),
        sortable=("id", "contract_no", "signed_on", "starts_on", "ends_on", "value", "created_at"),
        parent=("customer_id", "customers"),
        timeline=("created_at", "title"),
        references={"renewal_of_id": "contracts"},
        unique=("contract_no",),
        check=sales.check_contract,
    )
)
register(
    Collection(
        name="orders",
        model=orders.SalesOrder,
        schema=orders.OrderSchema,
        label={"zh": "销售订单", "en": "Orders"},
        search=("order_no",),
        filters=("customer_id", "contract_id", "quote_id", "status", "currency", "owner_id"),
        sortable=("id", "order_no", "ordered_on", "promised_on", "total", "created_at"),
        parent=("customer_id", "customers"),
        timeline=("created_at", "order_no"),
        references={"contract_id": "contracts", "quote_id": "quotes"},
        unique=("order_no",),
        children=ORDER_LINES,
        check=orders.check_order,
        derive=orders.derive_order,
    )
)
register(
    Collection(
        name="receivables",
        model=orders.Receivable,
        schema=orders.ReceivableSchema,
        label={"zh": "应收款", "en": "Receivables"},
        filters=("order_id", "customer_id", "status", "due_on", "owner_id"),
        sortable=("id", "due_on", "amount", "paid_amount", "status", "instalment", "created_at"),
        parent=("order_id", "orders"),
        check=orders.check_receivable,
        before_delete=orders.refuse_paid_receivable,
    )
)
register(
    Collection(
        name="payments",
        model=orders.Payment,
        schema=orders.PaymentSchema,
        label={"zh": "回款", "en": "Payments"},
        search=("reference",),
        filters=("customer_id", "order_id", "receivable_id", "method", "paid_on", "owner_id"),
        sortable=("id", "paid_on", "amount", "created_at"),
        parent=("customer_id", "customers"),
        timeline=("created_at", "amount"),
        references={"order_id": "orders", "receivable_id": "receivables"},
        immutable=("receivable_id", "order_id", "amount"),
        check=orders.check_payment,
        after_save=orders.apply_payment,
        before_delete=orders.revoke_payment,
    )
)
register(
    Collection(
        name="commissions",
        model=sales_targets.Commission,
        schema=sales_targets.CommissionSchema,
        label={"zh": "提成", "en": "Commissions"},
        filters=("user_id", "order_id", "period", "status", "owner_id", "org_unit_id"),
        sortable=("id", "period", "amount", "created_at"),
        references={"user_id": User, "order_id": "orders"},
        immutable=("user_id", "order_id"),
        check=sales_targets.check_commission,
        owner=sales_targets.commission_owner,
    )
)
register(
    Collection(
        name="sales-plans",
        model=sales_targets.SalesPlan,
        schema=sales_targets.SalesPlanSchema,
        label={"zh": "销售计划", "en": "Sales plans"},
        filters=("user_id", "org_unit_id", "period", "owner_id"),
        sortable=("id", "period", "target_amount", "created_at"),
        references={"user_id": User},
        immutable=("user_id",),
        check=sales_targets.check_sales_plan,
        owner=sales_targets.sales_plan_owner,
    )
)

# --- service ----------------------------------------------------------------------------
register(
    Collection(
        name="service-requests",
        model=service.ServiceRequest,
        schema=service.ServiceRequestSchema,
        label={"zh": "服务请求", "en": "Service requests"},
        search=("subject", "description"),
        filters=(
            "customer_id",
            "contact_id",
            "product_id",
            "contract_id",
            "channel",
            "priority",
            "status",
            "assignee_id",
            "owner_id",
            "org_unit_id",
        ),
        sortable=("id", "priority", "sla_due_at", "status", "created_at", "updated_at"),
        parent=("customer_id", "customers"),
        timeline=("created_at", "subject"),
        references={
            "contact_id": "contacts",
            "product_id": "products",
            "contract_id": "contracts",
            "assignee_id": User,
        },
        check=service.check_service_request,
    )
)
register(
    Collection(
        name="defects",
        model=service.Defect,
        schema=service.DefectSchema,
        label={"zh": "产品缺陷", "en": "Defects"},
        search=("description", "root_cause"),
        filters=("product_id", "service_request_id", "severity", "status", "owner_id"),
        sortable=("id", "severity", "status", "created_at", "updated_at"),
        references={"product_id": "products", "service_request_id": "service-requests"},
        check=service.check_defect,
    )
)
register(
    Collection(
        name="articles",
        model=service.Article,
        schema=service.ArticleSchema,
        label={"zh": "知识库", "en": "Knowledge base"},
        search=("title", "problem", "solution"),
        filters=("product_id",),
        sortable=("id", "title", "created_at", "updated_at"),
        owned=False,
        references={"product_id": "products"},
    )
)

# --- marketing --------------------------------------------------------------------------
register(
    Collection(
        name="campaigns",
        model=marketing.Campaign,
        schema=marketing.CampaignSchema,
        label={"zh": "营销活动", "en": "Campaigns"},
        search=("name", "description"),
        filters=("channel", "status", "owner_id"),
        sortable=("id", "name", "starts_on", "ends_on", "budget", "created_at"),
        check=marketing.check_campaign,
    )
)


def get_collection(name: str) -> Collection:
    from core.errors import NotFound

    collection = COLLECTIONS.get(name)
    if collection is None:
        raise NotFound(f"There is no collection '{name}'.")
    return collection


def subject_type_of(collection: str) -> str:
    """The subject type a process instance about a record of `collection` carries:
    customers → customer, opportunities → opportunity, service-requests → service_request."""
    name = collection.replace("-", "_")
    if name.endswith("ies"):
        return name.removesuffix("ies") + "y"
    return name.removesuffix("s")
