"""CRM record operations: read, create, change records and hand them to another owner.

Each is a thin call into `crm_domain.record_service` as the instance's acting user, so the same
permissions, data scope, validation, audit and webhooks apply as for a person using the API.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from core.digits import as_id, is_digits
from core.errors import Invalid
from crm_domain.collections import COLLECTIONS
from crm_domain.record_service import create_record, get_record, to_dict, update_record
from engine.operations.context import OperationContext
from engine.operations.registry import operation


def _collection_name(value: str) -> None:
    if value not in COLLECTIONS:
        raise ValidationError(f"Unknown collection; one of: {', '.join(sorted(COLLECTIONS))}.")


def collection_field(description: str = "The collection, e.g. customers, quotes, orders."):
    return fields.String(
        required=True, validate=_collection_name, metadata={"description": description}
    )


def record_id_field(description: str = "The record's id.", required: bool = True):
    # An optional reference may be left out or given as None (e.g. no contact person known).
    return fields.Integer(
        required=required,
        allow_none=not required,
        strict=False,
        metadata={"description": description},
    )


class GetRecordParams(Schema):
    collection = collection_field()
    id = record_id_field()


@operation(
    "crm.get_record",
    GetRecordParams,
    result_variable="record",
    result="The record as the REST API shows it to the acting user (a dict).",
)
def get_record_operation(ctx: OperationContext, params: dict[str, Any]) -> dict:
    """Read one CRM record as the instance's acting user. 读取一条客户关系记录。"""
    record = get_record(ctx.session, ctx.actor, params["collection"], params["id"])
    return to_dict(ctx.session, ctx.actor, params["collection"], record)


class CreateRecordParams(Schema):
    collection = collection_field()
    data = fields.Dict(
        required=True,
        metadata={"description": "The record's fields, as for POST /api/v1/<collection>."},
    )


@operation(
    "crm.create_record",
    CreateRecordParams,
    result_variable="record",
    result="The new record (a dict with its id).",
)
def create_record_operation(ctx: OperationContext, params: dict[str, Any]) -> dict:
    """Create a CRM record of any collection as the acting user. 新建一条记录。"""
    name = params["collection"]
    record = create_record(ctx.session, ctx.actor, name, params["data"])
    return to_dict(ctx.session, ctx.actor, name, record)


class UpdateRecordParams(Schema):
    collection = collection_field()
    id = record_id_field()
    data = fields.Dict(
        required=True, metadata={"description": "The fields to change, as for PATCH."}
    )
    version = fields.Integer(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "The version the process read; left out: the current version "
            "(the process's change wins over edits it never saw)."
        },
    )


def _update(ctx: OperationContext, name: str, record_id: int, data: dict, version: int | None):
    if version is None:
        version = get_record(ctx.session, ctx.actor, name, record_id, "update").version
    record = update_record(ctx.session, ctx.actor, name, record_id, data, version)
    return to_dict(ctx.session, ctx.actor, name, record)


@operation(
    "crm.update_record",
    UpdateRecordParams,
    result_variable="record",
    result="The changed record (a dict).",
)
def update_record_operation(ctx: OperationContext, params: dict[str, Any]) -> dict:
    """Change fields of a CRM record as the acting user. 修改一条记录。"""
    return _update(ctx, params["collection"], params["id"], params["data"], params["version"])


class CreateQuoteParams(Schema):
    customer_id = record_id_field("The customer the quote is for.")
    quote_no = fields.String(
        required=True,
        validate=validate.Length(min=1, max=50),
        metadata={"description": "Quote number."},
    )
    lines = fields.List(
        fields.Dict(),
        required=True,
        validate=validate.Length(min=1),
        metadata={
            "description": "Lines: {product_id or description, quantity, unit_price?, "
            "discount_percent?}."
        },
    )
    opportunity_id = record_id_field("The opportunity it belongs to.", required=False)
    discount_percent = fields.Decimal(
        load_default=None,
        allow_none=True,
        metadata={"description": "Discount on the whole quote, %."},
    )
    valid_until = fields.String(
        load_default=None, allow_none=True, metadata={"description": "ISO date."}
    )
    currency = fields.String(
        load_default=None, allow_none=True, metadata={"description": "e.g. CNY."}
    )
    notes = fields.String(load_default=None, allow_none=True)
    status = fields.String(
        load_default=None, allow_none=True, metadata={"description": "Default draft."}
    )


@operation(
    "crm.create_quote",
    CreateQuoteParams,
    result_variable="quote",
    result="The new quote with its lines, subtotal, discount_amount and total.",
)
def create_quote_operation(ctx: OperationContext, params: dict[str, Any]) -> dict:
    """Create a quote with its lines for a customer, priced by the CRM. 创建报价单。"""
    data = {key: value for key, value in params.items() if value is not None}
    if "discount_percent" in data:
        data["discount_percent"] = str(data["discount_percent"])
    record = create_record(ctx.session, ctx.actor, "quotes", data)
    return to_dict(ctx.session, ctx.actor, "quotes", record)


class LogInteractionParams(Schema):
    customer_id = record_id_field("The customer it was with.")
    channel = fields.String(
        required=True, metadata={"description": "visit, phone, email, fax, letter, web or im."}
    )
    summary = fields.String(
        required=True, metadata={"description": "One line, up to 500 characters."}
    )
    details = fields.String(load_default=None, allow_none=True)
    direction = fields.String(
        load_default=None, allow_none=True, metadata={"description": "inbound or outbound."}
    )
    contact_id = record_id_field("The contact person.", required=False)
    subject_type = fields.String(
        load_default=None, allow_none=True, metadata={"description": "e.g. quotes."}
    )
    subject_id = fields.Raw(load_default=None, allow_none=True)


@operation(
    "crm.log_interaction",
    LogInteractionParams,
    result_variable="interaction",
    result="The logged interaction (a dict with its id).",
)
def log_interaction_operation(ctx: OperationContext, params: dict[str, Any]) -> dict:
    """Record a contact with a customer on its timeline. 记录一次客户沟通。"""
    data = {key: value for key, value in params.items() if value is not None}
    if "subject_id" in data:
        data["subject_id"] = str(data["subject_id"])
    record = create_record(ctx.session, ctx.actor, "interactions", data)
    return to_dict(ctx.session, ctx.actor, "interactions", record)


class AssignOwnerParams(Schema):
    collection = collection_field()
    id = record_id_field()
    owner = fields.Raw(
        required=True, metadata={"description": "The new owner: a user id or a username."}
    )

    @validates("owner")
    def _owner(self, value: Any, **_kwargs) -> None:
        if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
            raise ValidationError("Give a user id or a username.")


@operation(
    "crm.assign_owner",
    AssignOwnerParams,
    result_variable="record",
    result="The record with its new owner_id and org_unit_id.",
)
def assign_owner_operation(ctx: OperationContext, params: dict[str, Any]) -> dict:
    """Hand a record to another owner (the acting user needs the right to do so). 分配负责人。"""
    owner_id = _user_id(ctx, params["owner"])
    return _update(ctx, params["collection"], params["id"], {"owner_id": owner_id}, None)


def _user_id(ctx: OperationContext, owner: Any) -> int:
    from sqlalchemy import select

    from crm_domain.users import User

    query = select(User.id).where(User.is_active)
    if isinstance(owner, int) or (isinstance(owner, str) and is_digits(owner)):
        query = query.where(User.id == (as_id(owner) or 0))  # 0: no user has it
    else:
        query = query.where(User.username == owner)
    found = ctx.session.scalar(query)
    if found is None:
        raise Invalid("No such active user.", details={"owner": [f"No active user {owner!r}."]})
    return found
