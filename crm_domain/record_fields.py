"""Marshmallow field builders and money arithmetic shared by the sales, service and marketing
collections, so that ids, amounts, percentages and choices are checked alike everywhere."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from marshmallow import fields, validate

from core.digits import MAX_ID

CENT = Decimal("0.01")
HUNDRED = Decimal("100")
MAX_AMOUNT = Decimal("1000000000000")  # 10^12 per amount the user types in
PERIOD = r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$"  # 2026, 2026-Q4 or 2026-11


def money(value: Decimal | int | None) -> Decimal:
    """Round to cents, half up (0.005 → 0.01), as invoices do; never banker's rounding."""
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def choice(values, **kwargs) -> fields.String:
    return fields.String(validate=validate.OneOf(values, error="Use one of: {choices}."), **kwargs)


def text(length: int, **kwargs) -> fields.String:
    kwargs.setdefault("allow_none", True)
    return fields.String(validate=validate.Length(max=length), **kwargs)


def required_text(length: int, **kwargs) -> fields.String:
    """A text that must be given and not be empty."""
    return fields.String(required=True, validate=validate.Length(min=1, max=length), **kwargs)


def ref(required: bool = False, **kwargs) -> fields.Integer:
    """The id of another record (its existence and visibility are checked by the service)."""
    return fields.Integer(
        strict=True,
        required=required,
        allow_none=not required,
        validate=validate.Range(min=1, max=MAX_ID, error="Not a valid id."),
        **kwargs,
    )


def decimal(
    places: int | None = 2,
    minimum: Decimal | int = 0,
    maximum: Decimal | int = MAX_AMOUNT,
    min_inclusive: bool = True,
    **kwargs,
) -> fields.Decimal:
    """A number rounded half up to `places` (None: kept as given); NaN and infinities are
    refused."""
    return fields.Decimal(
        places=places,
        rounding=ROUND_HALF_UP,
        as_string=False,
        allow_nan=False,
        validate=validate.Range(min=minimum, max=maximum, min_inclusive=min_inclusive),
        **kwargs,
    )


def percent(**kwargs) -> fields.Decimal:
    return decimal(2, 0, 100, **kwargs)


def computed() -> fields.Decimal:
    """An amount the service computes; shown, never accepted as input."""
    return fields.Decimal(as_string=False, dump_only=True)


def currency_code() -> fields.String:
    return fields.String(
        load_default="CNY",
        validate=validate.Regexp(r"^[A-Z]{3}$", error="Use a three-letter code such as CNY."),
    )


def period_code(**kwargs) -> fields.String:
    return fields.String(
        validate=validate.Regexp(PERIOD, error="Use 2026, 2026-Q4 or 2026-11."),
        **kwargs,
    )
