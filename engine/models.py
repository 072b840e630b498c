"""Tables of the process engine: definitions, instances, the inbox, timers, messages, history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.db import Base, JsonType, UtcDateTime

INSTANCE_STATUSES = ("running", "waiting", "completed", "cancelled", "suspended", "error")


class ProcessDefinition(Base):
    """One version of one executable process. Immutable once written."""

    __tablename__ = "process_definition"
    __table_args__ = (
        UniqueConstraint("key", "version", name="uq_process_definition_key_version"),
        Index("ix_process_definition_key_hash", "key", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255), default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    # The files the version was built from: {filename: text} (BPMN and DMN XML).
    source_files: Mapped[dict] = mapped_column(JSON, deferred=True)
    bpmn_filename: Mapped[str] = mapped_column(String(255))
    # Serialized SpiffWorkflow specs: {"spec": ..., "subprocess_specs": {...}}.
    # Deferred: read only when the spec cache misses, never for lists or instance loads.
    spec: Mapped[dict] = mapped_column(JSON, deferred=True)
    # Form definitions pinned at deploy time: {form_key: definition}.
    forms: Mapped[dict] = mapped_column(JSON, default=dict)
    # Names of the messages its start events catch (messages can start instances).
    start_messages: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    deployed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)


class FormDefinition(Base):
    """Task forms uploaded on their own or with a BPMN; the latest of a key is used on deploy."""

    __tablename__ = "form_definition"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_form_definition_key_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict] = mapped_column(JSON)
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    deployed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)


class DecisionFile(Base):
    """DMN files kept so later BPMN uploads can call their decisions."""

    __tablename__ = "decision_file"
    __table_args__ = (
        UniqueConstraint("filename", "version", name="uq_decision_file_name_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)
    decision_ids: Mapped[list[str]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    xml: Mapped[str] = mapped_column(Text)
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    deployed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)


class ProcessInstance(Base):
    __tablename__ = "process_instance"
    __table_args__ = (
        Index("ix_process_instance_status", "status"),
        Index("ix_process_instance_subject", "subject_type", "subject_id"),
        Index("ix_process_instance_key", "process_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    process_key: Mapped[str] = mapped_column(String(255))
    definition_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    # The workflow's state without its specs (those live on the definition).
    state: Mapped[str] = mapped_column(Text)
    # A copy of the latest task data, for lists and searches that must not deserialize.
    data: Mapped[dict] = mapped_column(JsonType, default=dict)
    # Bumped on every write; every write is a compare-and-swap on it.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    subject_type: Mapped[str | None] = mapped_column(String(50))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    # Read-only links (no columns): a row loaded with its definition keeps it in the session.
    definition: Mapped[ProcessDefinition] = relationship(viewonly=True, lazy="select")


class HumanTask(Base):
    """The inbox: user tasks kept in step with the workflow, so lists never deserialize one."""

    __tablename__ = "human_task"
    __table_args__ = (Index("ix_human_task_instance", "instance_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # SpiffWorkflow task id
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    process_key: Mapped[str] = mapped_column(String(255))
    bpmn_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    lane: Mapped[str | None] = mapped_column(String(80))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    form_key: Mapped[str | None] = mapped_column(String(255))
    instructions: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    # Read-only link (no column), filled by engine.tasks.get_task in the same query.
    instance: Mapped[ProcessInstance] = relationship(viewonly=True, lazy="select")


# The inbox's pages in their exact order (web/ui/inbox*.py): "mine" and "available to my roles"
# are each an index range that stops after one page, the search lists the distinct task names
# first, the completed tab reads by who completed it (migrations 0006_ui, 0007_ui2,
# 0010_human_task_indexes; docs/PERFORMANCE.md, "Inbox page performance").
_inbox_order = (HumanTask.due_at, HumanTask.priority.desc(), HumanTask.id)
Index("ix_human_task_assignee_page", HumanTask.status, HumanTask.assignee_id, *_inbox_order)
Index("ix_human_task_lane_page", HumanTask.status, HumanTask.lane, *_inbox_order)
Index(
    "ix_human_task_lane_name_page", HumanTask.status, HumanTask.lane, HumanTask.name, *_inbox_order
)
Index("ix_human_task_name", HumanTask.name)
Index("ix_human_task_completed_by", HumanTask.completed_by_id, HumanTask.completed_at, HumanTask.id)


class InstanceEvent(Base):
    """Append-only history of an instance."""

    __tablename__ = "instance_event"
    __table_args__ = (Index("ix_instance_event_instance", "instance_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    kind: Mapped[str] = mapped_column(String(40))
    task_id: Mapped[str | None] = mapped_column(String(36))
    task_name: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    detail: Mapped[dict] = mapped_column(JsonType, default=dict)


class Timer(Base):
    """A timer an instance waits on, with the instant it falls due."""

    __tablename__ = "engine_timer"
    __table_args__ = (Index("ix_engine_timer_due", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    task_id: Mapped[str] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(255))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MessageSubscription(Base):
    """A message catch event an instance waits on, with the correlation values it expects."""

    __tablename__ = "message_subscription"
    __table_args__ = (Index("ix_message_subscription_lookup", "message_name", "correlation_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    task_id: Mapped[str] = mapped_column(String(36))
    message_name: Mapped[str] = mapped_column(String(255))
    correlation: Mapped[dict] = mapped_column(JsonType, default=dict)
    # Canonical JSON of `correlation`, so a message finds its instances by an index lookup.
    correlation_key: Mapped[str] = mapped_column(String(1000))


class Incident(Base):
    __tablename__ = "incident"
    __table_args__ = (Index("ix_incident_instance", "instance_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    task_id: Mapped[str | None] = mapped_column(String(36))
    task_name: Mapped[str | None] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
