"""Administration over REST: custom fields, the org tree and users."""

from __future__ import annotations

from flask import jsonify, request
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from core.errors import Invalid
from crm_domain import custom_fields, org
from crm_domain.collections import COLLECTIONS
from crm_domain.users import User, create_user
from web.api.records_api import current_actor
from web.auth import login_required
from web.request_session import db

blp = Blueprint("admin", __name__, url_prefix="/api/v1", description="Administration")


def _json() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid("Send a JSON object.", details={"": ["The body must be a JSON object."]})
    return data


def _field_dict(field: custom_fields.CustomField) -> dict:
    return {
        "id": field.id,
        "collection": field.collection,
        "name": field.name,
        "sensitive": field.sensitive,
        "archived": field.archived,
        "position": field.position,
        "spec": field.spec,
        "updated_at": field.updated_at.isoformat(),
    }


@blp.route("/admin/fields", methods=["GET"])
@login_required()
def list_fields():
    """Custom field definitions (any signed-in user may read them: forms need them)."""
    collection = request.args.get("collection")
    archived = request.args.get("archived") in ("1", "true")
    rows = custom_fields.list_fields(db(), collection, archived)
    return jsonify({"items": [_field_dict(f) for f in rows]})


def _collection_of(data: dict) -> str:
    name = data.get("collection")
    if name not in COLLECTIONS:
        raise Invalid(
            "Unknown collection.",
            details={"collection": [f"Use one of: {', '.join(sorted(COLLECTIONS))}."]},
        )
    return name


def _sensitive(data: dict) -> bool | None:
    value = data.get("sensitive")
    if value is not None and not isinstance(value, bool):
        raise Invalid("sensitive must be true or false.", details={"sensitive": ["Not a boolean."]})
    return value


def _spec_of(data: dict, request_keys: set[str]) -> dict:
    """The field spec in a request: `collection` there is the collection the field is added
    to, so a reference field names the collection it points to as `reference_collection`."""
    spec = {k: v for k, v in data.items() if k not in request_keys}
    if "reference_collection" in spec:
        spec["collection"] = spec.pop("reference_collection")
    return spec


@blp.route("/admin/fields", methods=["POST"])
@login_required()
def define_field():
    """Add a field to a collection: `{collection, sensitive?, name, type, label, ...}`."""
    current_actor().require_grant("manage_fields", "Defining fields")
    data = _json()
    collection = _collection_of(data)
    sensitive = _sensitive(data)
    spec = _spec_of(data, {"collection", "sensitive"})
    field = custom_fields.define_field(
        db(), collection, spec, bool(sensitive), actor=current_actor()
    )
    return jsonify(_field_dict(field)), 201


@blp.route("/admin/fields/<int:field_id>", methods=["PATCH"])
@login_required()
def change_field(field_id: int):
    current_actor().require_grant("manage_fields", "Changing fields")
    data = _json()
    sensitive = _sensitive(data)
    current = custom_fields.get_field(db(), field_id)
    spec = {**current.spec, **_spec_of(data, {"collection", "sensitive"})}
    field = custom_fields.change_field(db(), field_id, spec, sensitive, actor=current_actor())
    return jsonify(_field_dict(field))


@blp.route("/admin/fields/<int:field_id>", methods=["DELETE"])
@login_required()
def archive_field(field_id: int):
    """Archive a field: hidden and no longer checked; stored values are kept."""
    current_actor().require_grant("manage_fields", "Removing fields")
    field = custom_fields.archive_field(db(), field_id, actor=current_actor())
    return jsonify(_field_dict(field))


# --- org tree ------------------------------------------------------------------------------------


