"""Every contact with a customer, on every channel: the raw material of the customer timeline."""

from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import Schema, fields, validate
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base, UtcDateTime
from crm_domain.records import Change, OwnedMixin, RecordMixin

CHANNELS = ("visit", "phone", "email", "fax", "letter", "web", "im")
DIRECTIONS = ("inbound", "outbound")


class Interaction(RecordMixin, OwnedMixin, Base):
    __tablename__ = "interaction"
    __table_args__ = (Index("ix_interaction_customer_time", "customer_id", "occurred_at"),)

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    channel: Mapped[str] = mapped_column(String(10))
    direction: Mapped[str] = mapped_column(String(10), default="outbound")
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    summary: Mapped[str] = mapped_column(String(500))
    details: Mapped[str | None] = mapped_column(Text)
    subject_type: Mapped[str | None] = mapped_column(String(50))
    subject_id: Mapped[str | None] = mapped_column(String(64))


class InteractionSchema(Schema):
    customer_id = fields.Integer(required=True, strict=True)
    contact_id = fields.Integer(allow_none=True, strict=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    direction = fields.String(validate=validate.OneOf(DIRECTIONS), load_default="outbound")
    occurred_at = fields.AwareDateTime(default_timezone=UTC)
    summary = fields.String(required=True, validate=validate.Length(min=1, max=500))
    details = fields.String(allow_none=True, validate=validate.Length(max=20_000))
    subject_type = fields.String(allow_none=True, validate=validate.Length(max=50))
    subject_id = fields.String(allow_none=True, validate=validate.Length(max=64))


def check_interaction(change: Change) -> None:
    """The contact spoken to is one of this customer's people (its visibility is checked by
    the `contact_id` reference)."""
    contact_id = change.current("contact_id")
    if contact_id is None:
        return
    contact = change.find("contacts", contact_id)
    if contact is not None and contact.customer_id != change.current("customer_id"):
        change.error("contact_id", "This contact belongs to another customer.")
