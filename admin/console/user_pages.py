"""Users: create, deactivate/reactivate, reset the password, roles and org unit.

Needs the `manage_users` grant. A change applies on the user's next request (rights and scope
are read per request); a deactivated user's sessions end at once (the session loader refuses
inactive users), and a reset password signs every browser of theirs out (the session carries
a fingerprint of the password hash).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import or_, select

from admin.console.guard import console_actor
from admin.console.rendering import field_errors, render_console
from core.digits import is_digits
from core.errors import Conflict, Invalid, NotFound
from core.security import hash_password
from crm_domain import org
from crm_domain.roles import role_keys
from crm_domain.users import MIN_PASSWORD_LENGTH, User, change_user, create_user
from web.request_session import db
from web.ui.passwords import password_problems

bp = Blueprint("console_users", __name__, url_prefix="/admin/users")
RIGHT = "manage_users"


def _unit_id(text: str | None) -> int | None:
    return int(text) if text and is_digits(text) else None


def _page(actor, status: int = 200, new=None, errors=None):
    q = request.args.get("q", "").strip()
    stmt = select(User).order_by(User.username)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(User.username.ilike(like), User.display_name.ilike(like)))
    return render_console(
        "admin/users.html",
        actor,
        status,
        users=list(db().scalars(stmt)),
        q=q,
        units={u.id: u for u in org.list_org_units(db())},
        unit_list=org.list_org_units(db()),
        roles=sorted(role_keys(db())),
        new=new or {"roles": ["user"]},
        errors=errors or {},
    )


@bp.get("", endpoint="users")
@login_required
def users_list():
    return _page(console_actor(RIGHT))


@bp.post("")
@login_required
def create_user_page():
    actor = console_actor(RIGHT)
    form = request.form
    new = {
        "username": form.get("username", "").strip(),
        "display_name": form.get("display_name", "").strip(),
        "email": form.get("email", "").strip() or None,
        "org_unit_id": _unit_id(form.get("org_unit_id")),
        "roles": form.getlist("roles"),
    }
    try:
        user = create_user(
            db(),
            new["username"],
            form.get("password", ""),
            new["roles"],
            new["display_name"],
            new["org_unit_id"],
            new["email"],
            actor=actor,
        )
    except (Invalid, Conflict) as exc:
        return _page(actor, exc.status, new, field_errors(exc))
    flash(_("User “%(name)s” created.", name=user.username), "success")
    return redirect(url_for(".users"))


def _user_or_404(user_id: int) -> User:
    user = db().get(User, user_id)
    if user is None:
        abort(404)
    return user


def _user_page(actor, user: User, errors=None, status: int = 200):
    return render_console(
        "admin/user.html",
        actor,
        status,
        user=user,
        unit_list=org.list_org_units(db()),
        roles=sorted(role_keys(db())),
        errors=errors or {},
        min_password=MIN_PASSWORD_LENGTH,
    )


@bp.get("/<int:user_id>")
@login_required
def edit_user(user_id: int):
    return _user_page(console_actor(RIGHT), _user_or_404(user_id))


@bp.post("/<int:user_id>")
@login_required
def change_user_page(user_id: int):
    actor = console_actor(RIGHT)
    user = _user_or_404(user_id)
    form = request.form
    changes = {
        "display_name": form.get("display_name", "").strip() or user.username,
        "email": form.get("email", "").strip() or None,
        "org_unit_id": _unit_id(form.get("org_unit_id")),
        "roles": form.getlist("roles"),
    }
    if user.id == actor.id and "admin" in user.roles and "admin" not in changes["roles"]:
        errors = {"roles": [_("You cannot take the administrator role from yourself.")]}
        return _user_page(actor, user, errors, 422)
    try:
        change_user(db(), user_id, actor=actor, **changes)
    except (Invalid, NotFound) as exc:
        return _user_page(actor, user, field_errors(exc), exc.status)
    flash(_("User “%(name)s” saved.", name=user.username), "success")
    return redirect(url_for(".edit_user", user_id=user_id))


@bp.post("/<int:user_id>/active")
@login_required
def set_active(user_id: int):
    actor = console_actor(RIGHT)
    user = _user_or_404(user_id)
    active = request.form.get("active") == "1"
    if user.id == actor.id and not active:
        return _user_page(actor, user, {"": [_("You cannot deactivate yourself.")]}, 422)
    change_user(db(), user_id, actor=actor, is_active=active)
    flash(_("User activated.") if active else _("User deactivated."), "success")
    return redirect(url_for(".edit_user", user_id=user_id))


@bp.post("/<int:user_id>/password")
@login_required
def reset_password(user_id: int):
    actor = console_actor(RIGHT)
    user = _user_or_404(user_id)
    password = request.form.get("password", "")
    problems = password_problems(user, password, request.form.get("confirmation", ""))
    if problems:  # the same rules as when users change their own password
        return _user_page(actor, user, {"password": problems}, 422)
    # The audit log records that the user changed, never the hash itself (admin_audit hides it).
    change_user(db(), user_id, actor=actor, password_hash=hash_password(password))
    flash(_("Password reset; the user's other sessions are signed out."), "success")
    return redirect(url_for(".edit_user", user_id=user_id))
