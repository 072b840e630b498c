"""Helpers for scripts and conditions that read the CRM: `customer(id)`, `contract(id)`,
`order(id)`, `record(collection, id)`, `acting_user()` and `round_money(value)`.

Each returns a plain dict, as the REST API shows the record to the instance's acting user
(scoped and masked the same way). A record the acting user cannot see raises an error that
becomes an incident naming it. They work inside a running instance only.
"""

from __future__ import annotations

import decimal
from typing import Any

from core.errors import WeftError
from crm_domain.collections import get_collection
from crm_domain.record_service import get_record, to_dict
from engine.operations.context import current_context
from engine.sandbox import round_money as _round_to

DEFAULT_MONEY_PLACES = 2


class RecordNotReadable(LookupError):
    pass


def read_record(collection: str, record_id: Any) -> dict:
    """The record as a plain dict, read as the instance's acting user."""
    ctx = current_context()
    try:
        get_collection(collection)
    except WeftError as exc:
        raise RecordNotReadable(exc.message) from None
    if isinstance(record_id, str) and record_id.strip().isdigit():
        record_id = int(record_id)
    if not isinstance(record_id, int) or isinstance(record_id, bool):
        raise RecordNotReadable(f"A {collection} id must be a whole number, not {record_id!r}.")
    try:
        row = get_record(ctx.session, ctx.actor, collection, record_id)
    except WeftError as exc:
        raise RecordNotReadable(exc.message) from None
    return to_dict(ctx.session, ctx.actor, collection, row)


def customer(customer_id: Any) -> dict:
    return read_record("customers", customer_id)


def contract(contract_id: Any) -> dict:
    return read_record("contracts", contract_id)


def order(order_id: Any) -> dict:
    return read_record("orders", order_id)


def acting_user() -> dict:
    """Who the instance acts as (its starter, or the system user): id, username, name, roles."""
    user = current_context().user
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "roles": list(user.roles or ()),
    }


def money_places() -> int:
    """The configured decimal places for money (`money.decimal_places`), default 2."""
    try:
        from crm_domain.settings import get_setting  # added by the settings work; optional here
    except ImportError:
        return DEFAULT_MONEY_PLACES
    try:
        ctx = current_context()
    except RuntimeError:
        return DEFAULT_MONEY_PLACES
    try:
        return int(get_setting(ctx.session, "money.decimal_places"))
    except (WeftError, LookupError, TypeError, ValueError):
        return DEFAULT_MONEY_PLACES


def round_money(value: Any, places: int | None = None) -> float:
    """Round half up to the configured money decimal places (or `places` when given)."""
    if isinstance(value, float):
        value = decimal.Decimal(str(value))
    return _round_to(value, money_places() if places is None else places)


CRM_HELPERS: dict[str, Any] = {
    "acting_user": acting_user,
    "customer": customer,
    "contract": contract,
    "order": order,
    "record": read_record,
    "round_money": round_money,
}
