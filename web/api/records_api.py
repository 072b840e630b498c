"""The CRM collections over REST: list/search/filter/sort, create, read, PATCH, DELETE, history.

One set of routes serves every registered collection; the data scope, validation, custom fields
and audit all live in crm_domain.record_service, so the API cannot bypass them.
"""

from __future__ import annotations

from flask import g, jsonify, request
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

from core.errors import Invalid
from crm_domain import record_service as records
from crm_domain.access import Actor, actor_for
from crm_domain.collections import COLLECTIONS
from crm_domain.knowledge_search import articles_for_request
from crm_domain.marketing import campaign_targets
from crm_domain.record_history import record_history as visible_history
from web.auth import current_user, login_required
from web.request_session import db

blp = Blueprint("records", __name__, url_prefix="/api/v1", description="CRM records")
NAMES = ",".join(f'"{name}"' for name in sorted(COLLECTIONS))  # quoted: names have "-"
COLLECTION = f"<any({NAMES}):collection>"
PAGING = {"page", "per_page", "q", "sort"}


class ListQuery(Schema):
    class Meta:
        unknown = EXCLUDE  # everything else is a filter, checked by the service

    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(
        load_default=50, validate=validate.Range(min=1, max=records.MAX_PER_PAGE)
    )
    q = fields.String(validate=validate.Length(max=200))
    sort = fields.String(validate=validate.Length(max=200))


def current_actor() -> Actor:
    if "actor" not in g:
        g.actor = actor_for(db(), current_user())
    return g.actor


def _body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid("Send a JSON object.", details={"": ["The body must be a JSON object."]})
    return data


def _expected_version(data: dict) -> int | None:
    """The version the client edited: an If-Match header ("3" or W/"3") or `version`."""
    header = request.headers.get("If-Match", "").strip()
    raw = header.removeprefix("W/").strip('"') if header else data.get("version")
    if raw is None:
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise Invalid(
            "The version must be a whole number.", details={"version": ["Not a number."]}
        ) from None


def _one(collection: str, record, status: int = 200):
    body = records.to_dict(db(), current_actor(), collection, record)
    response = jsonify(body)
    response.status_code = status
    response.headers["ETag"] = f'W/"{record.version}"'
    return response


@blp.route(f"/{COLLECTION}", methods=["GET"])
@login_required()
@blp.arguments(ListQuery, location="query")
def list_records(query: dict, collection: str):
    """Records in your data scope; `q` searches, other parameters filter (`custom.x=...`)."""
    filters = {key: value for key, value in request.args.items() if key not in PAGING}
    rows, total = records.list_records(
        db(),
        current_actor(),
        collection,
        q=query.get("q"),
        filters=filters,
        sort=query.get("sort"),
        page=query["page"],
        per_page=query["per_page"],
    )
    items = records.to_dicts(db(), current_actor(), collection, rows)
    return jsonify({"items": items, "total": total, "page": query["page"]})


@blp.route(f"/{COLLECTION}", methods=["POST"])
@login_required()
def create_record(collection: str):
    """Create a record; custom field values go under `custom`."""
    record = records.create_record(db(), current_actor(), collection, _body())
    return _one(collection, record, 201)


@blp.route(f"/{COLLECTION}/<int:record_id>", methods=["GET"])
@login_required()
def get_record(collection: str, record_id: int):
    return _one(collection, records.get_record(db(), current_actor(), collection, record_id))


@blp.route(f"/{COLLECTION}/<int:record_id>", methods=["PATCH"])
@login_required()
def update_record(collection: str, record_id: int):
    """Change some fields; send the version you edited (If-Match or `version`)."""
    data = _body()
    expected = _expected_version(data)
    record = records.update_record(db(), current_actor(), collection, record_id, data, expected)
    return _one(collection, record)


@blp.route(f"/{COLLECTION}/<int:record_id>", methods=["DELETE"])
@login_required()
def delete_record(collection: str, record_id: int):
    header = request.headers.get("If-Match")
    expected = _expected_version({}) if header else None
    records.delete_record(db(), current_actor(), collection, record_id, expected)
    return "", 204


@blp.route(f"/{COLLECTION}/<int:record_id>/history", methods=["GET"])
@login_required()
def record_history(collection: str, record_id: int):
    """Who changed what and when (the audit trail of one record); sensitive values masked
    without the grant."""
    return jsonify({"items": visible_history(db(), current_actor(), collection, record_id)})


@blp.route("/campaigns/<int:record_id>/targets", methods=["GET"])
@login_required()
@blp.arguments(ListQuery, location="query")
def list_campaign_targets(query: dict, record_id: int):
    """The customers the campaign's saved segment selects, within your data scope."""
    rows, total = campaign_targets(
        db(),
        current_actor(),
        record_id,
        sort=query.get("sort"),
        page=query["page"],
        per_page=query["per_page"],
    )
    items = records.to_dicts(db(), current_actor(), "customers", rows)
    return jsonify({"items": items, "total": total, "page": query["page"]})


@blp.route("/service-requests/<int:record_id>/articles", methods=["GET"])
@login_required()
@blp.arguments(ListQuery, location="query")
def suggest_articles(query: dict, record_id: int):
    """Knowledge-base articles for a service request: its product's first, then those matching
    `q` (default: the request's subject) in title, problem or solution."""
    rows = articles_for_request(db(), current_actor(), record_id, query.get("q"), query["per_page"])
    items = records.to_dicts(db(), current_actor(), "articles", rows)
    return jsonify({"items": items, "total": len(items)})
