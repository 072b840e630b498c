"""Roles: which actions on which collections, with a data scope per collection, plus grants.

A role's `permissions` is `{collection: {"actions": [...], "scope": "own|unit|subtree|all"}}`;
`grants` are special permissions (export, view sensitive fields, ...). A user's effective right
on a collection is the union over their roles, with the widest scope that allows the action.
Roles are rows: an admin changes them and every worker sees it on the next request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import clock
from core.db import Base, JsonType, UtcDateTime

ACTIONS = ("read", "create", "update", "delete")
SCOPES = ("own", "unit", "subtree", "all")  # narrowest first
GRANTS = (
    "export",
    "import",
    "view_sensitive",
    "manage_fields",
    "manage_users",
    "manage_roles",
    "manage_settings",
    "deploy_processes",
)
# Kept apart from administration: an administrator does not hold these by being one (a plain
# admin cannot deploy BPMN; the process designer role, or a role granted it, can).
SEPARATED_GRANTS = frozenset({"deploy_processes"})
SALES_RECORDS = (
    "customers",
    "contacts",
    "interactions",
    "opportunities",
    "quotes",
    "contracts",
    "orders",
    "receivables",
    "payments",
)
SALES_TARGETS = ("commissions", "sales-plans")  # set by managers, read by the salesperson
SERVICE_RECORDS = ("service-requests", "defects")
CATALOGUE = ("products", "articles", "campaigns")
ALL_COLLECTIONS = (*SALES_RECORDS, *SALES_TARGETS, *SERVICE_RECORDS, *CATALOGUE)

READ = ["read"]
WRITE = ["read", "create", "update"]
FULL = ["read", "create", "update", "delete"]


def _rights(collections, actions, scope) -> dict:
    return {name: {"actions": list(actions), "scope": scope} for name in collections}


BUILT_IN = {
    "user": {
        "name": {"zh": "普通用户", "en": "General user"},
        "permissions": {**_rights(("products", "articles"), READ, "all")},
        "grants": [],
    },
    "salesperson": {
        "name": {"zh": "销售员", "en": "Salesperson"},
        "permissions": {
            **_rights(SALES_RECORDS, WRITE, "own"),
            **_rights(SALES_TARGETS, READ, "own"),
            **_rights(CATALOGUE, READ, "all"),
            **_rights(SERVICE_RECORDS, READ, "own"),
        },
        "grants": [],
    },
    "sales_manager": {
        "name": {"zh": "销售经理", "en": "Sales manager"},
        "permissions": {
            **_rights(SALES_RECORDS, FULL, "subtree"),
            **_rights(SALES_TARGETS, FULL, "subtree"),
            **_rights(SERVICE_RECORDS, READ, "subtree"),
            **_rights(CATALOGUE, WRITE, "all"),
        },
        "grants": ["export", "import", "view_sensitive"],
    },
    "executive": {
        "name": {"zh": "高层管理者", "en": "Executive"},
        "permissions": _rights(ALL_COLLECTIONS, READ, "all"),
        "grants": ["export", "view_sensitive"],
    },
    "service_agent": {
        "name": {"zh": "服务专员", "en": "Service agent"},
        "permissions": {
            **_rights(SERVICE_RECORDS, WRITE, "unit"),
            **_rights(("customers", "contacts", "contracts"), READ, "unit"),
            **_rights(("interactions",), WRITE, "unit"),
            **_rights(CATALOGUE, READ, "all"),
            "articles": {"actions": WRITE, "scope": "all"},
        },
        "grants": [],
    },
    "process_designer": {
        "name": {"zh": "流程设计员", "en": "Process designer"},
        "permissions": _rights(CATALOGUE, READ, "all"),
        "grants": ["deploy_processes"],
    },
    "admin": {
        "name": {"zh": "系统管理员", "en": "System administrator"},
        "permissions": _rights(ALL_COLLECTIONS, FULL, "all"),
        "grants": [grant for grant in GRANTS if grant not in SEPARATED_GRANTS],
    },
}


class Role(Base):
    __tablename__ = "role"

    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[dict] = mapped_column(JsonType, default=dict)
    permissions: Mapped[dict] = mapped_column(JsonType, default=dict)
    grants: Mapped[list] = mapped_column(JsonType, default=list)
    built_in: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)


def ensure_built_in_roles(session: Session) -> None:
    """Create the built-in roles that are missing; never overwrite an admin's edits."""
    existing = set(session.scalars(select(Role.key)))
    for key, spec in BUILT_IN.items():
        if key not in existing:
            session.add(Role(key=key, built_in=True, **spec))
    session.flush()


