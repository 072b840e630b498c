"""Move running instances to the current version: a preview, then the move of those that can."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from admin.designer.access import designer_required
from core.digits import as_id
from core.errors import Conflict, Forbidden, NotFound
from engine.definitions import current_definition
from engine.instance_migration import migrate_instance, preview_migration
from web.request_session import db
from web.ui.process_labels import status_label
from web.ui.session_auth import signed_in_user

bp = Blueprint("designer_migration", __name__, url_prefix="/designer/processes")


@bp.get("/<key>/migrate")
@designer_required
def preview(key: str):
    try:
        target, checks = preview_migration(db(), key)
    except NotFound:
        abort(404)
    return render_template(
        "admin/designer/migration.html", target=target, checks=checks, status_label=status_label
    )


@bp.post("/<key>/migrate")
@designer_required
def migrate(key: str):
    try:
        target = current_definition(db(), key)
    except NotFound:
        abort(404)
    session, user = db(), signed_in_user()
    moved, refused = [], []
    for instance_id in [as_id(i) for i in request.form.getlist("instance") if as_id(i)]:
        savepoint = session.begin_nested()
        try:
            migrate_instance(session, user, instance_id, target)
            savepoint.commit()
            moved.append(instance_id)
        except (Conflict, Forbidden, NotFound) as exc:
            savepoint.rollback()
            refused.append((instance_id, exc.message))
    if moved:
        flash(
            _(
                "%(count)s instance(s) moved to version %(version)s.",
                count=len(moved),
                version=target.version,
            ),
            "success",
        )
    for instance_id, reason in refused:
        flash(_("Instance %(id)s: %(reason)s", id=instance_id, reason=reason), "error")
    return redirect(url_for(".preview", key=key))
