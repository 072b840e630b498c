"""Notifications from a process: in-app, with an e-mail copy through the outbox."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select

from core.errors import Invalid
from crm_domain.notifications import notify
from crm_domain.users import User
from engine.operations.context import OperationContext
from engine.operations.registry import operation


class NotifyParams(Schema):
    users = fields.List(
        fields.Raw(),
        load_default=list,
        metadata={"description": "Recipients: user ids or usernames."},
    )
    roles = fields.List(
        fields.String(),
        load_default=list,
        metadata={"description": "Every active holder of these roles, e.g. ['sales_manager']."},
    )
    title = fields.String(
        required=True, validate=validate.Length(min=1, max=200), metadata={"description": "Title."}
    )
    body = fields.String(load_default="", metadata={"description": "Text of the notification."})
    link = fields.String(
        load_default=None, allow_none=True, metadata={"description": "A link, e.g. /tasks/…"}
    )
    email = fields.Boolean(
        load_default=True, metadata={"description": "Also send an e-mail copy (default true)."}
    )

    @validates_schema
    def _someone(self, data: dict, **_kwargs) -> None:
        if not data.get("users") and not data.get("roles"):
            raise ValidationError("Name at least one recipient (users or roles).", "users")


@operation(
    "notify.send",
    NotifyParams,
    result_variable="notified",
    result="{user_ids: [ids notified]}",
)
def send_notification(ctx: OperationContext, params: dict[str, Any]) -> dict:
    """Notify users in the app, with an e-mail copy sent after commit. 发送站内通知和邮件。"""
    user_ids = _user_ids(ctx, params["users"]) | _role_holders(ctx, params["roles"])
    created = notify(
        ctx.session,
        sorted(user_ids),
        params["title"],
        params["body"],
        params["link"],
        email=params["email"],
    )
    return {"user_ids": sorted(n.user_id for n in created)}


def _user_ids(ctx: OperationContext, wanted: list[Any]) -> set[int]:
    ids = {w for w in wanted if isinstance(w, int) and not isinstance(w, bool)}
    names = {w for w in wanted if isinstance(w, str)}
    found = set(ids)
    if ids:
        found = set(ctx.session.scalars(select(User.id).where(User.id.in_(ids), User.is_active)))
    if names:
        found |= set(
            ctx.session.scalars(select(User.id).where(User.username.in_(names), User.is_active))
        )
    unknown = [w for w in wanted if not _matches(ctx, w, found)]
    if unknown:
        raise Invalid(
            "Some recipients are not active users.",
            details={"users": [f"No active user {w!r}." for w in unknown]},
        )
    return found


def _matches(ctx: OperationContext, wanted: Any, found: set[int]) -> bool:
    if isinstance(wanted, int) and not isinstance(wanted, bool):
        return wanted in found
    if isinstance(wanted, str):
        user_id = ctx.session.scalar(select(User.id).where(User.username == wanted))
        return user_id in found
    return False


def _role_holders(ctx: OperationContext, roles: list[str]) -> set[int]:
    if not roles:
        return set()
    # Roles are a JSON list per user: read the active users and match here (the same on
    # SQLite and PostgreSQL); a manufacturer's staff list is small.
    rows = ctx.session.execute(select(User.id, User.roles).where(User.is_active))
    return {user_id for user_id, held in rows if set(held or ()) & set(roles)}
