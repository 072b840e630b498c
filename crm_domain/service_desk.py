"""What the service process (processes/service/) asks of the CRM: is the product under
warranty, which service agent takes a request, who supervises it, the next priority. Plain reads
for its operations (engine/operations/service_ops.py); the records are in crm_domain/service.py.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from crm_domain.org import OrgUnit, subtree_ids
from crm_domain.service import DONE, ServiceRequest
from crm_domain.users import User

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
