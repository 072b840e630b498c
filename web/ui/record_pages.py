"""Read-only pages of a quote and an order with their lines, linked from the record lists.

The record is read through `record_service.get_record` (the API's scope: outside it the page is
"not found"). Quantities are shown with `quantity.decimal_places` places, read from the system
settings on every request, so an administrator's change shows on the next page view; amounts
are money in the record's currency.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from core.errors import Forbidden, NotFound
from crm_domain import record_service
from crm_domain.access import Actor, actor_for
from crm_domain.settings import get_setting
from web.request_session import db
from web.ui.record_columns import LIST_TITLES, code_label, column_labels
from web.ui.session_auth import signed_in_user

bp = Blueprint("ui_record_pages", __name__)

# Per collection: (the field naming the record, summary fields in order, money fields, dates).
PAGES = {
    "quotes": (
        "quote_no",
        ("status", "valid_until", "currency", "discount_percent", "subtotal", "discount_amount"),
        ("subtotal", "discount_amount", "total"),
    ),
    "orders": (
        "order_no",
        ("status", "ordered_on", "promised_on", "currency"),
        ("total",),
    ),
}
COLLECTION = "<any(" + ", ".join(f'"{name}"' for name in PAGES) + "):collection>"


def _customer_name(actor: Actor, customer_id: int | None) -> str | None:
    """The customer's name when the reader may see the customer, else None (shown as #id)."""
    if customer_id is None:
        return None
    try:
        return record_service.get_record(db(), actor, "customers", customer_id).name
    except (NotFound, Forbidden):
        return None


@bp.get(f"/{COLLECTION}/<int:record_id>")
@login_required
def record_page(collection: str, record_id: int):
    session = db()
    actor = actor_for(session, signed_in_user())
    record = record_service.get_record(session, actor, collection, record_id)
    name_field, summary, money = PAGES[collection]
    labels = column_labels(db(), collection)
    rows = []
    for field in summary:
        value = getattr(record, field, None)
        if value is None or value == "":
            continue
        row = {"name": field, "label": labels.get(field, field), "value": value}
        if field == "status":
            row["value"] = code_label(field, value)
        row["money"] = field in money
        row["when"] = field.endswith(("_on", "_until"))
        rows.append(row)
    return render_template(
        "ui/record_page.html",
        collection=collection,
        list_title=LIST_TITLES[collection],
        title=getattr(record, name_field),
        record=record,
        rows=rows,
        labels=labels,
        customer_name=_customer_name(actor, record.customer_id),
        lines=list(record.lines),
        quantity_places=get_setting(session, "quantity.decimal_places"),
        currency=record.currency or "CNY",
    )
