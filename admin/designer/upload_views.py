"""Upload BPMN, DMN and form files: check them (the validation report), then deploy."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from admin.designer.access import designer_required
from admin.designer.uploads import UploadOutcome, check_files, deploy, files_from_request
from web.ui.session_auth import signed_in_user

bp = Blueprint("designer_upload", __name__, url_prefix="/designer/upload")


@bp.get("")
@designer_required
def upload_form():
    return render_template("admin/designer/upload.html", outcome=None, action=None)


@bp.post("")
@designer_required
def upload():
    parts = [p for p in request.files.getlist("file") if p.filename]
    action = "deploy" if request.form.get("action") == "deploy" else "check"
    if not parts:
        outcome = UploadOutcome(ok=False, problems=[_no_files()])
        return render_template("admin/designer/upload.html", outcome=outcome, action=action), 400
    files = files_from_request(parts)
    outcome = check_files(files) if action == "check" else deploy(files, signed_in_user())
    if outcome.ok and action == "deploy":
        flash(deployed_message(outcome), "success")
        if outcome.processes:
            return redirect(url_for("designer_catalogue.process", key=outcome.processes[0][0]))
        return redirect(url_for("designer_catalogue.catalogue"))
    page = render_template(
        "admin/designer/upload.html",
        outcome=outcome,
        action=action,
        filenames=[f.filename for f in files],
    )
    return page, outcome.status


def deployed_message(outcome: UploadOutcome) -> str:
    if not outcome.created:
        return _("Nothing changed: the same content is already deployed.")
    versions = ", ".join(f"{key} v{version}" for key, _name, version in outcome.processes)
    return _("Deployed: %(versions)s.", versions=versions or ", ".join(outcome.forms))


def _no_files() -> dict:
    message = _("Choose one or more .bpmn, .dmn or .json files.")
    return {"message": message, "line": None, "element_id": None, "file": ""}
