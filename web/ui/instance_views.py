"""The process instance page: the BPMN diagram (bpmn-js) with the path taken and the current
tasks highlighted, the history log, the data, incidents, and cancel / suspend / resume."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select

from core.digits import is_digits
from core.errors import Conflict, Forbidden
from crm_domain.access import actor_for
from crm_domain.record_service import find_visible
from crm_domain.users import User
from engine import instance_view
from engine import instances as instance_service
from engine.models import HumanTask, InstanceEvent, ProcessInstance
from web.request_session import db
from web.ui.customer_story import SUBJECT_TYPE
from web.ui.process_labels import event_label, status_label
from web.ui.session_auth import signed_in_user

bp = Blueprint("ui_instances", __name__, url_prefix="/instances")

OPERATIONS = {
    "cancel": (instance_service.cancel_instance, _l("The process was cancelled.")),
    "suspend": (instance_service.suspend_instance, _l("The process was suspended.")),
    "resume": (instance_service.resume_instance, _l("The process was resumed.")),
}


def _viewable(instance_id: int) -> ProcessInstance:
    return instance_view.viewable_instance(db(), signed_in_user(), instance_id)


def _people(user_ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    users = db().scalars(select(User).where(User.id.in_(ids)))
    return {u.id: u.display_name or u.username for u in users}


def _subject_customer(row: ProcessInstance):
    if row.subject_type != SUBJECT_TYPE or not is_digits(row.subject_id or ""):
        return None
    session = db()
    return find_visible(
        session, actor_for(session, signed_in_user()), "customers", int(row.subject_id)
    )


@bp.get("/<int:instance_id>")
@login_required
def instance_page(instance_id: int):
    session = db()
    row = _viewable(instance_id)
    events = list(
        session.scalars(
            select(InstanceEvent)
            .where(InstanceEvent.instance_id == row.id)
            .order_by(InstanceEvent.id.desc())
        )
    )
    tasks = list(
        session.scalars(
            select(HumanTask)
            .where(HumanTask.instance_id == row.id)
            .order_by(HumanTask.created_at.desc())
        )
    )
    people = _people(
        {e.user_id for e in events}
        | {t.assignee_id for t in tasks}
        | {t.completed_by_id for t in tasks}
        | {row.started_by_id}
    )
    return render_template(
        "ui/instance.html",
        row=row,
        path=instance_view.instance_path(session, row),
        events=events,
        tasks=tasks,
        incidents=instance_service.instance_incidents(session, row.id),
        people=people,
        customer=_subject_customer(row),
        allowed=instance_view.may_operate(signed_in_user(), row),
        event_label=event_label,
        status_label=status_label,
    )


@bp.get("/<int:instance_id>/diagram.bpmn")
@login_required
def diagram(instance_id: int):
    """The BPMN XML of the version this instance runs on, for the viewer on the page."""
    row = _viewable(instance_id)
    return Response(instance_view.diagram_xml(row), mimetype="application/xml")


@bp.post("/<int:instance_id>/<any(cancel, suspend, resume):operation>")
@login_required
def operate(instance_id: int, operation: str):
    """Cancel, suspend or resume; engine/instances.py decides who may."""
    row = _viewable(instance_id)
    action, done = OPERATIONS[operation]
    back = redirect(url_for("ui_instances.instance_page", instance_id=row.id))
    try:
        action(db(), signed_in_user(), row.id)
    except Forbidden:
        db().rollback()
        flash(
            _(
                "Only an administrator, a process designer or (to cancel) the person who "
                "started the process may do this."
            ),
            "error",
        )
        return back
    except Conflict as exc:
        db().rollback()
        flash(_("Not done: %(reason)s", reason=_conflict_reason(exc, row)), "warning")
        return back
    flash(str(done), "success")
    return back


def _conflict_reason(exc: Conflict, row: ProcessInstance) -> str:
    if "changed by someone else" in exc.message:
        return _("someone changed this process just now; look again and retry.")
    return _("the process is %(status)s.", status=status_label(row.status))
