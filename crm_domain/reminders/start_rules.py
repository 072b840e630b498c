"""Event → process start rules: validation, CRUD, and which record events a rule matches.

The events are the audit trail's entries (crm_domain/audit.py): every create and update of a
record writes one in the record's own transaction, with the field diff — so "the stage became
negotiation" is read from the diff, not guessed from the record's state later. The engine's job
(engine/start_rules.py) reads new entries after commit and starts the processes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import Invalid
from crm_domain import custom_fields
from crm_domain.audit import AuditEntry, plain
from crm_domain.collections import COLLECTIONS, get_collection
from crm_domain.reminders import rule_store
from crm_domain.reminders.models import StartRule, StartRuleFiring
from crm_domain.users import User

EVENTS = ("created", "updated", "field_reached")
ACTIONS = {"created": ("create",), "updated": ("update",), "field_reached": ("create", "update")}
VARIABLE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
KIND = "start_rule"  # in the admin audit log
FIELDS = (
    "name",
    "event",
    "collection",
    "field",
    "value",
    "conditions",
    "process_key",
    "data_mapping",
    "active",
)


def record_fields(session: Session, collection: str) -> set[str]:
    """Fields a rule may test or map: the record's API fields and `custom.<name>`."""
    spec = get_collection(collection)
    names = set(spec.schema().fields) | {"id", "owner_id", "org_unit_id", "created_by_id"}
    names.update(f"custom.{f.name}" for f in custom_fields.active_fields(session, collection))
    return names


def checked_start_rule(
    session: Session, data: Any, process_exists: Callable[[str], bool]
) -> dict[str, Any]:
    data = rule_store.require_object(data)
    errors: dict[str, list[str]] = {}

    def error(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    for key in sorted(set(data) - set(FIELDS)):
        error(key, "Unknown field.")
    values = {
        "field": None,
        "value": None,
        "conditions": {},
        "data_mapping": {},
        "active": True,
        **{k: v for k, v in data.items() if k in FIELDS},
    }
    name = values.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 200:
        error("name", "Give a name of 1 to 200 characters.")
    event = values.get("event")
    if event not in EVENTS:
        error("event", f"Use one of: {', '.join(EVENTS)}.")
    collection = values.get("collection")
    known: set[str] = set()
    if collection not in COLLECTIONS:
        error("collection", f"Use one of: {', '.join(sorted(COLLECTIONS))}.")
    else:
        known = record_fields(session, collection)
    if event == "field_reached":
        if values["field"] not in known and collection in COLLECTIONS:
            error("field", "Name a field of the collection.")
        if values["value"] is None or not _scalar(values["value"]):
            error("value", "Give the value the field must reach (text, number or true/false).")
    elif event in EVENTS and (values["field"] is not None or values["value"] is not None):
        error("field", "Only a field_reached rule has a field and value.")
    conditions = values["conditions"]
    if not isinstance(conditions, dict):
        error("conditions", 'Give an object like {"priority": ["high", "urgent"]}.')
    else:
        for key, wanted in conditions.items():
            if known and key not in known:
                error(f"conditions.{key}", "No such field in the collection.")
            elif not (
                _scalar(wanted)
                or wanted is None
                or (isinstance(wanted, list) and wanted and all(map(_scalar, wanted)))
            ):
                error(f"conditions.{key}", "Give a value or a non-empty list of values.")
    mapping = values["data_mapping"]
    if not isinstance(mapping, dict):
        error("data_mapping", 'Give an object like {"request_no": "request_no"}.')
    else:
        for variable, source in mapping.items():
            if not VARIABLE.match(str(variable)):
                error(f"data_mapping.{variable}", "A variable name is letters, digits and _.")
            elif known and source not in known:
                error(f"data_mapping.{variable}", "No such field in the collection.")
    key = values.get("process_key")
    if not isinstance(key, str) or not key.strip():
        error("process_key", "Name the process to start.")
    elif not process_exists(key):
        error("process_key", f"No process '{key}' is deployed.")
    if not isinstance(values["active"], bool):
        error("active", "Must be true or false.")
    if errors:
        raise Invalid("The start rule is not valid.", details=errors)
    values["name"] = values["name"].strip()
    return values


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) and len(str(value)) <= 200


def create_start_rule(
    session: Session, user: User | None, data: Any, process_exists: Callable[[str], bool]
) -> StartRule:
    values = checked_start_rule(session, data, process_exists)
    # Only events after the rule exists start anything; earlier ones are history.
    last_entry = session.scalar(select(func.max(AuditEntry.id))) or 0
    return rule_store.add_rule(session, user, KIND, StartRule(**values, after_entry_id=last_entry))


def get_start_rule(session: Session, rule_id: int) -> StartRule:
    return rule_store.get_rule(session, StartRule, rule_id, "Start rule")


def change_start_rule(
    session: Session,
    rule_id: int,
    data: Any,
    process_exists: Callable[[str], bool],
    *,
    actor: Any = None,
) -> StartRule:
    rule = get_start_rule(session, rule_id)
    current = {k: getattr(rule, k) for k in FIELDS}
    values = checked_start_rule(
        session, {**current, **rule_store.require_object(data)}, process_exists
    )
    return rule_store.change_rule(session, actor, KIND, rule, values)


def delete_start_rule(session: Session, rule_id: int, *, actor: Any = None) -> None:
    rule_store.delete_rule(session, actor, KIND, get_start_rule(session, rule_id))


def list_start_rules(session: Session) -> list[StartRule]:
    return list(session.scalars(select(StartRule).order_by(StartRule.id)))


def matches_event(rule: StartRule, entry: AuditEntry) -> bool:
    """Whether the audit entry is the rule's event (conditions are checked on the record)."""
    if entry.collection != rule.collection or entry.action not in ACTIONS[rule.event]:
        return False
    if entry.id <= rule.after_entry_id:
        return False
    if rule.event != "field_reached":
        return True
    change = (entry.changes or {}).get(rule.field)
    return change is not None and plain(change[1]) == plain(rule.value)


def meets_conditions(rule: StartRule, record: dict) -> bool:
    for key, wanted in (rule.conditions or {}).items():
        actual = _field(record, key)
        options = wanted if isinstance(wanted, list) else [wanted]
        if not any(plain(actual) == plain(option) for option in options):
            return False
    return True


def mapped_data(rule: StartRule, record: dict) -> dict:
    return {variable: _field(record, source) for variable, source in rule.data_mapping.items()}


def _field(record: dict, key: str) -> Any:
    if key.startswith("custom."):
        return (record.get("custom") or {}).get(key.removeprefix("custom."))
    return record.get(key)


def firing_summary(session: Session, rule_id: int) -> dict[str, int]:
    rows = session.execute(
        select(StartRuleFiring.status, func.count())
        .where(StartRuleFiring.rule_id == rule_id)
        .group_by(StartRuleFiring.status)
    )
    return {status: count for status, count in rows}


def list_firings(session: Session, rule_id: int, limit: int = 100) -> list[StartRuleFiring]:
    get_start_rule(session, rule_id)
    return list(
        session.scalars(
            select(StartRuleFiring)
            .where(StartRuleFiring.rule_id == rule_id)
            .order_by(StartRuleFiring.id.desc())
            .limit(limit)
        )
    )
