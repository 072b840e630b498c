"""Task forms of a process version: edit one in a table and deploy it with the process."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from admin.designer.access import designer_required
from admin.designer.form_editor import PLACES_CHOICES, definition_from_form, form_file, rows_of
from admin.designer.modeler_views import files_with_diagram
from admin.designer.upload_views import deployed_message
from admin.designer.uploads import check_files, deploy
from core.errors import NotFound
from engine import definitions as svc
from engine.form_places import current_places
from engine.models import ProcessDefinition
from engine.parsing import UploadedFile
from forms.definitions import FIELD_TYPES
from web.request_session import db
from web.ui.session_auth import signed_in_user

bp = Blueprint("designer_forms", __name__, url_prefix="/designer/processes")


def _version(key: str) -> ProcessDefinition:
    version = request.values.get("version", type=int)
    try:
        return svc.get_version(db(), key, version) if version else svc.current_definition(db(), key)
    except NotFound:
        abort(404)


@bp.get("/<key>/forms")
@designer_required
def forms_of(key: str):
    definition = _version(key)
    return render_template("admin/designer/forms.html", base=definition)


@bp.get("/<key>/forms/<form_key>")
@designer_required
def edit_form(key: str, form_key: str):
    base = _version(key)
    if form_key not in base.forms:
        abort(404)
    form = base.forms[form_key]
    return _page(base, form, rows_of(form), None)


@bp.post("/<key>/forms/<form_key>")
@designer_required
def save_form(key: str, form_key: str):
    base = _version(key)
    if form_key not in base.forms:
        abort(404)
    edited = definition_from_form(request.form, base.forms[form_key])
    name, content = form_file(edited)
    files = [
        UploadedFile(name, content),
        *files_with_diagram(base, base.source_files[base.bpmn_filename]),
    ]
    deploying = request.form.get("action") == "deploy"
    outcome = deploy(files, signed_in_user()) if deploying else check_files(files)
    if outcome.ok and deploying:
        flash(deployed_message(outcome), "success")
        return redirect(url_for("designer_catalogue.process", key=key))
    return _page(base, edited, rows_of(edited), outcome), outcome.status


def _page(base, form, rows, outcome):
    return render_template(
        "admin/designer/form_editor.html",
        base=base,
        form=form,
        rows=rows,
        outcome=outcome,
        field_types=FIELD_TYPES,
        places_choices=PLACES_CHOICES,
        configured_places=current_places(db()),
    )
