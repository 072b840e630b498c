"""Tables of reminder rules and start rules, and of what they already fired.

Rules are rows an administrator edits at run time; every job run reads them afresh, so a
change is effective on the next run in every worker. The "fired" tables are the memory that
makes both jobs idempotent: a unique key per occurrence, written in the same transaction as the
process instance it started.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base, JsonType, UtcDateTime


class ReminderRule(Base):
    __tablename__ = "reminder_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # date_field | holiday | no_contact (see crm_domain/reminders/sources.py)
    kind: Mapped[str] = mapped_column(String(20))
    collection: Mapped[str] = mapped_column(String(50))
    # A Date column of the collection, or "custom.<name>" of a custom date field.
    date_field: Mapped[str | None] = mapped_column(String(100))
    yearly: Mapped[bool] = mapped_column(Boolean, default=False)  # birthdays, anniversaries
    days: Mapped[int] = mapped_column(Integer, default=0)
    timing: Mapped[str] = mapped_column(String(10), default="before")  # before | after
    recipients: Mapped[list] = mapped_column(JsonType, default=list)  # ["owner", "role:x", ...]
    manager_role: Mapped[str] = mapped_column(String(80), default="sales_manager")
    channels: Mapped[list] = mapped_column(JsonType, default=list)  # ["in_app", "email"]
    message: Mapped[dict] = mapped_column(JsonType, default=dict)  # {"zh": ..., "en": ...}
    filters: Mapped[dict] = mapped_column(JsonType, default=dict)  # {"grade": ["A", "B"], ...}
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)


class FiredReminder(Base):
    """One reminder created: at most one per (rule, record, occurrence date), ever."""

    __tablename__ = "fired_reminder"
    __table_args__ = (
        UniqueConstraint("rule_id", "record_id", "occurrence", name="uq_fired_reminder_occurrence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("reminder_rule.id", ondelete="CASCADE"))
    collection: Mapped[str] = mapped_column(String(50))
    record_id: Mapped[int] = mapped_column(Integer)
    # The date reminded about (expiry, due date, holiday, ...), not the day it fired: changing
    # a rule's "days before" moves the firing day but never repeats an occurrence.
    occurrence: Mapped[date] = mapped_column(Date)
    fired_on: Mapped[date] = mapped_column(Date)
    # The process instance started (engine table; no foreign key across the layers).
    instance_id: Mapped[int | None] = mapped_column(Integer)
    recipient_ids: Mapped[list] = mapped_column(JsonType, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)


class StartRule(Base):
    """Start a process when a CRM record event happens (created, or a field reaching a value)."""

    __tablename__ = "start_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(20))  # created | updated | field_reached
    collection: Mapped[str] = mapped_column(String(50))
    field: Mapped[str | None] = mapped_column(String(100))  # for field_reached
    value: Mapped[object | None] = mapped_column(JsonType)  # for field_reached
    conditions: Mapped[dict] = mapped_column(JsonType, default=dict)  # {field: value|[values]}
    process_key: Mapped[str] = mapped_column(String(255))
    data_mapping: Mapped[dict] = mapped_column(JsonType, default=dict)  # {variable: field}
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Events (audit entries) up to this id happened before the rule existed: never fired.
    after_entry_id: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)


class StartRuleFiring(Base):
    """One event matched by one start rule: started once, or failed visibly and retried."""

    __tablename__ = "start_rule_firing"
    __table_args__ = (
        UniqueConstraint("rule_id", "entry_id", name="uq_start_rule_firing_event"),
        Index("ix_start_rule_firing_retry", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("start_rule.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(Integer)  # the audit entry that is the event
    collection: Mapped[str] = mapped_column(String(50))
    record_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10))  # started | failed | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The process instance started (engine table; no foreign key across the layers).
    instance_id: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)


class RuleJobCursor(Base):
    """How far a job has read an append-only table (the audit trail), so it never rescans."""

    __tablename__ = "rule_job_cursor"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
