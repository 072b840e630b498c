"""Sales operations: turn an approved quote into an order, record a salesperson's commission.

Both call `crm_domain.record_service` as the instance's acting user, so the CRM's permissions,
data scope, validation, audit and webhooks apply exactly as for a person using the API.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from marshmallow import Schema, fields, validate

from core.errors import Forbidden
from crm_domain.record_fields import HUNDRED
from crm_domain.record_service import create_record, get_record, to_dict, update_record
from engine.operations.context import OperationContext
from engine.operations.registry import operation

CENT = Decimal("0.01")


LINE_INPUT_FIELDS = ("product_id", "description", "quantity", "unit_price", "discount_percent")


def line_input(line: dict) -> dict:
    """A stored line as input again: only what a client sends, numbers as exact strings."""
    return {
        key: str(line[key]) if isinstance(line.get(key), float | Decimal) else line.get(key)
        for key in LINE_INPUT_FIELDS
        if line.get(key) is not None
    }


class UpdateQuoteParams(Schema):
    quote_id = fields.Integer(required=True, strict=False, metadata={"description": "The quote."})
    status = fields.String(
        required=True, metadata={"description": "The quote's new status, e.g. approved, rejected."}
    )
    discount_percent = fields.Decimal(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=0, max=100),
        metadata={"description": "A new overall discount, %; left out: unchanged."},
    )


@operation(
    "sales.update_quote",
    UpdateQuoteParams,
    result_variable="quote",
    result="The quote with its lines and recomputed totals.",
)
def update_quote_operation(ctx: OperationContext, params: dict[str, Any]) -> dict:
    """Set a quote's status (and discount) keeping its lines; totals are recomputed.
    更新报价单状态（及折扣），明细保持不变。"""
    row = get_record(ctx.session, ctx.actor, "quotes", params["quote_id"], "update")
    quote = to_dict(ctx.session, ctx.actor, "quotes", row)
    # A change to a quote sends its lines whole (left out, they would be removed).
    data: dict[str, Any] = {
        "status": params["status"],
        "lines": [line_input(line) for line in quote.get("lines") or []],
    }
    if params["discount_percent"] is not None:
        data["discount_percent"] = str(params["discount_percent"])
    record = update_record(ctx.session, ctx.actor, "quotes", row.id, data, row.version)
    return to_dict(ctx.session, ctx.actor, "quotes", record)


class CreateOrderParams(Schema):
    quote_id = fields.Integer(
        required=True, strict=False, metadata={"description": "The approved quote to order."}
    )
    order_no = fields.String(
        required=True,
        validate=validate.Length(min=1, max=50),
        metadata={"description": "Order number (messages such as payment_received use it)."},
    )
    contract_id = fields.Integer(
        load_default=None, allow_none=True, strict=False, metadata={"description": "Contract."}
    )
    promised_on = fields.String(
        load_default=None, allow_none=True, metadata={"description": "Promised delivery, ISO date."}
    )
    notes = fields.String(load_default=None, allow_none=True)


def order_line(quote_line: dict, quote_discount: Decimal) -> dict:
    """The quote line with the quote's overall discount folded into the line's own, since an
    order has no overall discount: (1 − d) = (1 − line d) × (1 − quote d)."""
    line_discount = Decimal(str(quote_line.get("discount_percent") or 0))
    kept = (HUNDRED - line_discount) * (HUNDRED - quote_discount) / HUNDRED
    return {
        "product_id": quote_line.get("product_id"),
        "description": quote_line.get("description"),
        "quantity": str(quote_line["quantity"]),
        "unit_price": str(quote_line["unit_price"]),
        "discount_percent": str((HUNDRED - kept).quantize(CENT, rounding=ROUND_HALF_UP)),
    }


@operation(
    "sales.create_order",
    CreateOrderParams,
    result_variable="order",
    result="The new order (a dict with id, order_no, lines and total).",
)
def create_order_operation(ctx: OperationContext, params: dict[str, Any]) -> dict:
    """Create the sales order for a quote: same customer and lines, the quote's discount kept.
    根据报价单创建销售订单。"""
    quote_row = get_record(ctx.session, ctx.actor, "quotes", params["quote_id"])
    quote = to_dict(ctx.session, ctx.actor, "quotes", quote_row)
    discount = Decimal(str(quote.get("discount_percent") or 0))
    data: dict[str, Any] = {
        "customer_id": quote["customer_id"],
        "order_no": params["order_no"],
        "quote_id": quote["id"],
        "currency": quote.get("currency") or "CNY",
        "lines": [order_line(line, discount) for line in quote.get("lines") or []],
    }
    for key in ("contract_id", "promised_on", "notes"):
        if params.get(key) is not None:
            data[key] = params[key]
    record = create_record(ctx.session, ctx.actor, "orders", data)
    return to_dict(ctx.session, ctx.actor, "orders", record)


class RecordCommissionParams(Schema):
    order_id = fields.Integer(
        required=True, strict=False, metadata={"description": "The paid order."}
    )
    rate = fields.Decimal(
        required=True,
        validate=validate.Range(min=0, max=100),
        metadata={"description": "Commission rate, % of the order total (3.5 means 3.5 %)."},
    )
    period = fields.String(
        load_default=None,
        allow_none=True,
        metadata={"description": "YYYY-MM the commission counts for; default: this month."},
    )
    notes = fields.String(load_default=None, allow_none=True)


@operation(
    "sales.record_commission",
    RecordCommissionParams,
    result_variable="commission",
    result="The commission (a dict: user_id, order_id, rate, base_amount, amount, period).",
)
def record_commission_operation(ctx: OperationContext, params: dict[str, Any]) -> dict:
    """Record the commission of the order's owner (the salesperson) on the order's total.
    The acting user needs the right to create commissions (a sales manager does).
    记录订单负责人的销售提成。"""
    order = get_record(ctx.session, ctx.actor, "orders", params["order_id"])
    if ctx.actor.rights.scope("commissions", "create") is None:
        raise Forbidden(
            f"{ctx.user.username} may not record commissions: start sales processes as a sales "
            "manager, or give the starter's role the right to create commissions. "
            f"{ctx.user.username} 没有录入提成的权限。"
        )
    period = params["period"] or ctx.now().strftime("%Y-%m")
    data = {
        "user_id": order.owner_id,
        "order_id": order.id,
        "rate": str(params["rate"]),
        "period": period[:7],
    }
    if params.get("notes"):
        data["notes"] = params["notes"]
    record = create_record(ctx.session, ctx.actor, "commissions", data)
    return to_dict(ctx.session, ctx.actor, "commissions", record)
