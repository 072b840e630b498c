"""After the sale: orders with lines, receivables per instalment, payments, commissions, plans.

Money moves one way only: a payment adds to the paid amount of the receivable(s) it settles in
the same transaction (and deleting it takes that back), with a compare-and-swap on the
receivable's version, so two payments at once can neither lose an update nor overpay.
A receivable's status is not stored: it follows from its amounts and the clock (`core.clock`)
on every read, in Python and in SQL alike, so `?status=overdue` is right on the day it happens.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from marshmallow import Schema, fields, validate
from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, Text, case, select, update
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.clock import business_today
from core.db import Base, JsonType
from core.errors import Conflict
from crm_domain import audit
from crm_domain.record_fields import (
    choice,
    computed,
    currency_code,
    decimal,
    money,
    ref,
    required_text,
    text,
)
from crm_domain.records import Change, OwnedMixin, RecordMixin
from crm_domain.sales import LineMixin, check_lines, dates_in_order, lines_field, priced_lines
from crm_domain.sales import same_customer as _same_customer

ORDER_STATUSES = (
    "draft",
    "confirmed",
    "in_production",
    "shipped",
    "delivered",
    "completed",
    "cancelled",
)
RECEIVABLE_STATUSES = ("open", "partially_paid", "paid", "overdue")
PAYMENT_METHODS = ("bank", "cash", "acceptance_bill", "other")
COMMISSION_STATUSES = ("pending", "approved", "paid")
CAS_ATTEMPTS = 5


# --- orders -------------------------------------------------------------------------------


class OrderLine(LineMixin, Base):
    __tablename__ = "sales_order_line"

    order_id: Mapped[int] = mapped_column(
        ForeignKey("sales_order.id", ondelete="CASCADE"), index=True
    )


class SalesOrder(RecordMixin, OwnedMixin, Base):
    __tablename__ = "sales_order"  # "order" is an SQL keyword
    # A customer's order history, read from the index alone by the analytics recompute (one
    # pass over the index instead of a million table lookups); serves lookups by customer too.
    __table_args__ = (
        Index("ix_sales_order_customer_history", "customer_id", "ordered_on", "status", "total"),
    )

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    order_no: Mapped[str] = mapped_column(String(50), unique=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contract.id"), index=True)
    quote_id: Mapped[int | None] = mapped_column(ForeignKey("quote.id"), index=True)
    ordered_on: Mapped[date] = mapped_column(Date, index=True)
    promised_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="confirmed", index=True)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    total: Mapped[Decimal] = mapped_column(Numeric(22, 2), default=Decimal("0"))
    notes: Mapped[str | None] = mapped_column(Text)
    lines: Mapped[list[OrderLine]] = relationship(
        cascade="all, delete-orphan", order_by=OrderLine.position, lazy="selectin"
    )


class OrderSchema(Schema):
    customer_id = ref(required=True)
    order_no = required_text(50)
    contract_id = ref()
    quote_id = ref()
    ordered_on = fields.Date(load_default=business_today)
    promised_on = fields.Date(allow_none=True)
    status = choice(ORDER_STATUSES, load_default="confirmed")
    currency = currency_code()
    total = computed()
    notes = text(10_000)
    lines = lines_field()


def check_order(change: Change) -> None:
    _same_customer(change, "contract_id", "contracts", "contract")
    _same_customer(change, "quote_id", "quotes", "quote")
    dates_in_order(change, "ordered_on", "promised_on", "Cannot be promised before the order.")
    check_lines(change)


def derive_order(order: SalesOrder) -> None:
    order.total = priced_lines(order.lines)


# --- receivables --------------------------------------------------------------------------


def receivable_status(amount, paid, due_on: date | None, today: date) -> str:
    paid = paid or Decimal("0")
    if amount is not None and paid >= amount:
        return "paid"
    if due_on is not None and due_on < today:
        return "overdue"
    return "partially_paid" if paid > 0 else "open"


class Receivable(RecordMixin, OwnedMixin, Base):
    __tablename__ = "receivable"

    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    instalment: Mapped[int] = mapped_column(Integer, default=1)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    paid_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal("0"))
    notes: Mapped[str | None] = mapped_column(Text)

    @hybrid_property
    def status(self) -> str:
        return receivable_status(self.amount, self.paid_amount, self.due_on, business_today())

    @status.inplace.expression
    @classmethod
    def _status_expression(cls):
        return case(
            (cls.paid_amount >= cls.amount, "paid"),
            (cls.due_on < business_today(), "overdue"),
            (cls.paid_amount > 0, "partially_paid"),
            else_="open",
        )


class ReceivableSchema(Schema):
    order_id = ref(required=True)
    customer_id = fields.Integer(dump_only=True)  # the order's
    instalment = fields.Integer(strict=True, allow_none=True, validate=validate.Range(1, 999))
    due_on = fields.Date(required=True)
    amount = decimal(required=True, minimum=0, min_inclusive=False)
    paid_amount = computed()
    status = fields.String(dump_only=True, metadata={"enum": RECEIVABLE_STATUSES})
    notes = text(10_000)


def check_receivable(change: Change) -> None:
    order = change.find("orders", change.current("order_id"))
    if order is None:
        return  # the parent check says so
    session = change.session
    siblings = select(Receivable).where(Receivable.order_id == order.id)
    if change.record is not None:
        siblings = siblings.where(Receivable.id != change.record.id)
    others = list(session.scalars(siblings))
    if change.creating:
        change.values["customer_id"] = order.customer_id
        if change.values.get("instalment") is None:
            change.values["instalment"] = max((r.instalment for r in others), default=0) + 1
    amount = change.current("amount")
    paid = change.record.paid_amount if change.record is not None else Decimal("0")
    if amount < paid:
        change.error("amount", f"{paid} is already paid; the amount cannot be less.")
    planned = sum((r.amount for r in others), Decimal("0")) + amount
    if planned > order.total:
        change.error(
            "amount",
            f"The order's instalments would come to {planned}, more than its total {order.total}.",
        )


def refuse_paid_receivable(change: Change, receivable: Receivable) -> None:
    if receivable.paid_amount:
        raise Conflict("Payments were recorded against this receivable; delete those first.")


def add_paid(change: Change, receivable_id: int, delta: Decimal) -> None:
    """Add `delta` (negative to take back) to a receivable's paid amount: CAS on its version."""
    session = change.session
    for _attempt in range(CAS_ATTEMPTS):
        receivable = session.scalars(
            select(Receivable)
            .where(Receivable.id == receivable_id)
            .execution_options(populate_existing=True)
        ).one()
        before = audit_view(receivable)
        paid = money(receivable.paid_amount + delta)
        if paid > receivable.amount or paid < 0:
            raise Conflict(
                f"Receivable {receivable_id} changed meanwhile; only "
                f"{receivable.amount - receivable.paid_amount} is open now. Reload and retry."
            )
        swapped = session.execute(
            update(Receivable)
            .where(Receivable.id == receivable_id, Receivable.version == receivable.version)
            .values(paid_amount=paid, version=receivable.version + 1, updated_at=clock.now())
            .execution_options(synchronize_session=False)
        )
        if swapped.rowcount == 1:
            session.expire(receivable)
            changes = audit.diff(before, audit_view(receivable))
            audit.record_change(
                session, "receivables", receivable_id, "update", change.actor.id, changes
            )
            return
    raise Conflict("The receivable is being changed by others right now; try again.")


