"""What every admin-configured rule (reminder rules, start rules) goes through when it is
stored: created, changed in place or deleted, each change in the admin audit log with the rule
before and after. The rule modules keep only what differs: their fields and checks."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.orm import Session

from core import clock
from core.errors import Invalid, NotFound
from crm_domain.admin_audit import record_admin_change, snapshot

Rule = TypeVar("Rule")


def get_rule(session: Session, model: type[Rule], rule_id: int, label: str) -> Rule:
    rule = session.get(model, rule_id)
    if rule is None:
        raise NotFound(f"{label} {rule_id} does not exist.")
    return rule


def require_object(data: Any) -> dict:
    if not isinstance(data, dict):
        raise Invalid("Send a JSON object.", details={"": ["Must be an object."]})
    return data


def add_rule(session: Session, actor: Any, kind: str, rule: Any) -> Any:
    """Store a new rule, stamped now, and log its creation."""
    rule.created_by_id = actor.id if actor else None
    rule.created_at = rule.updated_at = clock.now()
    session.add(rule)
    session.flush()
    record_admin_change(session, actor, kind, _target(kind, rule), None, snapshot(rule))
    return rule


def change_rule(session: Session, actor: Any, kind: str, rule: Any, values: dict) -> Any:
    """Apply checked values to a stored rule and log it before and after."""
    before = snapshot(rule)
    for key, value in values.items():
        setattr(rule, key, value)
    rule.updated_at = clock.now()
    session.flush()
    record_admin_change(session, actor, kind, _target(kind, rule), before, snapshot(rule))
    return rule


def delete_rule(session: Session, actor: Any, kind: str, rule: Any) -> None:
    before, target = snapshot(rule), _target(kind, rule)
    session.delete(rule)
    session.flush()
    record_admin_change(session, actor, kind, target, before, None)


def _target(kind: str, rule: Any) -> str:
    return f"{kind}:{rule.id}"
