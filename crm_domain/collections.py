"""The CRM collections the API, import/export and processes share, and how each is searched."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from marshmallow import Schema

from crm_domain.customers import Contact, ContactSchema, Customer, CustomerSchema, pinyin_of
from crm_domain.interactions import Interaction, InteractionSchema
from crm_domain.products import Product, ProductSchema


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
    )
)


def get_collection(name: str) -> Collection:
    from core.errors import NotFound

    collection = COLLECTIONS.get(name)
    if collection is None:
        raise NotFound(f"There is no collection '{name}'.")
    return collection