def audit_view(receivable: Receivable) -> dict:
    return {"paid_amount": receivable.paid_amount, "status": receivable.status}


# --- payments -----------------------------------------------------------------------------


class Payment(RecordMixin, OwnedMixin, Base):
    __tablename__ = "payment"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    receivable_id: Mapped[int | None] = mapped_column(ForeignKey("receivable.id"), index=True)
    paid_on: Mapped[date] = mapped_column(Date, index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    method: Mapped[str] = mapped_column(String(20), default="bank")
    reference: Mapped[str | None] = mapped_column(String(100), index=True)
    # [{"receivable_id": 3, "amount": "1200.00"}]: which receivables it settled, by how much
    allocations: Mapped[list] = mapped_column(JsonType, default=list)
    notes: Mapped[str | None] = mapped_column(Text)


class PaymentSchema(Schema):
    receivable_id = ref()
    order_id = ref()
    customer_id = ref()  # defaults to the order's customer
    paid_on = fields.Date(load_default=business_today)
    amount = decimal(required=True, minimum=0, min_inclusive=False)
    method = choice(PAYMENT_METHODS, load_default="bank")
    reference = text(100)
    allocations = fields.Method("_allocations", dump_only=True)
    notes = text(10_000)

    def _allocations(self, payment: Payment) -> list[dict]:
        return [
            {"receivable_id": a["receivable_id"], "amount": Decimal(a["amount"])}
            for a in payment.allocations or []
        ]


def check_payment(change: Change) -> None:
    """Which receivables a new payment settles: the one named, else the order's open ones,
    earliest due first; more than is open is refused."""
    if not change.creating:
        return  # amount, receivable and order cannot change (Collection.immutable)
    values, session = change.values, change.session
    receivable_id, order_id = values.get("receivable_id"), values.get("order_id")
    if receivable_id is None and order_id is None:
        change.error("receivable_id", "Give the receivable or the order this payment is for.")
        return
    if receivable_id is not None:
        receivable = change.find("receivables", receivable_id)
        if receivable is None:
            return  # reported by the reference check
        if order_id is not None and order_id != receivable.order_id:
            change.error("order_id", "This is not the receivable's order.")
            return
        order_id, open_ones = receivable.order_id, [receivable]
    else:
        open_ones = list(
            session.scalars(
                select(Receivable)
                .where(Receivable.order_id == order_id, Receivable.paid_amount < Receivable.amount)
                .order_by(Receivable.due_on, Receivable.instalment, Receivable.id)
            )
        )
    order = session.get(SalesOrder, order_id)
    if values.get("customer_id") not in (None, order.customer_id):
        change.error("customer_id", "The order belongs to another customer.")
    values["customer_id"], values["order_id"] = order.customer_id, order_id
    remaining, allocations = values["amount"], []
    for receivable in open_ones:
        share = min(remaining, receivable.amount - receivable.paid_amount)
        if share > 0:
            allocations.append({"receivable_id": receivable.id, "amount": str(money(share))})
            remaining -= share
    if remaining > 0:
        still_open = values["amount"] - remaining
        change.error("amount", f"Only {money(still_open)} is still open; record no more than that.")
    values["allocations"] = allocations


def apply_payment(change: Change, payment: Payment) -> None:
    if change.creating:
        for allocation in payment.allocations:
            add_paid(change, allocation["receivable_id"], Decimal(allocation["amount"]))


def revoke_payment(change: Change, payment: Payment) -> None:
    for allocation in payment.allocations or []:
        add_paid(change, allocation["receivable_id"], -Decimal(allocation["amount"]))
