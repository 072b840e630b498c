"""The signed-in user's in-app notifications."""

from __future__ import annotations

from flask import jsonify, request
from flask_smorest import Blueprint

from crm_domain import notifications
from web.auth import current_user, login_required
from web.request_session import db

blp = Blueprint(
    "notifications", __name__, url_prefix="/api/v1/notifications", description="Notifications"
)


@blp.route("", methods=["GET"])
@login_required()
def list_notifications():
    """Newest first, with the unread count (`?unread=1` for unread only)."""
    unread_only = request.args.get("unread") in ("1", "true")
    rows, unread = notifications.inbox(db(), current_user(), unread_only)
    return jsonify(
        {
            "unread": unread,
            "items": [
                {
                    "id": n.id,
                    "title": n.title,
                    "body": n.body,
                    "link": n.link,
                    "created_at": n.created_at.isoformat(),
                    "read_at": n.read_at.isoformat() if n.read_at else None,
                }
                for n in rows
            ],
        }
    )


@blp.route("/<int:notification_id>/read", methods=["POST"])
@login_required()
def read_one(notification_id: int):
    notifications.mark_read(db(), current_user(), notification_id)
    return jsonify({"unread": notifications.inbox(db(), current_user())[1]})


@blp.route("/read-all", methods=["POST"])
@login_required()
def read_all():
    notifications.mark_read(db(), current_user())
    return jsonify({"unread": 0})
