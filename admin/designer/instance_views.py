"""Instance operations: find instances, then retry, cancel, suspend or resume them in bulk."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from admin.designer.access import operator_required
from core.digits import as_id
from core.errors import Conflict, Forbidden, Invalid, NotFound
from engine import instances as ops
from engine.catalogue import process_catalogue
from engine.instance_search import InstanceFilter, find_instances
from engine.models import INSTANCE_STATUSES
from web.request_session import db
from web.ui.process_labels import status_label
from web.ui.session_auth import signed_in_user

bp = Blueprint("designer_instances", __name__, url_prefix="/designer/instances")

OPERATIONS = {
    "retry": ops.retry_instance,
    "cancel": ops.cancel_instance,
    "suspend": ops.suspend_instance,
    "resume": ops.resume_instance,
}


def _date(name: str) -> datetime | None:
    text = (request.args.get(name) or "").strip()
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def criteria_from_request() -> InstanceFilter:
    until = _date("until")
    status = request.args.get("status") or None
    return InstanceFilter(
        process_key=request.args.get("process") or None,
        version=request.args.get("version", type=int),
        status=status if status in INSTANCE_STATUSES else None,
        customer_id=request.args.get("customer", type=int),
        started_from=_date("since"),
        # "until" is a day: everything started on it counts.
        started_before=until + timedelta(days=1) if until else None,
    )


@bp.get("")
@operator_required
def instances():
    criteria = criteria_from_request()
    rows, total = find_instances(db(), criteria)
    return render_template(
        "admin/designer/instances.html",
        rows=rows,
        total=total,
        criteria=criteria,
        args=request.args,
        statuses=INSTANCE_STATUSES,
        processes=[entry.key for entry in process_catalogue(db())],
        status_label=status_label,
    )


@bp.post("/bulk")
@operator_required
def bulk():
    operation = request.form.get("operation")
    ids = [as_id(i) for i in request.form.getlist("instance") if as_id(i)]
    back = request.form.get("next") or url_for(".instances")
    if operation not in OPERATIONS or not ids:
        flash(_("Choose instances and an operation."), "warning")
        return redirect(back)
    done, refused = apply_to_each(operation, ids)
    if done:
        flash(_("%(count)s instance(s) done.", count=len(done)), "success")
    for instance_id, reason in refused:
        flash(_("Instance %(id)s: %(reason)s", id=instance_id, reason=reason), "error")
    return redirect(back if back.startswith("/") else url_for(".instances"))


def apply_to_each(operation: str, ids: list[int]) -> tuple[list[int], list[tuple[int, str]]]:
    """Each instance in its own savepoint: one refusal does not undo the others."""
    session, user = db(), signed_in_user()
    done, refused = [], []
    for instance_id in ids:
        savepoint = session.begin_nested()
        try:
            OPERATIONS[operation](session, user, instance_id)
            savepoint.commit()
            done.append(instance_id)
        except (Conflict, Forbidden, Invalid, NotFound) as exc:
            savepoint.rollback()
            refused.append((instance_id, exc.message))
    return done, refused
