"""After-sales service: service requests (tickets), product defects, the knowledge base.

A request without a deadline gets one from its priority (`SLA_HOURS` working hours of the working
calendar, counted from when it was opened: the figures of the shipped `service_sla` decision);
one under contract without a warranty date takes the contract's end. Resolving a request needs
a resolution and stamps `resolved_at`; reopening it clears the stamp.

The plain reads at the end answer what the service process (processes/service/) asks: is the
product under warranty, which service agent takes a request, who supervises it.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import Date, ForeignKey, Integer, String, Text, case, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import clock
from core.db import Base, JsonType, UtcDateTime
from crm_domain.interactions import CHANNELS
from crm_domain.org import OrgUnit, subtree_ids
from crm_domain.record_fields import choice, ref, required_text, text
from crm_domain.records import Change, OwnedMixin, RecordMixin
from crm_domain.sales import same_customer
from crm_domain.settings import add_working_hours
from crm_domain.users import User

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


# --- what the service process asks of the domain --------------------------------------------
# Plain reads for the service process's operations (engine/operations/service_ops.py): is the
# product under warranty, which agent takes a request, who supervises it, the next priority.

ESCALATED_PRIORITY = {"low": "normal", "normal": "high", "high": "urgent", "urgent": "urgent"}
SERVICE_AGENT_ROLE = "service_agent"
ORDERS_NOT_BOUGHT = ("draft", "cancelled")  # orders that prove no purchase


def add_months(day: date, months: int) -> date:
    """`day` plus whole calendar months; the 31st falls back to the month's last day."""
    year, month_index = divmod(day.year * 12 + day.month - 1 + months, 12)
    month = month_index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def last_purchase_date(session: Session, customer_id: int, product_id: int) -> date | None:
    """When the customer last ordered the product (orders not drafted or cancelled).

    A fact about the sale, read without the acting user's data scope: a service agent who may
    not read orders still needs to know whether the product is under warranty.
    """
    from crm_domain.orders import OrderLine, SalesOrder

    return session.scalar(
        select(func.max(SalesOrder.ordered_on))
        .join(OrderLine, OrderLine.order_id == SalesOrder.id)
        .where(
            SalesOrder.customer_id == customer_id,
            OrderLine.product_id == product_id,
            SalesOrder.status.not_in(ORDERS_NOT_BOUGHT),
        )
    )


def warranty_status(
    session: Session,
    request: ServiceRequest,
    on_date: date,
    purchase_date: date | None = None,
) -> dict[str, Any]:
    """Whether the request's product is under warranty on `on_date`, and on what evidence.

    In order: the request's warranty date (given, or the end of its contract) — `contract` or
    `warranty_date`; else the purchase date (given, or the customer's last order of the
    product) plus the product's `warranty_months` — `purchase`; else `none`: not in warranty.
    """
    from crm_domain.products import Product

    product = session.get(Product, request.product_id) if request.product_id else None
    ends_on, basis = request.warranty_until, None
    if ends_on is not None:
        basis = "contract" if request.contract_id else "warranty_date"
    elif product is not None:
        purchase_date = purchase_date or last_purchase_date(
            session, request.customer_id, product.id
        )
        if purchase_date is not None:
            ends_on, basis = add_months(purchase_date, product.warranty_months), "purchase"
    return {
        "in_warranty": ends_on is not None and on_date <= ends_on,
        "basis": basis or "none",
        "ends_on": ends_on,
        "on_date": on_date,
        "purchase_date": purchase_date if basis == "purchase" else None,
        "contract_id": request.contract_id,
        "product_id": request.product_id,
        "warranty_months": product.warranty_months if product is not None else None,
    }


def service_area(session: Session, request: ServiceRequest) -> OrgUnit | None:
    """The org unit whose subtree may serve the request: the nearest branch at or above the
    request's unit (the request's own unit when no branch is above it)."""
    if request.org_unit_id is None:
        return None
    unit = session.get(OrgUnit, request.org_unit_id)
    ids = [int(part) for part in unit.path.strip("/").split("/")]
    ancestors = {u.id: u for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)))}
    for unit_id in reversed(ids):
        if ancestors[unit_id].kind == "branch":
            return ancestors[unit_id]
    return unit


def _holders(session: Session, role: str, unit_ids) -> list[User]:
    # Roles are a JSON list per user: read the active users of the units and match here (the
    # same on SQLite and PostgreSQL); a service team is small.
    users = session.scalars(
        select(User).where(User.is_active, User.org_unit_id.in_(unit_ids)).order_by(User.id)
    )
    return [user for user in users if role in (user.roles or ())]


def agent_candidates(session: Session, request: ServiceRequest) -> list[User]:
    """The service agents who may take the request: holders of `service_agent` in the service
    area's subtree, narrowed to the product's service team when the team lies in that area and
    has agents. Never anyone outside the area: a branch-B agent never gets a branch-A request."""
    from crm_domain.products import Product

    area = service_area(session, request)
    if area is None:
        return []
    agents = _holders(session, SERVICE_AGENT_ROLE, subtree_ids(area.path))
    product = session.get(Product, request.product_id) if request.product_id else None
    team = (
        session.get(OrgUnit, product.service_team_unit_id)
        if product is not None and product.service_team_unit_id
        else None
    )
    if team is not None and team.path.startswith(area.path):
        in_team = set(session.scalars(subtree_ids(team.path)))
        team_agents = [agent for agent in agents if agent.org_unit_id in in_team]
        agents = team_agents or agents
    return agents


def least_loaded_agent(
    session: Session, candidates: list[User], request_id: int | None = None
) -> tuple[User, int] | None:
    """The candidate with the fewest open requests assigned (then the fewest ever assigned,
    then the oldest account), with that open count; None without candidates. The request
    being assigned (`request_id`) does not count towards anyone's load."""
    if not candidates:
        return None
    ids = [agent.id for agent in candidates]
    open_count = func.sum(case((ServiceRequest.status.not_in(DONE), 1), else_=0))
    query = (
        select(ServiceRequest.assignee_id, open_count, func.count())
        .where(ServiceRequest.assignee_id.in_(ids))
        .group_by(ServiceRequest.assignee_id)
    )
    if request_id is not None:
        query = query.where(ServiceRequest.id != request_id)
    loads = {
        agent_id: (int(open_requests or 0), int(total or 0))
        for agent_id, open_requests, total in session.execute(query)
    }
    chosen = min(candidates, key=lambda agent: (*loads.get(agent.id, (0, 0)), agent.id))
    return chosen, loads.get(chosen.id, (0, 0))[0]


def supervisor_of(session: Session, request: ServiceRequest, role: str) -> User | None:
    """The nearest holder of `role` at the request's unit or above it (never in a sibling
    branch): the person an overdue request is escalated to."""
    if request.org_unit_id is None:
        return None
    unit = session.get(OrgUnit, request.org_unit_id)
    for unit_id in reversed([int(part) for part in unit.path.strip("/").split("/")]):
        holders = _holders(session, role, [unit_id])
        if holders:
            return holders[0]
    return None
