"""The sales pipeline before the order: opportunities, quotes with their lines, contracts.

Quote (and order) lines travel nested under `lines`; their amounts and the quote's totals are
computed on every save with Decimal, rounded half up to cents:
line amount = quantity × unit price × (1 − line discount %), subtotal = Σ line amounts,
discount amount = subtotal × quote discount %, total = subtotal − discount amount.
A line's quantity may have at most `quantity.decimal_places` decimals (a system setting, read
on every save): more is refused on the line's field, never silently cut.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import Boolean, Date, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base
from crm_domain.record_fields import (
    HUNDRED,
    choice,
    computed,
    currency_code,
    decimal,
    money,
    percent,
    ref,
    required_text,
    text,
)
from crm_domain.records import Change, OwnedMixin, RecordMixin
from crm_domain.settings import get_setting
from forms.submission import fit_places, places_message

OPPORTUNITY_STAGES = ("prospecting", "qualification", "proposal", "negotiation", "won", "lost")
# The usual probability of each stage, used when none is given; won and lost are certain.
STAGE_PROBABILITY = {
    "prospecting": 10,
    "qualification": 20,
    "proposal": 50,
    "negotiation": 75,
    "won": 100,
    "lost": 0,
}
QUOTE_STATUSES = ("draft", "submitted", "approved", "rejected", "sent", "accepted", "expired")
CONTRACT_STATUSES = ("draft", "active", "expired", "terminated", "renewed")
MAX_QUANTITY = Decimal("10000000")
MAX_UNIT_PRICE = Decimal("1000000000")
MAX_LINES = 500


# --- lines (shared by quotes and orders) -------------------------------------------------


class LineMixin:
    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"), index=True)
    description: Mapped[str | None] = mapped_column(String(500))
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    amount: Mapped[Decimal] = mapped_column(Numeric(20, 2), default=Decimal("0"))


class QuoteLine(LineMixin, Base):
    __tablename__ = "quote_line"

    quote_id: Mapped[int] = mapped_column(ForeignKey("quote.id", ondelete="CASCADE"), index=True)


class LineSchema(Schema):
    product_id = ref()
    description = text(500)  # left out: the product's name
    # Not rounded here: the decimals allowed are a setting, checked by check_lines.
    quantity = decimal(
        None,
        0,
        MAX_QUANTITY,
        min_inclusive=False,
        required=True,
        metadata={"places_setting": "quantity.decimal_places"},
    )
    unit_price = decimal(4, 0, MAX_UNIT_PRICE)  # left out: the product's catalogue price
    discount_percent = percent(load_default=Decimal("0"))
    amount = computed()

    @validates_schema
    def _product_or_own_terms(self, line: dict, **_kwargs) -> None:
        if line.get("product_id") is not None:
            return
        errors = {}
        if not line.get("description"):
            errors["description"] = ["Give a product or a description."]
        if line.get("unit_price") is None:
            errors["unit_price"] = ["Give a price (or a catalogue product)."]
        if errors:
            raise ValidationError(errors)


def lines_field() -> fields.List:
    return fields.List(
        fields.Nested(LineSchema),
        load_default=list,
        validate=validate.Length(max=MAX_LINES, error="At most {max} lines."),
    )


def check_lines(change: Change) -> None:
    """The lines sent: quantities within the allowed decimals, descriptions and prices filled."""
    check_quantity_places(change)
    complete_lines(change)


def quantity_places_message(places: int) -> str:
    # The sentence task forms use for "places": "quantity" fields, so both say the same.
    return places_message("quantity", places)


def check_quantity_places(change: Change) -> None:
    """Each line's quantity has at most `quantity.decimal_places` decimals, or the line's
    field gets an error; a valid quantity is stored with exactly that many places."""
    lines = change.values.get("lines") or []
    if not lines:
        return
    places = get_setting(change.session, "quantity.decimal_places")
    for index, line in enumerate(lines):
        quantity = line.get("quantity")
        if not isinstance(quantity, Decimal):
            continue
        fitted = fit_places(quantity, places)
        if fitted is None:
            change.error(f"lines.{index}.quantity", quantity_places_message(places))
        else:
            line["quantity"] = fitted


def complete_lines(change: Change) -> None:
    """Fill each line's missing description and price from its product."""
    for line in change.values.get("lines") or []:
        product = change.find("products", line.get("product_id"))
        if product is not None:
            if not line.get("description"):
                line["description"] = product.name
            if line.get("unit_price") is None:
                line["unit_price"] = product.price


def priced_lines(lines) -> Decimal:
    """Number the lines, compute their amounts, and return their sum."""
    subtotal = Decimal("0")
    for position, line in enumerate(lines):
        line.position = position
        discount = line.discount_percent or Decimal("0")
        line.amount = money(line.quantity * line.unit_price * (HUNDRED - discount) / HUNDRED)
        subtotal += line.amount
    return subtotal


