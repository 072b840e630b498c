"""After-sales service: service requests (tickets), product defects, the knowledge base.

A request without a deadline gets one from its priority (`SLA_HOURS` working hours of the working
calendar, counted from when it was opened: the figures of the shipped `service_sla` decision);
one under contract without a warranty date takes the contract's end. Resolving a request needs
a resolution and stamps `resolved_at`; reopening it clears the stamp.

What the service process asks of these records (warranty, which agent, who supervises) is in
crm_domain/service_desk.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from marshmallow import Schema, fields, validate
from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base, JsonType, UtcDateTime
from crm_domain.interactions import CHANNELS
from crm_domain.record_fields import choice, ref, required_text, text
from crm_domain.records import Change, OwnedMixin, RecordMixin
from crm_domain.sales import same_customer
from crm_domain.settings import add_working_hours

PRIORITIES = ("low", "normal", "high", "urgent")
# Working hours, not clock hours: with the default 09:00-18:00 day, high is one working day,
# normal three, low five. A different `calendar.work_hours` keeps the hours, not the days.
SLA_HOURS = {"urgent": 4, "high": 9, "normal": 27, "low": 45}
REQUEST_STATUSES = (
    "new",
    "acknowledged",
    "assigned",
    "in_progress",
    "waiting_customer",
    "resolved",
    "closed",
)
DONE = ("resolved", "closed")
SEVERITIES = ("low", "medium", "high", "critical")
DEFECT_STATUSES = ("open", "investigating", "fixed", "wont_fix")


class ServiceRequest(RecordMixin, OwnedMixin, Base):
    __tablename__ = "service_request"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"), index=True)
    channel: Mapped[str] = mapped_column(String(10), default="phone")
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"), index=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contract.id"), index=True)
    warranty_until: Mapped[date | None] = mapped_column(Date)
    priority: Mapped[str] = mapped_column(String(10), default="normal", index=True)
    sla_due_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ServiceRequestSchema(Schema):
    customer_id = ref(required=True)
    contact_id = ref()
    channel = choice(CHANNELS, load_default="phone")
    product_id = ref()
    contract_id = ref()
    warranty_until = fields.Date(allow_none=True)
    priority = choice(PRIORITIES, load_default="normal")
    sla_due_at = fields.AwareDateTime(default_timezone=UTC, allow_none=True)
    status = choice(REQUEST_STATUSES, load_default="new")
    assignee_id = ref()
    subject = required_text(200)
    description = text(20_000)
    resolution = text(20_000)
    satisfaction = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=1, max=5)
    )
    resolved_at = fields.AwareDateTime(dump_only=True)


def check_service_request(change: Change) -> None:
    same_customer(change, "contact_id", "contacts", "contact")
    contract = same_customer(change, "contract_id", "contracts", "contract")
    values, status = change.values, change.current("status")
    if contract is not None and change.current("warranty_until") is None:
        values["warranty_until"] = contract.ends_on
    opened = change.record.created_at if change.record is not None else clock.now()
    reprioritised = (
        change.record is not None
        and values.get("priority", change.record.priority) != change.record.priority
        and "sla_due_at" not in values
    )
    if change.current("sla_due_at") is None or reprioritised:
        values["sla_due_at"] = add_working_hours(
            change.session, opened, SLA_HOURS[change.current("priority")]
        )
    if status == "assigned" and change.current("assignee_id") is None:
        change.error("assignee_id", "Say who it is assigned to.")
    if status in DONE and not change.current("resolution"):
        change.error("resolution", "Describe the resolution before resolving.")
    if change.current("satisfaction") is not None and status not in DONE:
        change.error("satisfaction", "Rate satisfaction once the request is resolved.")
    if status in DONE and change.current("resolved_at") is None:
        values["resolved_at"] = clock.now()
    elif status not in DONE:
        values["resolved_at"] = None


class Defect(RecordMixin, OwnedMixin, Base):
    __tablename__ = "defect"

    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    service_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_request.id"), index=True
    )
    severity: Mapped[str] = mapped_column(String(10), default="medium", index=True)
    description: Mapped[str] = mapped_column(Text)
    root_cause: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)


class DefectSchema(Schema):
    product_id = ref(required=True)
    service_request_id = ref()
    severity = choice(SEVERITIES, load_default="medium")
    description = required_text(20_000)
    root_cause = text(20_000)
    status = choice(DEFECT_STATUSES, load_default="open")


def check_defect(change: Change) -> None:
    request = change.find("service-requests", change.current("service_request_id"))
    product_id = change.current("product_id")
    if request is not None and request.product_id not in (None, product_id):
        change.error("product_id", "The service request is about another product.")
    if change.current("status") == "fixed" and not change.current("root_cause"):
        change.error("root_cause", "Record the root cause of a fixed defect.")


class Article(RecordMixin, Base):
    """A knowledge-base entry: a problem and its solution, optionally for one product."""

    __tablename__ = "article"

    title: Mapped[str] = mapped_column(String(200), index=True)
    problem: Mapped[str] = mapped_column(Text)
    solution: Mapped[str] = mapped_column(Text)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"), index=True)
    tags: Mapped[list] = mapped_column(JsonType, default=list)


class ArticleSchema(Schema):
    title = required_text(200)
    problem = required_text(20_000)
    solution = required_text(20_000)
    product_id = ref()
    tags = fields.List(
        fields.String(validate=validate.Length(min=1, max=50)),
        load_default=list,
        validate=validate.Length(max=30),
    )
