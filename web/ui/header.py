"""What every page's header needs: the signed-in user and their unread notification count."""

from __future__ import annotations

from flask import g
from sqlalchemy import func, select

from crm_domain.notifications import Notification
from web.request_session import db
from web.ui.session_auth import signed_in_user


def unread_count(user_id: int) -> int:
    if "unread_notifications" not in g:
        g.unread_notifications = db().scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
    return g.unread_notifications


def header_context() -> dict:
    user = signed_in_user()
    if user is None:
        return {"me": None, "unread_notifications": 0}
    return {"me": user, "unread_notifications": unread_count(user.id)}
