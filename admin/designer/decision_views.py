"""Decision tables (DMN) of a process version: edit the rules in a table and deploy them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from admin.designer.access import designer_required
from admin.designer.decision_table import read_tables, rules_from_form, write_rules
from admin.designer.upload_views import deployed_message
from admin.designer.uploads import check_files, deploy
from core.errors import NotFound
from engine import definitions as svc
from engine.models import ProcessDefinition
from engine.parsing import UploadedFile
from web.request_session import db
from web.ui.session_auth import signed_in_user

bp = Blueprint("designer_decisions", __name__, url_prefix="/designer/processes")
EXTRA_ROWS = 1


def _version(key: str) -> ProcessDefinition:
    version = request.values.get("version", type=int)
    try:
        return svc.get_version(db(), key, version) if version else svc.current_definition(db(), key)
    except NotFound:
        abort(404)


def _dmn_files(base: ProcessDefinition) -> dict[str, str]:
    return {n: t for n, t in base.source_files.items() if n.lower().endswith(".dmn")}


@bp.get("/<key>/decisions")
@designer_required
def decisions_of(key: str):
    base = _version(key)
    tables = {name: read_tables(xml) for name, xml in _dmn_files(base).items()}
    return render_template("admin/designer/decisions.html", base=base, tables=tables)


@bp.route("/<key>/decisions/<filename>/<decision_id>", methods=["GET", "POST"])
@designer_required
def edit_table(key: str, filename: str, decision_id: str):
    base = _version(key)
    xml = _dmn_files(base).get(filename)
    table = next((t for t in read_tables(xml or "<x/>") if t.decision_id == decision_id), None)
    if xml is None or table is None:
        abort(404)
    outcome = None
    if request.method == "POST":
        table.rules = rules_from_form(request.form, table)
        files = [UploadedFile(filename, write_rules(xml, decision_id, table.rules).encode())]
        deploying = request.form.get("action") == "deploy"
        outcome = deploy(files, signed_in_user()) if deploying else check_files(files)
        if outcome.ok and deploying:
            flash(deployed_message(outcome), "success")
            return redirect(url_for("designer_catalogue.process", key=key))
    empty = {"id": "", "description": "", "inputs": [""] * len(table.inputs)}
    rows = table.rules + [dict(empty, outputs=[""] * len(table.outputs))] * EXTRA_ROWS
    page = render_template(
        "admin/designer/decision_editor.html",
        base=base,
        filename=filename,
        table=table,
        rows=rows,
        outcome=outcome,
    )
    return page, outcome.status if outcome else 200
