"""The admin audit log: every administrator or designer change — who, when, what, before/after.

Unlike `crm_domain.audit` (changes to CRM records), this logs changes to the system itself:
custom fields, roles, users, org units, webhooks, settings, process definitions, rules.
Any module records a change with `record_admin_change(session, actor, kind, target, before,
after)`; `search_admin_changes` answers "who changed what, when" by actor, kind, dates and text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, func, inspect, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import clock
from core.db import Base, JsonType, UtcDateTime
from core.digits import as_id
from crm_domain.audit import plain

# Columns never copied into the log: a password hash or a signing secret must not leak to
# everyone who may read the audit log.
SECRET_COLUMNS = frozenset({"password_hash", "secret", "token", "api_key"})
MAX_PER_PAGE = 200


class AdminChange(Base):
    __tablename__ = "admin_audit_entry"
    __table_args__ = (Index("ix_admin_audit_entry_kind_at", "kind", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    # The actor's username at the time: stays readable if the account is renamed or removed.
    actor_name: Mapped[str] = mapped_column(String(80), default="system")
    kind: Mapped[str] = mapped_column(String(40))  # field, role, user, org_unit, webhook, ...
    action: Mapped[str] = mapped_column(String(20))  # create, update, delete
    target: Mapped[str] = mapped_column(String(200))
    before: Mapped[Any] = mapped_column(JsonType, nullable=True)
    after: Mapped[Any] = mapped_column(JsonType, nullable=True)
    # Lower-cased target, actor and values with CJK kept as is, for portable text search
    # (SQLite stores JSON with \\u escapes, so LIKE on the JSON columns would miss 客户).
    search_text: Mapped[str] = mapped_column(Text, default="")


def snapshot(obj: Any, exclude: frozenset[str] = frozenset()) -> dict[str, Any] | None:
    """An ORM object's column values as plain JSON, without secrets, for before/after."""
    if obj is None:
        return None
    mapper = inspect(obj).mapper
    skip = SECRET_COLUMNS | exclude
    return {
        attr.key: plain(getattr(obj, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in skip
    }


def _changed_only(before: Any, after: Any) -> tuple[Any, Any]:
    """For two dicts keep only the keys that differ (plus `id`/`key`, which say what it is)."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return before, after
    keep = {name for name in set(before) | set(after) if before.get(name) != after.get(name)}
    keep |= {name for name in ("id", "key", "username", "name") if name in before or name in after}
    return (
        {name: before[name] for name in sorted(keep) if name in before},
        {name: after[name] for name in sorted(keep) if name in after},
    )


def record_admin_change(
    session: Session,
    actor: Any,
    kind: str,
    target: Any,
    before: Any,
    after: Any,
) -> AdminChange | None:
    """Log one admin/designer change; `before` None is a creation, `after` None a deletion.

    `actor` is the acting `User` or `access.Actor` (None: the system, e.g. a CLI command).
    Values are stored as plain JSON; for dicts only the keys that changed are kept. Nothing is
    logged when nothing changed. Flushes nothing: the entry commits with the change it
    describes, or not at all.
    """
    before, after = plain(before), plain(after)
    if before == after:
        return None
    before, after = _changed_only(before, after)
    action = "create" if before is None else "delete" if after is None else "update"
    user = getattr(actor, "user", actor)  # an access.Actor wraps the User
    actor_name = getattr(user, "username", None) or "system"
    text = " ".join(
        [
            kind,
            str(target),
            actor_name,
            json.dumps(before, ensure_ascii=False, default=str),
            json.dumps(after, ensure_ascii=False, default=str),
        ]
    ).lower()
    entry = AdminChange(
        at=clock.now(),
        actor_id=getattr(user, "id", None),
        actor_name=actor_name[:80],
        kind=kind[:40],
        action=action,
        target=str(target)[:200],
        before=before,
        after=after,
        search_text=text,
    )
    session.add(entry)
    return entry


@dataclass(frozen=True)
class AuditQuery:
    actor: str | None = None  # username or user id
    kind: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    text: str | None = None
    page: int = 1
    per_page: int = 50


def search_admin_changes(session: Session, query: AuditQuery) -> tuple[list[AdminChange], int]:
    """Matching entries, newest first, and the total count."""
    conditions = []
    if query.actor:
        by_name = AdminChange.actor_name == query.actor
        actor_id = as_id(query.actor)
        conditions.append(or_(by_name, AdminChange.actor_id == actor_id) if actor_id else by_name)
    if query.kind:
        conditions.append(AdminChange.kind == query.kind)
    if query.since:
        conditions.append(AdminChange.at >= query.since)
    if query.until:
        conditions.append(AdminChange.at < query.until)
    if query.text:
        pattern = "%" + _escape_like(query.text.lower()) + "%"
        conditions.append(AdminChange.search_text.like(pattern, escape="\\"))
    total = session.scalar(select(func.count(AdminChange.id)).where(*conditions)) or 0
    per_page = max(1, min(query.per_page, MAX_PER_PAGE))
    rows = session.scalars(
        select(AdminChange)
        .where(*conditions)
        .order_by(AdminChange.at.desc(), AdminChange.id.desc())
        .offset((max(query.page, 1) - 1) * per_page)
        .limit(per_page)
    )
    return list(rows), total


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def change_dict(entry: AdminChange) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "actor": {"id": entry.actor_id, "username": entry.actor_name},
        "kind": entry.kind,
        "action": entry.action,
        "target": entry.target,
        "before": entry.before,
        "after": entry.after,
    }
