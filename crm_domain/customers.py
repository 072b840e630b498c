"""Customers (companies and individual buyers, end customers and chain partners) and contacts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from marshmallow import Schema, fields, post_load, validate
from pypinyin import lazy_pinyin
from sqlalchemy import Date, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JsonType
from crm_domain.records import OwnedMixin, RecordMixin

CUSTOMER_KINDS = ("company", "individual")
RELATIONS = ("end_customer", "fabric_supplier", "distributor", "retailer", "partner")
STAGES = ("prospect", "active", "dormant", "lost")
GRADES = ("A", "B", "C", "D")
CREDIT_RATINGS = ("AAA", "AA", "A", "BBB", "BB", "B", "C")
CONTACT_ROLES = ("decision_maker", "purchaser", "finance", "technical", "user", "other")


class Customer(RecordMixin, OwnedMixin, Base):
    __tablename__ = "customer"

    name: Mapped[str] = mapped_column(String(200), index=True)
    short_name: Mapped[str | None] = mapped_column(String(100))
    pinyin: Mapped[str] = mapped_column(String(600), default="", index=True)
    kind: Mapped[str] = mapped_column(String(20), default="company")
    relation: Mapped[str] = mapped_column(String(30), default="end_customer")
    address: Mapped[str | None] = mapped_column(String(500))
    region: Mapped[str | None] = mapped_column(String(100), index=True)
    phone: Mapped[str | None] = mapped_column(String(50), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    bank_name: Mapped[str | None] = mapped_column(String(200))
    bank_account: Mapped[str | None] = mapped_column(String(64))
    tax_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    industry: Mapped[str | None] = mapped_column(String(100), index=True)
    company_nature: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[str | None] = mapped_column(String(50))
    grade: Mapped[str | None] = mapped_column(String(2), index=True)
    credit_rating: Mapped[str | None] = mapped_column(String(4))
    credit_limit: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    cooperation_since: Mapped[date | None] = mapped_column(Date)
    total_business: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal("0"))
    lifecycle_stage: Mapped[str] = mapped_column(String(20), default="prospect", index=True)
    tags: Mapped[list] = mapped_column(JsonType, default=list)
    external_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    notes: Mapped[str | None] = mapped_column(Text)


class Contact(RecordMixin, OwnedMixin, Base):
    __tablename__ = "contact"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    title: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(30), default="other")
    phone: Mapped[str | None] = mapped_column(String(50))
    mobile: Mapped[str | None] = mapped_column(String(50), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    wechat: Mapped[str | None] = mapped_column(String(100))
    is_primary: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str | None] = mapped_column(Text)


_NOT_HAN = "\x00"  # marks the pieces of a name that are not Chinese characters


def pinyin_of(*names: str | None) -> str:
    """Full pinyin and initials, lower case, so `szjh` and `suzhou` both find 苏州锦华.

    One conversion per name: the initials are the first letters of the syllables, and pieces
    that are not Chinese are kept whole (the same result as a second pass with
    Style.FIRST_LETTER, at half the cost; bulk imports convert every name).
    """
    parts = []
    for name in names:
        if name:
            pieces = lazy_pinyin(name, errors=lambda chunk: _NOT_HAN + chunk)
            parts.append("".join(p.removeprefix(_NOT_HAN) for p in pieces).lower())
            parts.append(
                "".join(p[1:] if p.startswith(_NOT_HAN) else p[:1] for p in pieces).lower()
            )
    return " ".join(parts)[:600]


def _choice(values) -> validate.OneOf:
    return validate.OneOf(values, error="Use one of: {choices}.")


def _text(length: int, **kwargs) -> fields.String:
    return fields.String(validate=validate.Length(max=length), allow_none=True, **kwargs)


class CustomerSchema(Schema):
    """Input (load) and output (dump) of a customer; `custom` is checked separately."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    short_name = _text(100)
    kind = fields.String(validate=_choice(CUSTOMER_KINDS), load_default="company")
    relation = fields.String(validate=_choice(RELATIONS), load_default="end_customer")
    address = _text(500)
    region = _text(100)
    phone = _text(50)
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    bank_name = _text(200)
    bank_account = _text(64)
    tax_id = fields.String(
        allow_none=True,
        validate=validate.Regexp(
            r"^[0-9A-Z]{15,20}$", error="A tax id is 15 to 20 digits or capital letters."
        ),
    )
    industry = _text(100)
    company_nature = _text(100)
    size = _text(50)
    grade = fields.String(allow_none=True, validate=_choice(GRADES))
    credit_rating = fields.String(allow_none=True, validate=_choice(CREDIT_RATINGS))
    credit_limit = fields.Decimal(
        places=2, allow_none=True, validate=validate.Range(min=0), as_string=False
    )
    cooperation_since = fields.Date(allow_none=True)
    total_business = fields.Decimal(places=2, validate=validate.Range(min=0), as_string=False)
    lifecycle_stage = fields.String(validate=_choice(STAGES), load_default="prospect")
    tags = fields.List(fields.String(validate=validate.Length(min=1, max=50)))
    external_key = _text(100)
    notes = _text(10_000)

    @post_load
    def _blank_keys_are_none(self, data: dict, **_kwargs) -> dict:
        # A blank key is "no key": two customers without an ERP number must not collide on "".
        if isinstance(data.get("external_key"), str) and not data["external_key"].strip():
            data["external_key"] = None
        return data


class ContactSchema(Schema):
    customer_id = fields.Integer(required=True, strict=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    title = _text(100)
    role = fields.String(validate=_choice(CONTACT_ROLES), load_default="other")
    phone = _text(50)
    mobile = _text(50)
    email = fields.Email(allow_none=True)
    wechat = _text(100)
    is_primary = fields.Boolean(load_default=False)
    notes = _text(10_000)
