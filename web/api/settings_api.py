"""System settings and the admin audit log over REST (administrators)."""

from __future__ import annotations

from datetime import datetime

from flask import jsonify, request
from flask_smorest import Blueprint

from core.clock import parse_instant
from core.digits import as_id
from core.errors import Invalid
from crm_domain import settings
from crm_domain.admin_audit import AuditQuery, change_dict, search_admin_changes
from web.auth import current_user, login_required
from web.request_session import db

blp = Blueprint(
    "admin_settings",
    __name__,
    url_prefix="/api/v1/admin",
    description="System settings and the admin audit log",
)


def _settings_body() -> dict:
    items = settings.describe_settings(db())
    return {"items": items, "values": {row["key"]: row["value"] for row in items}}


@blp.route("/settings", methods=["GET"])
@login_required(grant="manage_settings")
def get_settings():
    """Every setting: `{items: [{key, value, default, is_default, kind, label}], values}`."""
    return jsonify(_settings_body())


@blp.route("/settings", methods=["PATCH"])
@login_required(grant="manage_settings")
def change_settings():
    """Change settings: `{"money.decimal_places": 3, "email.smtp_url": null, ...}`.

    All or nothing; `null` puts a setting back to its default. Every worker uses the new values
    from its next request on. 422 with `details: {key: [message]}` for invalid values.
    """
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid("Send a JSON object.", details={"": ["The body must be a JSON object."]})
    settings.update_settings(db(), current_user(), data)
    return jsonify(_settings_body())


def _instant(name: str) -> datetime | None:
    text = request.args.get(name)
    if not text:
        return None
    try:
        return parse_instant(text)
    except ValueError:
        raise Invalid(
            f"{name} is not a date or instant.",
            details={name: ["Use ISO-8601, e.g. 2026-03-01 or 2026-03-01T08:00:00+08:00."]},
        ) from None


def _positive_int(name: str, default: int) -> int:
    text = request.args.get(name)
    if text is None:
        return default
    number = as_id(text)  # within what an OFFSET and the id columns hold
    if number is None:
        raise Invalid(f"{name} must be a positive number.", details={name: ["Not a number ≥ 1."]})
    return number


@blp.route("/audit-log", methods=["GET"])
@login_required("admin")
def audit_log():
    """Admin and designer changes, newest first.

    Filters: `actor` (username or id), `kind` (custom_field, role, user, org_unit, webhook,
    setting, process_definition, ...), `since`/`until` (ISO-8601; `until` exclusive), `q` (text in
    the target, actor or values); paging `page`, `per_page` (≤ 200).
    """
    query = AuditQuery(
        actor=request.args.get("actor") or None,
        kind=request.args.get("kind") or None,
        since=_instant("since"),
        until=_instant("until"),
        text=request.args.get("q") or None,
        page=_positive_int("page", 1),
        per_page=_positive_int("per_page", 50),
    )
    if query.since and query.until and query.since >= query.until:
        raise Invalid("since must be before until.", details={"until": ["Before since."]})
    rows, total = search_admin_changes(db(), query)
    return jsonify({"items": [change_dict(row) for row in rows], "total": total})