class OrgUnitRequest(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(validate=validate.Length(min=1, max=200))
    kind = fields.String(validate=validate.OneOf(org.UNIT_KINDS))
    parent_id = fields.Integer(allow_none=True)


def _unit_dict(unit: org.OrgUnit) -> dict:
    return {
        "id": unit.id,
        "name": unit.name,
        "kind": unit.kind,
        "parent_id": unit.parent_id,
        "path": unit.path,
        "depth": unit.depth,
    }


@blp.route("/org-units", methods=["GET"])
@login_required()
def list_org_units():
    return jsonify({"items": [_unit_dict(u) for u in org.list_org_units(db())]})


@blp.route("/org-units", methods=["POST"])
@login_required()
@blp.arguments(OrgUnitRequest)
def create_org_unit(body: dict):
    current_actor().require_grant("manage_users", "Changing the org tree")
    if "name" not in body:
        raise Invalid("The unit needs a name.", details={"name": ["Required."]})
    unit = org.create_org_unit(
        db(), body["name"], body.get("kind", "team"), body.get("parent_id"), actor=current_actor()
    )
    return jsonify(_unit_dict(unit)), 201


@blp.route("/org-units/<int:unit_id>", methods=["PATCH"])
@login_required()
@blp.arguments(OrgUnitRequest)
def change_org_unit(body: dict, unit_id: int):
    """Rename a unit and/or move it (with everything under it) to another parent."""
    current_actor().require_grant("manage_users", "Changing the org tree")
    unit = org.get_org_unit(db(), unit_id)
    if "name" in body or "kind" in body:
        unit = org.rename_org_unit(
            db(), unit_id, body.get("name", unit.name), body.get("kind"), actor=current_actor()
        )
    if "parent_id" in body:
        unit = org.move_org_unit(db(), unit_id, body["parent_id"], actor=current_actor())
    return jsonify(_unit_dict(unit))


# --- users ---------------------------------------------------------------------------------------


class UserRequest(Schema):
    class Meta:
        unknown = RAISE

    username = fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = fields.String(required=True, load_only=True)
    display_name = fields.String(load_default="", validate=validate.Length(max=200))
    roles = fields.List(fields.String(), load_default=list)
    org_unit_id = fields.Integer(allow_none=True, load_default=None)
    email = fields.String(allow_none=True, load_default=None)


class UserChange(Schema):
    class Meta:
        unknown = RAISE

    display_name = fields.String(validate=validate.Length(min=1, max=200))
    roles = fields.List(fields.String())
    org_unit_id = fields.Integer(allow_none=True)
    email = fields.String(allow_none=True)
    is_active = fields.Boolean()


def _user_dict(user: User) -> dict:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "roles": user.roles,
        "org_unit_id": user.org_unit_id,
        "email": user.email,
        "is_active": user.is_active,
    }


@blp.route("/users", methods=["GET"])
@login_required()
def list_users():
    from sqlalchemy import select

    rows = db().scalars(select(User).order_by(User.username))
    return jsonify({"items": [_user_dict(u) for u in rows]})


@blp.route("/users", methods=["POST"])
@login_required()
@blp.arguments(UserRequest)
def create_user_route(body: dict):
    current_actor().require_grant("manage_users", "Creating users")
    user = create_user(
        db(),
        body["username"],
        body["password"],
        body["roles"],
        body["display_name"],
        body["org_unit_id"],
        body["email"],
        actor=current_actor(),
    )
    return jsonify(_user_dict(user)), 201


@blp.route("/users/<int:user_id>", methods=["PATCH"])
@login_required()
@blp.arguments(UserChange)
def change_user(body: dict, user_id: int):
    from crm_domain.users import change_user as change

    current_actor().require_grant("manage_users", "Changing users")
    return jsonify(_user_dict(change(db(), user_id, actor=current_actor(), **body)))


# --- webhooks ------------------------------------------------------------------------------------


class WebhookRequest(Schema):
    class Meta:
        unknown = RAISE

    url = fields.String(validate=validate.Length(min=1, max=1000))
    events = fields.List(fields.String(validate=validate.Length(min=1, max=100)))
    description = fields.String(validate=validate.Length(max=500))
    active = fields.Boolean()


def _webhook_dict(endpoint, with_secret: bool = False) -> dict:
    body = {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": endpoint.events,
        "description": endpoint.description,
        "active": endpoint.active,
        "created_at": endpoint.created_at.isoformat(),
    }
    if with_secret:  # shown once, when created: the receiver needs it to check signatures
        body["secret"] = endpoint.secret
    return body


@blp.route("/admin/webhooks", methods=["GET"])
@login_required()
def list_webhooks():
    from crm_domain import webhooks

    current_actor().require_grant("manage_settings", "Managing webhooks")
    return jsonify({"items": [_webhook_dict(e) for e in webhooks.list_endpoints(db())]})


@blp.route("/admin/webhooks", methods=["POST"])
@login_required()
@blp.arguments(WebhookRequest)
def create_webhook(body: dict):
    """Subscribe an address to record events such as `customers.created` or `orders.*`."""
    from crm_domain import webhooks

    current_actor().require_grant("manage_settings", "Managing webhooks")
    endpoint = webhooks.create_endpoint(
        db(),
        body.get("url", ""),
        body.get("events"),
        body.get("description", ""),
        actor=current_actor(),
    )
    return jsonify(_webhook_dict(endpoint, with_secret=True)), 201


@blp.route("/admin/webhooks/<int:endpoint_id>", methods=["PATCH"])
@login_required()
@blp.arguments(WebhookRequest)
def change_webhook(body: dict, endpoint_id: int):
    from crm_domain import webhooks

    current_actor().require_grant("manage_settings", "Managing webhooks")
    endpoint = webhooks.change_endpoint(db(), endpoint_id, actor=current_actor(), **body)
    return jsonify(_webhook_dict(endpoint))


@blp.route("/admin/webhooks/<int:endpoint_id>/deliveries", methods=["GET"])
@login_required()
def webhook_deliveries(endpoint_id: int):
    """The delivery log: each event sent to this endpoint, with every attempt."""
    from crm_domain import webhooks

    current_actor().require_grant("manage_settings", "Managing webhooks")
    return jsonify({"items": webhooks.deliveries(db(), endpoint_id)})
