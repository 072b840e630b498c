"""One record's audit trail as the actor may see it.

The trail stores the real before/after values; whoever reads it without the `view_sensitive`
grant gets sensitive fields (bank account, tax id, sensitive custom fields) masked exactly as
the record itself is masked in lists, details and exports, so the history is no side door.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm_domain import custom_fields, record_service
from crm_domain.access import Actor
from crm_domain.audit import history_of
from crm_domain.collections import get_collection


def record_history(session: Session, actor: Actor, name: str, record_id: int) -> list[dict]:
    """`[{id, action, user_id, at, changes: {field: [before, after]}}]`, oldest first; 404 for
    a record outside the actor's scope."""
    record_service.get_record(session, actor, name, record_id)
    hidden = set() if actor.rights.has_grant("view_sensitive") else _sensitive_keys(session, name)
    return [
        {
            "id": entry.id,
            "action": entry.action,
            "user_id": entry.user_id,
            "at": entry.at.isoformat(),
            "changes": {
                key: [record_service.mask(value) for value in values] if key in hidden else values
                for key, values in (entry.changes or {}).items()
            },
        }
        for entry in history_of(session, name, record_id)
    ]


def _sensitive_keys(session: Session, name: str) -> set[str]:
    keys = set(get_collection(name).sensitive)
    # Archived fields too: their old values are still in the trail.
    for field in custom_fields.list_fields(session, name, archived=True):
        if field.sensitive:
            keys.add(f"custom.{field.name}")
    return keys
