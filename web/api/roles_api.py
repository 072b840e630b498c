"""Roles over REST: the matrix of collections × actions with a data scope, and grants."""

from __future__ import annotations

from flask import jsonify
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import select

from crm_domain import roles
from web.api.records_api import current_actor
from web.auth import login_required
from web.request_session import db

blp = Blueprint("roles", __name__, url_prefix="/api/v1/admin/roles", description="Roles")


class RoleRequest(Schema):
    class Meta:
        unknown = RAISE

    key = fields.String(validate=validate.Length(min=1, max=50))
    name = fields.Dict(keys=fields.String(validate=validate.OneOf(["zh", "en"])))
    permissions = fields.Dict()
    grants = fields.List(fields.String())


def _role_dict(role: roles.Role) -> dict:
    return {
        "key": role.key,
        "name": role.name,
        "permissions": role.permissions,
        "grants": role.grants,
        "built_in": role.built_in,
        "updated_at": role.updated_at.isoformat(),
    }


@blp.route("", methods=["GET"])
@login_required()
def list_roles():
    rows = db().scalars(select(roles.Role).order_by(roles.Role.key))
    return jsonify({"items": [_role_dict(r) for r in rows]})


@blp.route("", methods=["POST"])
@login_required()
@blp.arguments(RoleRequest)
def create_role(body: dict):
    current_actor().require_grant("manage_roles", "Creating roles")
    role = roles.create_role(
        db(),
        body.get("key", ""),
        body.get("name") or {"en": body.get("key", "")},
        body.get("permissions") or {},
        body.get("grants") or [],
        actor=current_actor(),
    )
    return jsonify(_role_dict(role)), 201


@blp.route("/<key>", methods=["PATCH"])
@login_required()
@blp.arguments(RoleRequest)
def change_role(body: dict, key: str):
    current_actor().require_grant("manage_roles", "Changing roles")
    body.pop("key", None)
    return jsonify(_role_dict(roles.change_role(db(), key, actor=current_actor(), **body)))
