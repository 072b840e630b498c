"""The service-task operations a BPMN may call, for process designers."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from engine.operations import all_operations
from web.auth import login_required

blp = Blueprint(
    "operations",
    __name__,
    url_prefix="/api/v1/operations",
    description="Service-task operations BPMN calls by name",
)


class ParameterSchema(Schema):
    name = fields.String()
    type = fields.String()
    required = fields.Boolean()
    description = fields.String()


class OperationSchema(Schema):
    name = fields.String()
    description = fields.String()
    parameters = fields.List(fields.Nested(ParameterSchema))
    result_variable = fields.String()
    result = fields.String()


class OperationListSchema(Schema):
    items = fields.List(fields.Nested(OperationSchema))
    total = fields.Integer()


@blp.route("", methods=["GET"])
@login_required("process_designer", "admin", grant="deploy_processes")
@blp.response(200, OperationListSchema)
def list_operations():
    """Every operation with its parameters (name, type, required) and its result."""
    items = [
        {
            "name": op.name,
            "description": op.description,
            "parameters": op.parameters,
            "result_variable": op.result_variable,
            "result": op.result,
        }
        for op in all_operations()
    ]
    return {"items": items, "total": len(items)}
