"""Saved customer segments in the browser: list, create, edit and delete, with a live count of
the matching customers and links to each segment's comparison report.

Every action goes through the same services as /api/v1/analytics/segments
(crm_domain.analytics.segments), with the signed-in user as the actor: the same permission
checks (a user who may not read customers gets 403), the same data scope (a segment owned
outside your scope is 404, the count covers only your customers), the same field errors.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from core.errors import Conflict, Invalid
from crm_domain.access import Actor, actor_for
from crm_domain.analytics import segments
from crm_domain.analytics.scope import visible
from crm_domain.custom_fields import cached_definitions
from crm_domain.reminders.segment_use import rules_by_segment, rules_using_segment
from web.request_session import db
from web.ui import segment_form
from web.ui.session_auth import signed_in_user

bp = Blueprint("ui_segment_editor", __name__, url_prefix="/analytics/saved-segments")


def _actor() -> Actor:
    actor = actor_for(db(), signed_in_user())
    visible(actor, "customers")  # segments are customer filters: no customers, no segments
    return actor


def _count(actor: Actor, definition: dict) -> int | None:
    """Customers in the user's scope the definition picks now; None when it no longer works."""
    try:
        return segments.count_customers(db(), segments.customers_select(db(), actor, definition))
    except Invalid:
        return None


def _live(actor: Actor, definition: dict) -> tuple[int | None, dict[str, list[str]]]:
    """(count, problems) of a definition as the form has it: the live count's answer."""
    try:
        checked = segments.check_definition(db(), actor, definition)
    except Invalid as exc:
        return None, segment_form.shown_errors(exc.details)
    return _count(actor, checked), {}


def _form_page(actor: Actor, values: dict, segment=None, errors=None, status: int = 200):
    """The editor; `values` are the inputs' texts, `errors` the service's by its keys."""
    if errors:
        count, problems = None, errors
    else:
        count, problems = _live(actor, segment.definition if segment else {})
    inputs = segment_form.filter_inputs(db(), actor)
    stored = segment.definition if segment else None
    return (
        render_template(
            "ui/segment_form.html",
            segment=segment,
            form=values,
            errors=errors or {},
            filter_inputs=inputs,
            kept=segment_form.kept_conditions(db(), actor, stored, inputs),
            dropped=set(request.form.getlist("drop")),
            ranges=segment_form.ranges(),
            quadrants=segment_form.quadrants(),
            count=count,
            problems=problems,
            rules=rules_using_segment(db(), segment.id) if segment else [],
        ),
        status,
    )


@bp.get("")
@login_required
def segment_list():
    actor = _actor()
    rules = rules_by_segment(db())  # one read for the page, not one per segment
    with cached_definitions(db()):  # the custom fields once, not once per segment counted
        rows = [
            {
                "segment": segment,
                "count": _count(actor, segment.definition or {}),
                "rules": rules.get(segment.id, []),
            }
            for segment in segments.list_segments(db(), actor)
        ]
    return render_template("ui/segments_saved.html", rows=rows)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_segment():
    actor = _actor()
    if request.method == "GET":
        return _form_page(actor, {})
    data = segment_form.posted_segment(request.form, segment_form.filter_inputs(db(), actor))
    try:
        segment = segments.create_segment(db(), actor, data)
    except Invalid as exc:
        db().rollback()
        errors = segment_form.shown_errors(exc.details)
        return _form_page(actor, segment_form.form_values(data), None, errors, exc.status)
    flash(_("Segment saved."), "success")
    return redirect(url_for(".edit_segment", segment_id=segment.id))


@bp.route("/<int:segment_id>", methods=["GET", "POST"])
@login_required
def edit_segment(segment_id: int):
    actor = _actor()
    segment = segments.get_segment(db(), actor, segment_id)
    if request.method == "GET":
        values = segment_form.form_values(segments.segment_dict(segment))
        return _form_page(actor, values, segment)
    inputs = segment_form.filter_inputs(db(), actor)
    data = segment_form.posted_segment(request.form, inputs, segment.definition)
    try:
        segments.update_segment(db(), actor, segment_id, data)
    except Invalid as exc:
        db().rollback()
        segment = segments.get_segment(db(), actor, segment_id)
        errors = segment_form.shown_errors(exc.details)
        values = segment_form.form_values(data)
        return _form_page(actor, values, segment, errors, exc.status)
    flash(_("Segment saved."), "success")
    return redirect(url_for(".edit_segment", segment_id=segment_id))


@bp.post("/<int:segment_id>/delete")
@login_required
def delete_segment(segment_id: int):
    actor = _actor()
    try:
        segments.delete_segment(db(), actor, segment_id)
    except Conflict as exc:
        db().rollback()
        details = exc.details or {}
        users = details.get("reminder_rules", []) + details.get("campaigns", [])
        flash(
            _(
                "Reminder rules or campaigns still use this segment: %(names)s. "
                "Change or delete them first.",
                names=", ".join(user["name"] for user in users),
            ),
            "error",
        )
        return redirect(url_for(".edit_segment", segment_id=segment_id))
    flash(_("Segment deleted."), "success")
    return redirect(url_for(".segment_list"))


@bp.post("/count")
@login_required
def live_count():
    """The htmx count of the customers the form's definition picks, as it stands (unsaved):
    with the saved segment's conditions the form has no input for (`?segment_id=`)."""
    actor = _actor()
    segment_id = request.args.get("segment_id", type=int)
    stored = segments.get_segment(db(), actor, segment_id).definition if segment_id else None
    data = segment_form.posted_segment(
        request.form, segment_form.filter_inputs(db(), actor), stored
    )
    count, problems = _live(actor, data["definition"])
    return render_template("ui/_segment_count.html", count=count, problems=problems)
