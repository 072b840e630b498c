"""The bpmn-js modeler: change a version's diagram in the browser, check it, deploy it.

The edited XML goes through exactly the checks of an upload (`uploads.check_files` /
`uploads.deploy`) together with the version's other BPMN files; decision tables and forms
come from what is deployed, as for any upload.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, render_template, request, url_for

from admin.designer.access import designer_required
from admin.designer.upload_views import deployed_message
from admin.designer.uploads import check_files, deploy
from core.errors import NotFound
from engine import definitions as svc
from engine.models import ProcessDefinition
from engine.parsing import UploadedFile
from web.request_session import db
from web.ui.session_auth import signed_in_user

bp = Blueprint("designer_modeler", __name__, url_prefix="/designer/processes")


def _version(key: str, version: int | None) -> ProcessDefinition:
    try:
        if version:
            return svc.get_version(db(), key, version)
        return svc.current_definition(db(), key)
    except NotFound:
        abort(404)


@bp.get("/<key>/edit")
@designer_required
def modeler(key: str):
    base = _version(key, request.args.get("version", type=int))
    return render_template("admin/designer/modeler.html", base=base)


@bp.post("/<key>/edit")
@designer_required
def save_diagram(key: str):
    body = request.get_json(silent=True) or {}
    xml, action = body.get("xml"), body.get("action")
    if not isinstance(xml, str) or not xml.strip() or action not in ("check", "deploy"):
        return jsonify({"ok": False, "problems": [_problem("Send the diagram XML.")]}), 400
    base = _version(
        key, body.get("base_version") if isinstance(body.get("base_version"), int) else None
    )
    files = files_with_diagram(base, xml)
    outcome = check_files(files) if action == "check" else deploy(files, signed_in_user())
    answer = {
        "ok": outcome.ok,
        "problems": outcome.problems,
        "processes": [
            {"key": k, "name": name, "version": version} for k, name, version in outcome.processes
        ],
    }
    if outcome.ok and action == "deploy":
        answer["message"] = deployed_message(outcome)
        flash(answer["message"], "success")  # shown on the page the browser goes to next
        answer["redirect"] = url_for("designer_catalogue.process", key=key)
    return jsonify(answer), outcome.status


def files_with_diagram(base: ProcessDefinition, xml: str) -> list[UploadedFile]:
    """The version's BPMN files with its main diagram replaced by the edited one."""
    files = [UploadedFile(base.bpmn_filename, xml.encode())]
    for name, text in base.source_files.items():
        if name != base.bpmn_filename and not name.lower().endswith(".dmn"):
            files.append(UploadedFile(name, text.encode()))
    return files


def _problem(message: str) -> dict:
    return {"message": message, "line": None, "element_id": None, "file": ""}
