"""The audit trail: who created, changed or deleted which CRM record, when, and the field diff."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import clock
from core.db import Base, JsonType, UtcDateTime


class AuditEntry(Base):
    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_record", "collection", "record_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    collection: Mapped[str] = mapped_column(String(50))
    record_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(20))  # create, update, delete
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now, index=True)
    changes: Mapped[dict] = mapped_column(JsonType, default=dict)  # {field: [before, after]}


def plain(value: Any) -> Any:
    """A value as JSON can hold it, for diffs."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):  # nested rows, e.g. a quote's lines
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def diff(before: dict, after: dict) -> dict[str, list]:
    changes = {}
    for name in sorted(set(before) | set(after)):
        old, new = plain(before.get(name)), plain(after.get(name))
        if old != new:
            changes[name] = [old, new]
    return changes


def record_change(
    session: Session,
    collection: str,
    record_id: Any,
    action: str,
    user_id: int | None,
    changes: dict,
) -> AuditEntry:
    entry = AuditEntry(
        collection=collection,
        record_id=str(record_id),
        action=action,
        user_id=user_id,
        at=clock.now(),
        changes=changes,
    )
    session.add(entry)
    return entry


def history_of(session: Session, collection: str, record_id: Any) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.collection == collection, AuditEntry.record_id == str(record_id))
            .order_by(AuditEntry.id)
        )
    )
