"""The product catalogue: brand → series → item, the industry's multi-brand, long product lines."""

from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema, fields, validate
from sqlalchemy import Boolean, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from crm_domain.records import RecordMixin

UNITS = ("piece", "metre", "kg", "roll", "sheet", "set", "dozen", "square_metre", "cubic_metre")


class Product(RecordMixin, Base):
    __tablename__ = "product"
    __table_args__ = (Index("ix_product_line", "brand", "series", "name"),)

    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    brand: Mapped[str] = mapped_column(String(100))
    series: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(20), default="piece")
    price: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))
    warranty_months: Mapped[int] = mapped_column(default=12)
    service_team_unit_id: Mapped[int | None] = mapped_column()
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(Text)


class ProductSchema(Schema):
    sku = fields.String(
        required=True, validate=validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    )
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    brand = fields.String(required=True, validate=validate.Length(min=1, max=100))
    series = fields.String(required=True, validate=validate.Length(min=1, max=100))
    unit = fields.String(validate=validate.OneOf(UNITS), load_default="piece")
    price = fields.Decimal(
        places=2, validate=validate.Range(min=0), as_string=False, load_default=Decimal("0")
    )
    warranty_months = fields.Integer(validate=validate.Range(min=0, max=240), load_default=12)
    service_team_unit_id = fields.Integer(allow_none=True)
    active = fields.Boolean(load_default=True)
    description = fields.String(allow_none=True, validate=validate.Length(max=10_000))