def role_keys(session: Session) -> set[str]:
    return set(session.scalars(select(Role.key))) | set(BUILT_IN)


class Rights:
    """What one user may do, resolved from their roles' rows (read fresh each request)."""

    def __init__(self, roles: list[Role]):
        self.is_admin = any(role.key == "admin" for role in roles)
        self.grants = {grant for role in roles for grant in role.grants or []}
        self._scopes: dict[tuple[str, str], str] = {}
        for role in roles:
            for collection, right in (role.permissions or {}).items():
                scope = right.get("scope", "own")
                for action in right.get("actions", []):
                    held = self._scopes.get((collection, action))
                    if held is None or SCOPES.index(scope) > SCOPES.index(held):
                        self._scopes[(collection, action)] = scope

    def scope(self, collection: str, action: str) -> str | None:
        """The widest scope in which the user may do `action`, or None when they may not."""
        if self.is_admin:
            return "all"
        return self._scopes.get((collection, action))

    def has_grant(self, grant: str) -> bool:
        return grant in self.grants or (self.is_admin and grant not in SEPARATED_GRANTS)


def rights_of(session: Session, role_names: list[str]) -> Rights:
    roles = list(session.scalars(select(Role).where(Role.key.in_(role_names))))
    return Rights(roles)


def _checked_rights(permissions, grants) -> dict[str, list[str]]:
    from crm_domain.collections import COLLECTIONS

    errors: dict[str, list[str]] = {}
    if permissions is not None:
        if not isinstance(permissions, dict):
            return {"permissions": ["Give {collection: {actions, scope}}."]}
        for collection, right in permissions.items():
            path = f"permissions.{collection}"
            if collection not in COLLECTIONS:
                errors[path] = ["Unknown collection."]
            elif not isinstance(right, dict) or set(right) - {"actions", "scope"}:
                errors[path] = ["Give {actions: [...], scope: ...}."]
            else:
                actions = right.get("actions", [])
                if not isinstance(actions, list) or set(actions) - set(ACTIONS):
                    errors[f"{path}.actions"] = [f"Use actions from: {', '.join(ACTIONS)}."]
                if right.get("scope", "own") not in SCOPES:
                    errors[f"{path}.scope"] = [f"Use one of: {', '.join(SCOPES)}."]
    if grants is not None and (not isinstance(grants, list) or set(grants) - set(GRANTS)):
        errors["grants"] = [f"Use grants from: {', '.join(GRANTS)}."]
    return errors


def create_role(
    session: Session,
    key: str,
    name: dict,
    permissions: dict,
    grants: list,
    *,
    actor: Any = None,
) -> Role:
    from core.errors import Conflict, Invalid
    from crm_domain.admin_audit import record_admin_change, snapshot

    errors = _checked_rights(permissions, grants)
    if not key or not key.replace("_", "").isalnum() or not key[0].isalpha() or len(key) > 50:
        errors["key"] = ["Use letters, digits and '_', starting with a letter."]
    if errors:
        raise Invalid("The role is not valid.", details=errors)
    if session.get(Role, key) is not None:
        raise Conflict(f"Role '{key}' already exists.", details={"key": ["Taken."]})
    role = Role(key=key, name=name, permissions=permissions, grants=grants, built_in=False)
    session.add(role)
    session.flush()
    record_admin_change(session, actor, "role", key, None, snapshot(role, _NOT_AUDITED))
    return role


def change_role(session: Session, key: str, *, actor: Any = None, **changes) -> Role:
    """New rights take effect on each holder's next request (rights are read per request)."""
    from core.errors import Invalid, NotFound
    from crm_domain.admin_audit import record_admin_change, snapshot

    role = session.get(Role, key)
    if role is None:
        raise NotFound(f"Role '{key}' does not exist.")
    errors = _checked_rights(changes.get("permissions"), changes.get("grants"))
    if errors:
        raise Invalid("The role is not valid.", details=errors)
    before = snapshot(role, _NOT_AUDITED)
    for name, value in changes.items():
        setattr(role, name, value)
    role.updated_at = clock.now()
    session.flush()
    record_admin_change(session, actor, "role", key, before, snapshot(role, _NOT_AUDITED))
    return role


_NOT_AUDITED = frozenset({"updated_at"})
