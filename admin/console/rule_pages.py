"""Reminder rules with the "what would fire in the next 30 days" preview, and event → process
start rules. Administrators only (as over REST).

The preview is computed by the same code the scheduler's reminder job uses
(crm_domain.reminders.evaluation.preview). While the administrator edits, the preview is drawn
for the rule as it stands in the form (not yet saved), so a changed lead time shows at once.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from admin.console.guard import ADMIN_ONLY, console_actor
from admin.console.rendering import field_errors, render_console
from admin.console.rule_forms import (
    reminder_data,
    reminder_form,
    start_rule_data,
    start_rule_form,
)
from core.errors import Invalid, NotFound
from crm_domain.analytics import segments
from crm_domain.collections import COLLECTIONS
from crm_domain.reminders import catalog, start_rules
from crm_domain.reminders import rules as reminder_rules
from crm_domain.reminders.evaluation import preview
from crm_domain.reminders.models import ReminderRule
from crm_domain.roles import role_keys
from engine.models import ProcessDefinition
from engine.start_rules import process_exists
from web.request_session import db
from web.ui.i18n import localized

bp = Blueprint("console_rules", __name__, url_prefix="/admin/rules")
PREVIEW_DAYS = 30


def _reminder_or_404(rule_id: int) -> ReminderRule:
    try:
        return reminder_rules.get_reminder_rule(db(), rule_id)
    except NotFound:
        abort(404)


def _date_fields() -> dict[str, list[str]]:
    """Per collection, the date fields a date rule may watch (columns and custom date fields)."""
    return {
        name: catalog.date_columns(COLLECTIONS[name]) + catalog.custom_date_fields(db(), name)
        for name in catalog.owned_collections()
    }


def _draft_preview(values: dict, rule_id: int | None) -> dict:
    """The preview of the rule as the form has it; problems instead when it is not valid."""
    try:
        checked = reminder_rules.checked_rule(db(), values)
    except Invalid as exc:
        return {"preview": None, "preview_problems": field_errors(exc)}
    draft = ReminderRule(id=rule_id, **checked)  # never added to the session: nothing is saved
    try:
        drawn = preview(db(), draft, PREVIEW_DAYS)
    except Invalid as exc:  # e.g. its segment stopped working since the check
        return {"preview": None, "preview_problems": field_errors(exc)}
    return {"preview": drawn, "preview_problems": {}}


def _segments(actor) -> list[tuple[int, str]]:
    """Saved customer segments a rule may target: (id, name)."""
    return [(s.id, s.name) for s in segments.list_segments(db(), actor)]


def _reminder_page(actor, values: dict, rule=None, errors=None, status: int = 200):
    return render_console(
        "admin/reminder_rule.html",
        actor,
        status,
        rule=rule,
        form=reminder_form(values),
        errors=errors or {},
        kinds=reminder_rules.KINDS,
        collections=[(n, localized(COLLECTIONS[n].label)) for n in catalog.owned_collections()],
        date_fields=_date_fields(),
        roles=sorted(role_keys(db())),
        segments=_segments(actor),
        preview_days=PREVIEW_DAYS,
        **_draft_preview(values, rule.id if rule else None),
    )


@bp.get("/reminders", endpoint="reminder_rules")
@login_required
def reminder_rules_list():
    actor = console_actor(ADMIN_ONLY)
    return render_console(
        "admin/reminder_rules.html", actor, rules=reminder_rules.list_reminder_rules(db())
    )


@bp.get("/reminders/new")
@login_required
def new_reminder_rule():
    actor = console_actor(ADMIN_ONLY)
    values = {
        **reminder_rules.DEFAULTS,
        "name": "",
        "kind": "date_field",
        "collection": "contracts",
        "message": {},
    }
    return _reminder_page(actor, values)


@bp.post("/reminders/new")
@login_required
def create_reminder_rule():
    actor = console_actor(ADMIN_ONLY)
    values = reminder_data(request.form)
    try:
        rule = reminder_rules.create_reminder_rule(db(), actor.user, values)
    except Invalid as exc:
        return _reminder_page(actor, values, errors=field_errors(exc), status=exc.status)
    flash(_("Reminder rule saved."), "success")
    return redirect(url_for(".edit_reminder_rule", rule_id=rule.id))


@bp.get("/reminders/<int:rule_id>")
@login_required
def edit_reminder_rule(rule_id: int):
    actor = console_actor(ADMIN_ONLY)
    rule = _reminder_or_404(rule_id)
    return _reminder_page(actor, reminder_rules.rule_values(rule), rule)


@bp.post("/reminders/<int:rule_id>")
@login_required
def change_reminder_rule(rule_id: int):
    actor = console_actor(ADMIN_ONLY)
    rule = _reminder_or_404(rule_id)
    values = reminder_data(request.form)
    try:
        reminder_rules.change_reminder_rule(db(), rule_id, values, actor=actor)
    except Invalid as exc:
        return _reminder_page(actor, values, rule, field_errors(exc), exc.status)
    flash(_("Reminder rule saved."), "success")
    return redirect(url_for(".edit_reminder_rule", rule_id=rule_id))


@bp.post("/reminders/<int:rule_id>/delete")
@login_required
def delete_reminder_rule(rule_id: int):
    actor = console_actor(ADMIN_ONLY)
    _reminder_or_404(rule_id)
    reminder_rules.delete_reminder_rule(db(), rule_id, actor=actor)
    flash(_("Reminder rule deleted."), "success")
    return redirect(url_for(".reminder_rules"))


@bp.post("/reminders/preview")
@login_required
def reminder_preview():
    """The htmx preview of the form's rule (`rule_id` marks what that rule already fired)."""
    console_actor(ADMIN_ONLY)
    rule_id = request.args.get("rule_id", type=int)
    context = _draft_preview(reminder_data(request.form), rule_id)
    return render_template("admin/_reminder_preview.html", preview_days=PREVIEW_DAYS, **context)


