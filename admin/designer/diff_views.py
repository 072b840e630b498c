"""Two versions of a process side by side: elements added, removed and changed."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from admin.designer.access import operator_required
from core.errors import NotFound
from engine import definitions as svc
from engine.version_diff import diff_versions
from web.request_session import db

# Listed, but not painted: marking a whole pool or lane would hide the steps that changed in it
# (a lane "changes" whenever a step moves in or out of it).
CONTAINERS = {"process", "collaboration", "participant", "laneSet", "lane"}

bp = Blueprint("designer_diff", __name__, url_prefix="/designer/processes")


@bp.get("/<key>/diff")
@operator_required
def diff(key: str):
    old_version = request.args.get("from", type=int)
    new_version = request.args.get("to", type=int)
    if old_version is None or new_version is None:
        abort(404)
    try:
        old = svc.get_version(db(), key, old_version)
        new = svc.get_version(db(), key, new_version)
    except NotFound:
        abort(404)
    changes = diff_versions(old, new)
    return render_template(
        "admin/designer/diff.html",
        old=old,
        new=new,
        changes=changes,
        marked=lambda items: [c.element_id for c in items if c.kind not in CONTAINERS],
    )
