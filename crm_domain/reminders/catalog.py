"""What reminder and start rules may refer to: collections, their date fields, placeholders.

Everything is read from the collection registry and the custom field rows, so a custom date
field an administrator adds today can drive a reminder rule today.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, inspect
from sqlalchemy.orm import Session

from crm_domain import custom_fields
from crm_domain.collections import COLLECTIONS, Collection, get_collection, subject_type_of
from crm_domain.customers import Customer

PLAIN_TYPES = (str, int, Decimal, date, datetime, bool)


def owned_collections() -> list[str]:
    return sorted(name for name, c in COLLECTIONS.items() if c.owned)


def date_columns(collection: Collection) -> list[str]:
    return sorted(
        column.key
        for column in inspect(collection.model).columns
        if isinstance(column.type, Date) and not column.key.startswith("_")
    )


def custom_date_fields(session: Session, collection: str) -> list[str]:
    return [
        f"custom.{f.name}"
        for f in custom_fields.active_fields(session, collection)
        if f.spec.get("type") == "date"
    ]


def plain_columns(collection: Collection) -> list[str]:
    """Scalar, non-sensitive columns: what a message may show."""
    names = []
    for column in inspect(collection.model).columns:
        if column.key in collection.sensitive or column.key in ("custom", "pinyin"):
            continue
        try:
            kind = column.type.python_type
        except NotImplementedError:
            continue
        if issubclass(kind, PLAIN_TYPES):
            names.append(column.key)
    return names


def has_customer(collection: Collection) -> bool:
    return collection.model is not Customer and hasattr(collection.model, "customer_id")


def allowed_placeholders(collection_name: str) -> set[str]:
    from crm_domain.reminders.templates import ALIASES, GENERAL

    collection = get_collection(collection_name)
    prefixes = [(subject_type_of(collection_name), collection)]
    if has_customer(collection):
        prefixes.append(("customer", get_collection("customers")))
    names = set(GENERAL)
    for prefix, source in prefixes:
        columns = plain_columns(source)
        names.update(f"{prefix}.{c}" for c in columns)
        names.update(
            f"{prefix}.{alias}"
            for alias, candidates in ALIASES.items()
            if any(c in columns for c in candidates)
        )
    return names


def about_customers(collection: Collection) -> bool:
    """Whether each record is a customer or belongs to one (so a customer segment applies)."""
    return collection.model is Customer or has_customer(collection)


def filter_keys(collection_name: str) -> set[str]:
    """Filter keys of a rule: the collection's own list filters, `customer.<filter>`, and
    `segment` (a saved customer segment's id) where the records have a customer."""
    collection = get_collection(collection_name)
    keys = set(collection.filters)
    if has_customer(collection):
        keys.update(f"customer.{k}" for k in get_collection("customers").filters)
    if about_customers(collection):
        keys.add("segment")
    return keys
