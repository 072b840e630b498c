"""Roles and permissions: the roles × collections matrix, and one role's editable matrix of
actions with the data scope per collection, plus its special grants.

Needs the `manage_roles` grant (a process designer does not hold it). A change applies to every
holder on their next request: rights are read from the role rows on each request.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from admin.console.guard import console_actor
from admin.console.rendering import field_errors, render_console
from core.errors import Conflict, Invalid
from crm_domain import roles
from crm_domain.collections import COLLECTIONS
from web.request_session import db
from web.ui.i18n import localized

bp = Blueprint("console_roles", __name__, url_prefix="/admin/roles")
RIGHT = "manage_roles"

ACTION_LABELS = {
    "read": _l("Read"),
    "create": _l("Create"),
    "update": _l("Update"),
    "delete": _l("Delete"),
}
SCOPE_LABELS = {
    "own": _l("Own records"),
    "unit": _l("My org unit"),
    "subtree": _l("My unit and below"),
    "all": _l("Everything"),
}
GRANT_LABELS = {
    "export": _l("Export data"),
    "import": _l("Import data"),
    "view_sensitive": _l("View sensitive fields"),
    "manage_fields": _l("Manage custom fields"),
    "manage_users": _l("Manage users and the org tree"),
    "manage_roles": _l("Manage roles"),
    "manage_settings": _l("Manage settings and webhooks"),
    "deploy_processes": _l("Deploy processes"),
}


def _collections() -> list[tuple[str, str]]:
    return [(name, localized(c.label)) for name, c in COLLECTIONS.items()]


def _all_roles() -> list[roles.Role]:
    return list(db().scalars(select(roles.Role).order_by(roles.Role.key)))


def _role_or_404(key: str) -> roles.Role:
    role = db().get(roles.Role, key)
    if role is None:
        abort(404)
    return role


def permissions_from(posted: MultiDict) -> dict:
    """`perm.<collection>.<action>` checkboxes and `scope.<collection>` selects as the role's
    permissions; a collection with no action ticked is left out (no right at all)."""
    permissions = {}
    for collection in COLLECTIONS:
        actions = [a for a in roles.ACTIONS if posted.get(f"perm.{collection}.{a}") == "on"]
        if actions:
            scope = posted.get(f"scope.{collection}", "own")
            permissions[collection] = {"actions": actions, "scope": scope}
    return permissions


def _name_from(posted: MultiDict, fallback: str) -> dict:
    name = {lang: posted.get(f"name_{lang}", "").strip() for lang in ("zh", "en")}
    return {lang: text for lang, text in name.items() if text} or {"en": fallback}


def _common() -> dict:
    return {
        "collections": _collections(),
        "actions": roles.ACTIONS,
        "action_labels": ACTION_LABELS,
        "scopes": roles.SCOPES,
        "scope_labels": SCOPE_LABELS,
        "grants": roles.GRANTS,
        "grant_labels": GRANT_LABELS,
    }


@bp.get("", endpoint="roles")
@login_required
def roles_overview():
    actor = console_actor(RIGHT)
    return render_console(
        "admin/roles.html", actor, roles=_all_roles(), new={}, errors={}, **_common()
    )


@bp.post("")
@login_required
def create_role():
    actor = console_actor(RIGHT)
    key = request.form.get("key", "").strip()
    try:
        role = roles.create_role(db(), key, _name_from(request.form, key), {}, [], actor=actor)
    except (Invalid, Conflict) as exc:
        new = {"key": key, **{k: request.form.get(k, "") for k in ("name_zh", "name_en")}}
        return render_console(
            "admin/roles.html",
            actor,
            exc.status,
            roles=_all_roles(),
            new=new,
            errors=field_errors(exc),
            **_common(),
        )
    flash(_("Role “%(key)s” created; now give it rights.", key=role.key), "success")
    return redirect(url_for(".edit_role", key=role.key))


def _role_page(actor, role: roles.Role, errors=None, status: int = 200):
    return render_console(
        "admin/role.html", actor, status, role=role, errors=errors or {}, **_common()
    )


@bp.get("/<key>")
@login_required
def edit_role(key: str):
    actor = console_actor(RIGHT)
    return _role_page(actor, _role_or_404(key))


@bp.post("/<key>")
@login_required
def change_role(key: str):
    actor = console_actor(RIGHT)
    role = _role_or_404(key)
    changes = {
        "name": _name_from(request.form, key),
        "permissions": permissions_from(request.form),
        "grants": [g for g in roles.GRANTS if g in request.form.getlist("grant")],
    }
    try:
        roles.change_role(db(), key, actor=actor, **changes)
    except Invalid as exc:
        return _role_page(actor, role, field_errors(exc), exc.status)
    flash(_("Role “%(key)s” saved; it applies from each holder's next click.", key=key), "success")
    return redirect(url_for(".edit_role", key=key))
