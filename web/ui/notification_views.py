"""In-app notifications: the list, mark one or all read."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import login_required

from crm_domain.notifications import inbox, mark_read
from web.request_session import db
from web.ui.auth_views import safe_next
from web.ui.session_auth import signed_in_user

bp = Blueprint("ui_notifications", __name__, url_prefix="/notifications")


@bp.get("")
@login_required
def notifications():
    unread_only = request.args.get("unread") == "1"
    items, unread = inbox(db(), signed_in_user(), unread_only=unread_only, limit=100)
    return render_template(
        "ui/notifications.html", items=items, unread=unread, unread_only=unread_only
    )


@bp.post("/<int:notification_id>/read")
@login_required
def read_one(notification_id: int):
    mark_read(db(), signed_in_user(), notification_id)
    # "Open" marks read and follows the link; "mark read" stays on the list.
    return redirect(safe_next(request.form.get("next"), url_for("ui_notifications.notifications")))


@bp.post("/read-all")
@login_required
def read_all():
    mark_read(db(), signed_in_user())
    return redirect(url_for("ui_notifications.notifications"))
