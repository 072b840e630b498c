"""What each record list shows: its columns, its filter drop-downs, its sort choices.

Column headings come from the exchange format (the same zh/en labels as import and export),
so a list, its export and the import template name a field the same way. Coded values
(statuses, stages, channels) are shown in the reader's language through `code_label`.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from marshmallow import validate

from crm_domain.collections import get_collection
from crm_domain.exchange.columns import CHOICE_LABELS, exchange_format
from crm_domain.orders import RECEIVABLE_STATUSES
from web.ui.i18n import is_chinese


@dataclass(frozen=True)
class ListSpec:
    columns: tuple[str, ...]  # API field names, in table order; the first links to the record
    filters: tuple[str, ...]  # fields with fixed codes offered as drop-downs
    sorts: tuple[str, ...]  # offered sort keys ("-" = descending), the first is the default
    money: tuple[str, ...] = ()  # columns shown as money


LISTS: dict[str, ListSpec] = {
    "customers": ListSpec(
        ("name", "grade", "region", "industry", "lifecycle_stage", "phone", "total_business"),
        ("grade", "lifecycle_stage", "relation", "kind"),
        ("-updated_at", "name", "-total_business", "grade", "region"),
        money=("total_business",),
    ),
    "opportunities": ListSpec(
        ("title", "customer_id", "stage", "amount", "probability", "expected_close"),
        ("stage",),
        ("-created_at", "expected_close", "-amount", "title"),
        money=("amount",),
    ),
    "quotes": ListSpec(
        ("quote_no", "customer_id", "status", "total", "valid_until", "created_at"),
        ("status", "currency"),
        ("-created_at", "quote_no", "-total", "valid_until"),
        money=("total",),
    ),
    "contracts": ListSpec(
        ("contract_no", "title", "customer_id", "status", "value", "starts_on", "ends_on"),
        ("status",),
        ("-created_at", "contract_no", "ends_on", "-value"),
        money=("value",),
    ),
    "orders": ListSpec(
        ("order_no", "customer_id", "status", "total", "ordered_on", "promised_on"),
        ("status", "currency"),
        ("-created_at", "order_no", "promised_on", "-total"),
        money=("total",),
    ),
    "receivables": ListSpec(
        ("order_id", "customer_id", "instalment", "due_on", "amount", "paid_amount", "status"),
        ("status",),
        ("due_on", "-due_on", "-amount", "status"),
        money=("amount", "paid_amount"),
    ),
    "service-requests": ListSpec(
        ("subject", "customer_id", "priority", "status", "channel", "sla_due_at"),
        ("status", "priority", "channel"),
        ("-created_at", "sla_due_at", "priority", "status"),
    ),
}
LISTED = tuple(LISTS)

LIST_TITLES = {
    "customers": _l("Customers"),
    "opportunities": _l("Opportunities"),
    "quotes": _l("Quotes"),
    "contracts": _l("Contracts"),
    "orders": _l("Orders"),
    "receivables": _l("Receivables"),
    "service-requests": _l("Service requests"),
}

# Codes the CHOICE_LABELS table of the import format does not name (statuses, stages, ...).
CODE_LABELS = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "sent": _l("Sent"),
    "accepted": _l("Accepted"),
    "expired": _l("Expired"),
    "active": _l("Active"),
    "terminated": _l("Terminated"),
    "renewed": _l("Renewed"),
    "confirmed": _l("Confirmed"),
    "in_production": _l("In production"),
    "shipped": _l("Shipped"),
    "delivered": _l("Delivered"),
    "completed": _l("Completed"),
    "cancelled": _l("Cancelled"),
    "open": _l("Open"),
    "partially_paid": _l("Partially paid"),
    "paid": _l("Paid"),
    "overdue": _l("Overdue"),
    "prospecting": _l("Prospecting"),
    "qualification": _l("Qualification"),
    "proposal": _l("Proposal"),
    "negotiation": _l("Negotiation"),
    "won": _l("Won"),
    "lost": _l("Lost"),
    "new": _l("New"),
    "acknowledged": _l("Acknowledged"),
    "assigned": _l("Assigned"),
    "in_progress": _l("In progress"),
    "waiting_customer": _l("Waiting for customer"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
    "low": _l("Low"),
    "normal": _l("Normal"),
    "high": _l("High"),
    "urgent": _l("Urgent"),
}


def code_label(field: str, code) -> str:
    """A stored code in the reader's language: 合作中 / Active."""
    if code is None or code == "":
        return ""
    names = CHOICE_LABELS.get(field, {}).get(code)
    if names and is_chinese():
        return names[0]
    if code in CODE_LABELS:
        return str(CODE_LABELS[code])
    return str(code).replace("_", " ").capitalize() if not is_chinese() else str(code)


def filter_choices(collection: str, field: str) -> list[str]:
    """The codes a field accepts, read from the API schema's own validator."""
    if collection == "receivables" and field == "status":
        return list(RECEIVABLE_STATUSES)  # computed from amounts and dates, not validated
    schema_field = get_collection(collection).schema().fields.get(field)
    for validator in getattr(schema_field, "validators", ()):
        if isinstance(validator, validate.OneOf):
            return list(validator.choices)
    return []


def column_labels(session, collection: str) -> dict[str, str]:
    """Field name -> heading in the reader's language (the import/export labels)."""
    lang = "zh" if is_chinese() else "en"
    return {
        column.name: column.label.get(lang) or column.label.get("en") or column.name
        for column in exchange_format(session, collection).columns
    }