# --- start rules -----------------------------------------------------------------------------


def _processes() -> list[str]:
    return sorted(
        set(db().scalars(select(ProcessDefinition.key).where(ProcessDefinition.is_current)))
    )


def _start_page(actor, values: dict, rule=None, errors=None, status: int = 200):
    rules = start_rules.list_start_rules(db())
    return render_console(
        "admin/start_rules.html",
        actor,
        status,
        rules=rules,
        summaries={rule.id: start_rules.firing_summary(db(), rule.id) for rule in rules},
        editing=rule,
        form=start_rule_form(values),
        errors=errors or {},
        events=start_rules.EVENTS,
        collections=[(n, localized(c.label)) for n, c in COLLECTIONS.items()],
        processes=_processes(),
    )


def _start_rule_or_404(rule_id: int):
    try:
        return start_rules.get_start_rule(db(), rule_id)
    except NotFound:
        abort(404)


@bp.get("/start", endpoint="start_rules")
@login_required
def start_rules_list():
    actor = console_actor(ADMIN_ONLY)
    rule_id = request.args.get("edit", type=int)
    if rule_id:
        rule = _start_rule_or_404(rule_id)
        values = {key: getattr(rule, key) for key in start_rules.FIELDS}
        return _start_page(actor, values, rule)
    return _start_page(actor, {"event": "created", "collection": "customers", "active": True})


@bp.post("/start")
@login_required
def save_start_rule():
    actor = console_actor(ADMIN_ONLY)
    values = start_rule_data(request.form)
    rule_id = request.form.get("rule_id", type=int)
    rule = _start_rule_or_404(rule_id) if rule_id else None
    try:
        if rule is None:
            start_rules.create_start_rule(db(), actor.user, values, process_exists(db()))
        else:
            start_rules.change_start_rule(db(), rule.id, values, process_exists(db()), actor=actor)
    except Invalid as exc:
        return _start_page(actor, values, rule, field_errors(exc), exc.status)
    flash(_("Start rule saved."), "success")
    return redirect(url_for(".start_rules"))


@bp.post("/start/<int:rule_id>/delete")
@login_required
def delete_start_rule(rule_id: int):
    actor = console_actor(ADMIN_ONLY)
    _start_rule_or_404(rule_id)
    start_rules.delete_start_rule(db(), rule_id, actor=actor)
    flash(_("Start rule deleted."), "success")
    return redirect(url_for(".start_rules"))
