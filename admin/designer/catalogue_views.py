"""The process catalogue: every key and version, make a version current, a version's XML."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from admin.designer.access import designer_required, may_design, may_operate, operator_required
from core.errors import NotFound
from crm_domain.admin_audit import record_admin_change
from engine import definitions as svc
from engine.catalogue import process_catalogue
from web.request_session import db
from web.ui.nav import add_nav_item
from web.ui.session_auth import signed_in_user

bp = Blueprint("designer_catalogue", __name__, url_prefix="/designer")
add_nav_item(_l("Process designer"), "designer_catalogue.catalogue", order=80, visible=may_operate)


@bp.get("")
@operator_required
def catalogue():
    return render_template(
        "admin/designer/catalogue.html",
        entries=process_catalogue(db()),
        can_design=may_design(signed_in_user()),
    )


@bp.get("/processes/<key>")
@operator_required
def process(key: str):
    entries = process_catalogue(db(), key)
    if not entries:
        abort(404)
    entry = entries[0]
    shown = request.args.get("version", type=int) or entry.current_version
    return render_template(
        "admin/designer/process.html",
        entry=entry,
        shown=shown,
        can_design=may_design(signed_in_user()),
    )


@bp.post("/processes/<key>/current")
@designer_required
def make_current(key: str):
    version = request.form.get("version", type=int)
    try:
        before = svc.current_definition(db(), key).version
    except NotFound:
        before = None
    try:
        definition = svc.set_current_version(db(), key, version or 0)
    except NotFound:
        abort(404)
    record_admin_change(
        db(),
        signed_in_user(),
        "process_definition",
        key,
        None if before is None else {"current_version": before},
        {"current_version": definition.version},
    )
    flash(_("Version %(version)s is now current: new instances start on it.", version=version))
    return redirect(url_for(".process", key=key))


@bp.get("/processes/<key>/versions/<int:version>.bpmn")
@operator_required
def version_xml(key: str, version: int):
    try:
        definition = svc.get_version(db(), key, version)
    except NotFound:
        abort(404)
    xml = definition.source_files[definition.bpmn_filename]
    return Response(xml, mimetype="application/xml")
