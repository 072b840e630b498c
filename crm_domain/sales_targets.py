"""What salespeople are measured by: commissions on their orders, sales plans per period.

Both belong to the person (or, for a plan, the org unit) they are about, not to whoever enters
them: a manager sets them within their data scope, the salesperson reads their own.
A commission's amount is the order total times its rate (a percentage), recomputed on every
save of the commission, so it follows the order as it stood when last confirmed.
"""

from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema
from sqlalchemy import ForeignKey, Numeric, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from crm_domain.org import OrgUnit
from crm_domain.record_fields import (
    HUNDRED,
    MAX_ID,
    choice,
    computed,
    decimal,
    money,
    percent,
    period_code,
    ref,
    text,
)
from crm_domain.records import Change, OwnedMixin, RecordMixin
from crm_domain.users import User

COMMISSION_STATUSES = ("pending", "approved", "paid")


def owned_by(change: Change, owner_id: int | None, unit_id: int | None, key: str) -> dict:
    """Ownership of a record that belongs to a person or a unit, if the actor reaches them."""
    if not change.reaches(owner_id, unit_id):
        change.error(key, "Outside your data scope.")
        return {}
    return {"owner_id": owner_id, "org_unit_id": unit_id}


class Commission(RecordMixin, OwnedMixin, Base):
    __tablename__ = "commission"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))  # per cent of the order total
    base_amount: Mapped[Decimal] = mapped_column(Numeric(22, 2), default=Decimal("0"))
    amount: Mapped[Decimal] = mapped_column(Numeric(22, 2), default=Decimal("0"))
    period: Mapped[str | None] = mapped_column(String(7), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    notes: Mapped[str | None] = mapped_column(Text)


class CommissionSchema(Schema):
    user_id = ref(required=True)  # the salesperson earning it
    order_id = ref(required=True)
    rate = percent(required=True)  # 3.5 means 3.5 % of the order total
    base_amount = computed()  # the order total when last saved
    amount = computed()
    period = period_code(allow_none=True)
    status = choice(COMMISSION_STATUSES, load_default="pending")
    notes = text(10_000)


def check_commission(change: Change) -> None:
    """The amount follows the order's total and the rate, recomputed on every save."""
    order = change.find("orders", change.current("order_id"))
    if order is None:
        return
    change.values["base_amount"] = order.total
    change.values["amount"] = money(order.total * change.current("rate") / HUNDRED)


def commission_owner(change: Change) -> dict:
    user = change.find(User, change.values["user_id"])
    return owned_by(change, user.id, user.org_unit_id, "user_id") if user else {}


class SalesPlan(RecordMixin, OwnedMixin, Base):
    """A target for one person (user_id) or one org unit (org_unit_id, no owner) in a period."""

    __tablename__ = "sales_plan"

    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    period: Mapped[str] = mapped_column(String(7), index=True)
    target_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    notes: Mapped[str | None] = mapped_column(Text)


class SalesPlanSchema(Schema):
    user_id = ref()  # or `org_unit_id` for a unit's target
    period = period_code(required=True)
    target_amount = decimal(required=True)
    notes = text(10_000)


def _plan_target(change: Change) -> tuple[int | None, object]:
    """(user_id, org_unit_id) the plan is for; the unit comes from the request as sent."""
    if change.record is not None:
        return change.record.user_id, change.record.org_unit_id
    return change.values.get("user_id"), change.data.get("org_unit_id")


def _is_id(value: object) -> bool:
    return type(value) is int and 1 <= value <= MAX_ID


def check_sales_plan(change: Change) -> None:
    user_id, unit_id = _plan_target(change)
    if change.record is not None and change.data.get("org_unit_id", unit_id) != unit_id:
        change.error("org_unit_id", "A plan's unit cannot change; make a new plan.")
    if (user_id is None) == (unit_id is None):
        change.error("user_id", "Give either a user or an org unit (org_unit_id).")
        return
    if unit_id is not None and not _is_id(unit_id):
        change.error("org_unit_id", "Not a valid id.")
        return
    same = select(func.count(SalesPlan.id)).where(SalesPlan.period == change.current("period"))
    if user_id is not None:
        same = same.where(SalesPlan.user_id == user_id)
    else:
        same = same.where(SalesPlan.user_id.is_(None), SalesPlan.org_unit_id == unit_id)
    if change.record is not None:
        same = same.where(SalesPlan.id != change.record.id)
    if change.session.scalar(same):
        change.error("period", "There is already a plan for them in this period.")


def sales_plan_owner(change: Change) -> dict:
    user_id, unit_id = _plan_target(change)
    if user_id is not None:
        user = change.find(User, user_id)
        return owned_by(change, user.id, user.org_unit_id, "user_id") if user else {}
    unit = change.find(OrgUnit, unit_id) if _is_id(unit_id) else None
    if unit is None:
        change.error("org_unit_id", "No such org unit.")
        return {}
    return owned_by(change, None, unit.id, "org_unit_id")