def same_customer(change: Change, key: str, collection: str, what: str) -> object | None:
    """The record `key` points at (already checked visible), which must share the customer."""
    record = change.find(collection, change.current(key))
    if record is not None and record.customer_id != change.current("customer_id"):
        change.error(key, f"That {what} belongs to another customer.")
    return record


def dates_in_order(change: Change, first: str, then: str, message: str) -> None:
    start, end = change.current(first), change.current(then)
    if start is not None and end is not None and end < start:
        change.error(then, message)


# --- opportunities -------------------------------------------------------------------------


class Opportunity(RecordMixin, OwnedMixin, Base):
    __tablename__ = "opportunity"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    stage: Mapped[str] = mapped_column(String(20), default="prospecting", index=True)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    probability: Mapped[int] = mapped_column(Integer, default=10)
    expected_close: Mapped[date | None] = mapped_column(Date, index=True)
    source: Mapped[str | None] = mapped_column(String(100))
    lost_reason: Mapped[str | None] = mapped_column(String(500))
    notes: Mapped[str | None] = mapped_column(Text)


class OpportunitySchema(Schema):
    customer_id = ref(required=True)
    title = required_text(200)
    stage = choice(OPPORTUNITY_STAGES, load_default="prospecting")
    amount = decimal(allow_none=True)
    probability = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=0, max=100)
    )
    expected_close = fields.Date(allow_none=True)
    source = text(100)
    lost_reason = text(500)
    notes = text(10_000)


def check_opportunity(change: Change) -> None:
    if change.current("stage") == "lost" and not change.current("lost_reason"):
        change.error("lost_reason", "Say why the opportunity was lost.")


def derive_opportunity(opportunity: Opportunity) -> None:
    if opportunity.stage in ("won", "lost") or opportunity.probability is None:
        opportunity.probability = STAGE_PROBABILITY[opportunity.stage]


# --- quotes -------------------------------------------------------------------------------


class Quote(RecordMixin, OwnedMixin, Base):
    __tablename__ = "quote"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunity.id"), index=True)
    quote_no: Mapped[str] = mapped_column(String(50), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    valid_until: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    subtotal: Mapped[Decimal] = mapped_column(Numeric(22, 2), default=Decimal("0"))
    discount_amount: Mapped[Decimal] = mapped_column(Numeric(22, 2), default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(Numeric(22, 2), default=Decimal("0"))
    notes: Mapped[str | None] = mapped_column(Text)
    lines: Mapped[list[QuoteLine]] = relationship(
        cascade="all, delete-orphan", order_by=QuoteLine.position, lazy="selectin"
    )


class QuoteSchema(Schema):
    customer_id = ref(required=True)
    opportunity_id = ref()
    quote_no = required_text(50)
    status = choice(QUOTE_STATUSES, load_default="draft")
    valid_until = fields.Date(allow_none=True)
    currency = currency_code()
    discount_percent = percent(load_default=Decimal("0"))
    subtotal = computed()
    discount_amount = computed()
    total = computed()
    notes = text(10_000)
    lines = lines_field()


def check_quote(change: Change) -> None:
    same_customer(change, "opportunity_id", "opportunities", "opportunity")
    check_lines(change)


def derive_quote(quote: Quote) -> None:
    quote.subtotal = priced_lines(quote.lines)
    quote.discount_amount = money(quote.subtotal * (quote.discount_percent or 0) / HUNDRED)
    quote.total = quote.subtotal - quote.discount_amount


# --- contracts ----------------------------------------------------------------------------


class Contract(RecordMixin, OwnedMixin, Base):
    __tablename__ = "contract"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    contract_no: Mapped[str] = mapped_column(String(50), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    signed_on: Mapped[date | None] = mapped_column(Date)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date, index=True)
    value: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    renewal_of_id: Mapped[int | None] = mapped_column(ForeignKey("contract.id"), index=True)
    auto_renew: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str | None] = mapped_column(Text)


class ContractSchema(Schema):
    customer_id = ref(required=True)
    contract_no = required_text(50)
    title = required_text(200)
    signed_on = fields.Date(allow_none=True)
    starts_on = fields.Date(allow_none=True)
    ends_on = fields.Date(allow_none=True)
    value = decimal(load_default=Decimal("0"))
    currency = currency_code()
    status = choice(CONTRACT_STATUSES, load_default="draft")
    renewal_of_id = ref()
    auto_renew = fields.Boolean(load_default=False)
    notes = text(10_000)


def check_contract(change: Change) -> None:
    dates_in_order(change, "starts_on", "ends_on", "A contract cannot end before it starts.")
    renewed = same_customer(change, "renewal_of_id", "contracts", "contract")
    if renewed is not None and change.record is not None and renewed.id == change.record.id:
        change.error("renewal_of_id", "A contract cannot renew itself.")
