"""A customer's whole story in one list: every record about them, newest first.

Each collection that belongs to customers and names a `timeline` (time column, title column)
contributes its records, read through the same scoped queries as the API; the audit trail adds
changes to the customer record itself. Callers above the CRM (the engine) add process events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_domain import record_service
from crm_domain.access import Actor
from crm_domain.audit import AuditEntry
from crm_domain.collections import COLLECTIONS


def timeline_items(session: Session, actor: Actor, customer_id: int, limit: int = 200) -> list:
    record_service.get_record(session, actor, "customers", customer_id)  # 404 outside scope
    items: list[dict[str, Any]] = []
    for collection in COLLECTIONS.values():
        if not collection.timeline or not collection.parent:
            continue
        if (
            collection.parent[1] != "customers"
            or actor.rights.scope(collection.name, "read") is None
        ):
            continue
        time_column, title_column = collection.timeline
        model = collection.model
        stmt = (
            record_service.scoped_select(actor, collection)
            .where(getattr(model, collection.parent[0]) == customer_id)
            .order_by(getattr(model, time_column).desc())
            .limit(limit)
        )
        for record in session.scalars(stmt):
            items.append(
                _item(
                    collection.name,
                    getattr(record, time_column),
                    str(getattr(record, title_column) or ""),
                    record.id,
                    {"channel": getattr(record, "channel", None)},
                )
            )
    for entry in session.scalars(
        select(AuditEntry)
        .where(AuditEntry.collection == "customers", AuditEntry.record_id == str(customer_id))
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    ):
        fields = ", ".join(sorted(entry.changes)) if entry.action == "update" else ""
        items.append(_item("changes", entry.at, f"{entry.action} {fields}".strip(), entry.id, {}))
    return items


def _item(kind: str, at: datetime | None, title: str, ref: Any, extra: dict) -> dict:
    return {"kind": kind, "at": at, "title": title, "id": ref, **extra}


def merged(items: list[dict], limit: int = 200) -> list[dict]:
    """Newest first, with instants as ISO strings."""
    ordered = sorted(
        (item for item in items if item["at"] is not None), key=lambda i: i["at"], reverse=True
    )
    return [{**item, "at": item["at"].isoformat()} for item in ordered[:limit]]
