"""Administration of reminder rules and event → process start rules (admins only)."""

from __future__ import annotations

from flask import jsonify, request
from flask_smorest import Blueprint

from core.digits import is_digits
from core.errors import Invalid
from crm_domain.reminders import rules as reminder_rules
from crm_domain.reminders import start_rules
from crm_domain.reminders.evaluation import preview
from crm_domain.reminders.models import ReminderRule, StartRule, StartRuleFiring
from engine.start_rules import process_exists
from web.auth import current_user, login_required
from web.request_session import db

blp = Blueprint(
    "rules", __name__, url_prefix="/api/v1/admin", description="Reminder and start rules"
)
MAX_PREVIEW_DAYS = 366


def _json():
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid("Send a JSON object.", details={"": ["The body must be a JSON object."]})
    return data


def _reminder_dict(rule: ReminderRule) -> dict:
    return {
        "id": rule.id,
        **reminder_rules.rule_values(rule),
        "created_at": rule.created_at.isoformat(),
        "updated_at": rule.updated_at.isoformat(),
    }


@blp.route("/reminder-rules", methods=["GET"])
@login_required("admin")
def list_reminder_rules():
    return jsonify({"items": [_reminder_dict(r) for r in reminder_rules.list_reminder_rules(db())]})


@blp.route("/reminder-rules", methods=["POST"])
@login_required("admin")
def create_reminder_rule():
    rule = reminder_rules.create_reminder_rule(db(), current_user(), _json())
    return jsonify(_reminder_dict(rule)), 201


@blp.route("/reminder-rules/<int:rule_id>", methods=["GET"])
@login_required("admin")
def get_reminder_rule(rule_id: int):
    return jsonify(_reminder_dict(reminder_rules.get_reminder_rule(db(), rule_id)))


@blp.route("/reminder-rules/<int:rule_id>", methods=["PATCH"])
@login_required("admin")
def change_reminder_rule(rule_id: int):
    """Change a rule; reminders not yet created follow the change, created ones stay as they are."""
    rule = reminder_rules.change_reminder_rule(db(), rule_id, _json(), actor=current_user())
    return jsonify(_reminder_dict(rule))


@blp.route("/reminder-rules/<int:rule_id>", methods=["DELETE"])
@login_required("admin")
def delete_reminder_rule(rule_id: int):
    reminder_rules.delete_reminder_rule(db(), rule_id, actor=current_user())
    return "", 204


@blp.route("/reminder-rules/<int:rule_id>/preview", methods=["GET"])
@login_required("admin")
def preview_reminder_rule(rule_id: int):
    """What the rule would fire from today through the next `days` days (default 30)."""
    raw = request.args.get("days", "30")
    if not is_digits(raw) or not 0 <= int(raw) <= MAX_PREVIEW_DAYS:
        raise Invalid(
            "days is not valid.", details={"days": [f"Give 0 to {MAX_PREVIEW_DAYS} days."]}
        )
    rule = reminder_rules.get_reminder_rule(db(), rule_id)
    return jsonify(preview(db(), rule, int(raw)))


def _start_rule_dict(rule: StartRule) -> dict:
    return {
        "id": rule.id,
        **{key: getattr(rule, key) for key in start_rules.FIELDS},
        "firings": start_rules.firing_summary(db(), rule.id),
        "created_at": rule.created_at.isoformat(),
        "updated_at": rule.updated_at.isoformat(),
    }


def _firing_dict(firing: StartRuleFiring) -> dict:
    return {
        "id": firing.id,
        "entry_id": firing.entry_id,
        "collection": firing.collection,
        "record_id": firing.record_id,
        "status": firing.status,
        "attempts": firing.attempts,
        "instance_id": firing.instance_id,
        "last_error": firing.last_error,
        "next_attempt_at": firing.next_attempt_at.isoformat() if firing.next_attempt_at else None,
        "created_at": firing.created_at.isoformat(),
        "updated_at": firing.updated_at.isoformat(),
    }


@blp.route("/start-rules", methods=["GET"])
@login_required("admin")
def list_start_rules():
    return jsonify({"items": [_start_rule_dict(r) for r in start_rules.list_start_rules(db())]})


@blp.route("/start-rules", methods=["POST"])
@login_required("admin")
def create_start_rule():
    rule = start_rules.create_start_rule(db(), current_user(), _json(), process_exists(db()))
    return jsonify(_start_rule_dict(rule)), 201


@blp.route("/start-rules/<int:rule_id>", methods=["GET"])
@login_required("admin")
def get_start_rule(rule_id: int):
    return jsonify(_start_rule_dict(start_rules.get_start_rule(db(), rule_id)))


@blp.route("/start-rules/<int:rule_id>", methods=["PATCH"])
@login_required("admin")
def change_start_rule(rule_id: int):
    rule = start_rules.change_start_rule(
        db(), rule_id, _json(), process_exists(db()), actor=current_user()
    )
    return jsonify(_start_rule_dict(rule))


@blp.route("/start-rules/<int:rule_id>", methods=["DELETE"])
@login_required("admin")
def delete_start_rule(rule_id: int):
    start_rules.delete_start_rule(db(), rule_id, actor=current_user())
    return "", 204


@blp.route("/start-rules/<int:rule_id>/firings", methods=["GET"])
@login_required("admin")
def list_start_rule_firings(rule_id: int):
    """Each event the rule matched: started (with the instance), skipped, failed or dead."""
    firings = start_rules.list_firings(db(), rule_id)
    return jsonify({"items": [_firing_dict(f) for f in firings]})
