"""The task page: the form, its context, and claim / hand back / complete."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from core.digits import is_digits
from core.errors import Conflict, Forbidden, Invalid, NotFound
from crm_domain.access import actor_for
from crm_domain.customers import Customer
from crm_domain.record_service import find_visible
from crm_domain.roles import Role
from crm_domain.users import User
from engine import tasks as task_service
from engine.form_places import configured_places
from engine.models import HumanTask
from engine.serialization import definition_forms
from web.request_session import db
from web.ui.i18n import bilingual, localized, when
from web.ui.session_auth import signed_in_user
from web.ui.task_form import field_labels, field_views, submitted_data

bp = Blueprint("ui_task", __name__, url_prefix="/tasks")


def _computed_labels() -> dict[str, str]:
    # Variables the shipped processes compute (no form labels them) that a reviewer needs.
    return {"discount_percent": _("Discount (%)")}


def _person(user_id: int | None) -> str:
    if user_id is None:
        return ""
    user = db().get(User, user_id)
    return (user.display_name or user.username) if user else f"#{user_id}"


def _role_name(key: str | None) -> str:
    """A lane's role in the reader's language ("销售员"), its key when the role has no name."""
    if key is None:
        return "—"
    role = db().get(Role, key)
    return (localized(role.name) if role and role.name else "") or key


def _load_task(task_id: str) -> HumanTask:
    task = task_service.get_task(db(), task_id)
    if not task_service.may_see(signed_in_user(), task):
        abort(403)
    return task


def _subject_customer(task: HumanTask) -> Customer | None:
    instance = task.instance
    if instance.subject_type != "customer" or not is_digits(instance.subject_id or ""):
        return None
    session = db()
    return find_visible(
        session, actor_for(session, signed_in_user()), "customers", int(instance.subject_id)
    )


def _why_not(task: HumanTask) -> str:
    """A friendly sentence for a task someone else got to first."""
    user = signed_in_user()
    if task.status == "completed":
        return _(
            "%(who)s completed this task at %(when)s. Nothing you entered was saved; "
            "there is nothing more to do here.",
            who=_person(task.completed_by_id),
            when=when(task.completed_at, "short"),
        )
    if task.status != "open":
        return _("This task is no longer open: its process was stopped or moved on.")
    if task.assignee_id is not None and task.assignee_id != user.id:
        return _(
            "%(who)s has claimed this task and is working on it.", who=_person(task.assignee_id)
        )
    return _("The process changed while you were working. Reload the task and try again.")


def _render(task: HumanTask, posted=None, errors=None, notice: str | None = None, status=200):
    session, user = db(), signed_in_user()
    form = task_service.task_form(session, task)
    data = task_service.task_data(session, task) if task.status == "open" else {}
    places = configured_places(session, form)
    fields = field_views(form, data, posted, errors, places) if form else []
    form_names = {f["name"] for f in form["fields"]} if form else set()
    labels = {**_computed_labels(), **field_labels(definition_forms(task.instance.definition))}
    context_data = [
        (labels.get(key, key), value)
        for key, value in sorted(data.items())
        if key not in form_names and not key.startswith("_") and labels.get(key)
    ]
    mine = task.assignee_id == user.id
    workable = task.status == "open" and task_service.may_work_on(user, task)
    page = render_template(
        "ui/task.html",
        task=task,
        instance=task.instance,
        form=form,
        fields=fields,
        errors=errors or {},
        notice=notice,
        customer=_subject_customer(task),
        context_data=context_data,
        mine=mine,
        workable=workable and task.instance.status == "running",
        can_unclaim=mine and task.status == "open" and task.lane is not None,
        can_claim=task.status == "open" and task.assignee_id is None and workable,
        assignee=_person(task.assignee_id),
        completed_by=_person(task.completed_by_id),
        started_by=_person(task.instance.started_by_id),
        lane_name=_role_name(task.lane),
    )
    return page, status


@bp.get("/<task_id>")
@login_required
def task_page(task_id: str):
    return _render(_load_task(task_id))


def _after_conflict(task_id: str, status: int = 409):
    """Show the task as it is now, with a friendly word on who got there first."""
    session = db()
    session.rollback()
    session.expire_all()
    task = _load_task(task_id)
    return _render(task, notice=_why_not(task), status=status)


@bp.post("/<task_id>/claim")
@login_required
def claim(task_id: str):
    _load_task(task_id)
    try:
        task_service.claim_task(db(), signed_in_user(), task_id)
    except Conflict:
        return _after_conflict(task_id)
    flash(_("The task is yours now."), "success")
    return redirect(url_for("ui_task.task_page", task_id=task_id))


@bp.post("/<task_id>/unclaim")
@login_required
def unclaim(task_id: str):
    _load_task(task_id)
    try:
        task_service.unclaim_task(db(), signed_in_user(), task_id)
    except Conflict:
        return _after_conflict(task_id)
    flash(_("You handed the task back; it is available to your role again."), "info")
    return redirect(url_for("ui_inbox.inbox", tab="available"))


@bp.post("/<task_id>/complete")
@login_required
def complete(task_id: str):
    session = db()
    task = _load_task(task_id)
    form = task_service.task_form(session, task)
    data = submitted_data(form, request.form) if form else {}
    try:
        task_service.complete_task(session, signed_in_user(), task_id, data)
    except Invalid as error:
        session.rollback()
        details = error.details if isinstance(error.details, dict) else {}
        notice = _("Some fields need your attention.")
        return _render(
            _load_task(task_id), posted=request.form, errors=details, notice=notice, status=422
        )
    except Conflict:
        return _after_conflict(task_id)
    flash(_("Task completed: %(name)s", name=bilingual(task.name)), "success")
    return redirect(url_for("ui_inbox.inbox"))


def _record_title(record) -> str:
    for attribute in ("name", "title", "number", "subject", "code"):
        value = getattr(record, attribute, None)
        if value:
            return str(value)
    return ""


@bp.get("/lookup/<collection>")
@login_required
def lookup(collection: str):
    """Options for a reference field's datalist: records in the user's scope matching the text."""
    from crm_domain.record_service import list_records

    session = db()
    text = (request.args.get(request.args.get("field", ""), "") or "").strip()
    try:
        records, _total = list_records(
            session, actor_for(session, signed_in_user()), collection, q=text or None, per_page=15
        )
    except (NotFound, Forbidden, Invalid, KeyError):
        records = []
    return render_template("ui/_lookup_options.html", records=records, title=_record_title)
