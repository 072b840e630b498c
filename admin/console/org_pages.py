"""The org tree: add, rename and move units. Moving a unit moves everything under it, and with
it the people in those units and the reach of their data scope (scope follows the unit path).
Needs the `manage_users` grant, like the REST API.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import func, select

from admin.console.guard import console_actor
from admin.console.rendering import all_messages, field_errors, render_console
from core.digits import is_digits
from core.errors import Invalid, NotFound
from crm_domain import org
from crm_domain.users import User
from web.request_session import db

bp = Blueprint("console_org", __name__, url_prefix="/admin/org")
RIGHT = "manage_users"
KIND_LABELS = {
    "group": _l("Group"),
    "headquarters": _l("Headquarters"),
    "subsidiary": _l("Subsidiary"),
    "branch": _l("Branch"),
    "office": _l("Office"),
    "workshop": _l("Workshop"),
    "team": _l("Team"),
}


def _parent_id(text: str | None) -> int | None:
    return int(text) if text and is_digits(text) else None


def _page(actor, errors=None, status: int = 200):
    people = dict(
        db()
        .execute(
            select(User.org_unit_id, func.count(User.id))
            .where(User.is_active.is_(True))
            .group_by(User.org_unit_id)
        )
        .all()
    )
    return render_console(
        "admin/org.html",
        actor,
        status,
        units=org.list_org_units(db()),
        people=people,
        kinds=[(kind, KIND_LABELS.get(kind, kind)) for kind in org.UNIT_KINDS],
        errors=errors or {},
    )


@bp.get("", endpoint="org_tree")
@login_required
def org_tree_page():
    return _page(console_actor(RIGHT))


@bp.post("")
@login_required
def add_unit():
    actor = console_actor(RIGHT)
    form = request.form
    try:
        org.create_org_unit(
            db(),
            form.get("name", ""),
            form.get("kind", "team"),
            _parent_id(form.get("parent_id")),
            actor=actor,
        )
    except Invalid as exc:
        return _page(actor, field_errors(exc), exc.status)
    flash(_("Unit added."), "success")
    return redirect(url_for(".org_tree"))


@bp.post("/<int:unit_id>")
@login_required
def change_unit(unit_id: int):
    actor = console_actor(RIGHT)
    form = request.form
    try:
        unit = org.get_org_unit(db(), unit_id)
        name, kind = form.get("name", unit.name), form.get("kind") or unit.kind
        if name != unit.name or kind != unit.kind:
            org.rename_org_unit(db(), unit_id, name, kind, actor=actor)
        parent_id = _parent_id(form.get("parent_id"))
        if parent_id != unit.parent_id:
            org.move_org_unit(db(), unit_id, parent_id, actor=actor)
    except (Invalid, NotFound) as exc:
        return _page(actor, {f"unit.{unit_id}": all_messages(exc)}, exc.status)
    flash(_("Unit saved."), "success")
    return redirect(url_for(".org_tree"))
