"""Marketing campaigns and the customers they target.

A campaign saves its segment as `{"q": "...", "filters": {"grade": "A", "custom.x": "..."}}`,
the same search and filters as `GET /api/v1/customers`, or as `{"segment_id": N}`, a saved
analytics segment (which adds RFM/value ranges and the value-matrix quadrant). Its targets
are evaluated when asked, for the person asking: everyone sees only the targets inside their
own data scope.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from marshmallow import Schema, fields, validate
from sqlalchemy import Date, Numeric, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, JsonType
from core.errors import Forbidden, Invalid
from crm_domain.access import Actor
from crm_domain.record_fields import choice, decimal, required_text, text
from crm_domain.records import Change, OwnedMixin, RecordMixin
from crm_domain.sales import dates_in_order

CAMPAIGN_CHANNELS = ("email", "sms", "wechat", "phone", "visit", "exhibition", "mail", "web")
CAMPAIGN_STATUSES = ("planned", "active", "completed", "cancelled")


class Campaign(RecordMixin, OwnedMixin, Base):
    __tablename__ = "campaign"

    name: Mapped[str] = mapped_column(String(200), index=True)
    channel: Mapped[str] = mapped_column(String(20), default="email")
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    budget: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    status: Mapped[str] = mapped_column(String(20), default="planned", index=True)
    segment: Mapped[dict] = mapped_column(JsonType, default=dict)
    description: Mapped[str | None] = mapped_column(Text)


def campaigns_using_segment(session: Session, segment_id: int) -> list[Campaign]:
    """Every campaign that targets a saved segment (`segment.segment_id`). Campaigns are few
    and the id sits inside JSON, which SQLite and PostgreSQL query differently: read them."""
    campaigns = session.scalars(select(Campaign).order_by(Campaign.id))
    return [c for c in campaigns if (c.segment or {}).get("segment_id") == segment_id]


class SegmentSchema(Schema):
    # A saved analytics segment (crm_domain.analytics.segments) instead of q/filters.
    segment_id = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1))
    q = fields.String(allow_none=True, validate=validate.Length(max=200))
    filters = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=100)),
        values=fields.String(validate=validate.Length(max=200)),
        load_default=dict,
    )


class CampaignSchema(Schema):
    name = required_text(200)
    channel = choice(CAMPAIGN_CHANNELS, load_default="email")
    starts_on = fields.Date(allow_none=True)
    ends_on = fields.Date(allow_none=True)
    budget = decimal(allow_none=True)
    status = choice(CAMPAIGN_STATUSES, load_default="planned")
    segment = fields.Nested(SegmentSchema, load_default=dict)
    description = text(10_000)


def check_campaign(change: Change) -> None:
    dates_in_order(change, "starts_on", "ends_on", "A campaign cannot end before it starts.")
    if "segment" not in change.values:
        return
    # Imported here: record_service imports the collection registry, which imports this module.
    from crm_domain import record_service
    from crm_domain.collections import get_collection

    segment = change.values["segment"]
    if segment.get("segment_id") is not None:
        from core.errors import NotFound
        from crm_domain.analytics.segments import get_segment

        try:
            get_segment(change.session, change.actor, segment["segment_id"])
        except NotFound:
            change.error("segment.segment_id", "No such segment that you can see.")
        except Forbidden:
            change.error("segment", "You may not search customers, so you cannot target them.")
        return
    try:  # the same checks as a customer search: known filters, values of the right type
        record_service.filtered_select(
            change.session,
            change.actor,
            get_collection("customers"),
            q=segment.get("q"),
            filters=segment.get("filters"),
        )
    except Invalid as exc:
        for key, messages in (exc.details or {}).items():
            for message in messages:
                change.error(f"segment.filters.{key}", message)
    except Forbidden:
        change.error("segment", "You may not search customers, so you cannot target them.")


def campaign_targets(
    session: Session,
    actor: Actor,
    campaign_id: int,
    *,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list, int]:
    """The customers the campaign's saved segment selects, within the actor's data scope."""
    from crm_domain import record_service

    campaign = record_service.get_record(session, actor, "campaigns", campaign_id)
    segment = campaign.segment or {}
    if segment.get("segment_id"):
        from crm_domain.analytics.segments import segment_customers

        return segment_customers(
            session, actor, segment["segment_id"], page=page, per_page=per_page
        )
    return record_service.list_records(
        session,
        actor,
        "customers",
        q=segment.get("q"),
        filters=segment.get("filters") or {},
        sort=sort,
        page=page,
        per_page=per_page,
    )
