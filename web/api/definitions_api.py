"""Process definitions: upload (deploy), list, versions, XML, make a version current."""

from __future__ import annotations

from flask import Response, current_app, request
from flask_smorest import Blueprint

from core.errors import BadRequest, NotFound
from crm_domain.admin_audit import record_admin_change
from engine import definitions as svc
from engine.parsing import UploadedFile
from web.api.schemas import (
    DefinitionSchema,
    DefinitionSummarySchema,
    DeploymentSchema,
    SetCurrentRequest,
)
from web.auth import current_user, login_required
from web.deployment_audit import current_versions, record_deployment
from web.request_session import db

blp = Blueprint(
    "definitions",
    __name__,
    url_prefix="/api/v1/process-definitions",
    description="BPMN/DMN/form definitions, versioned",
)


@blp.route("", methods=["POST"])
@login_required(grant="deploy_processes")
@blp.response(201, DeploymentSchema)
@blp.alt_response(200, schema=DeploymentSchema, description="Identical content: no new version")
def deploy():
    """Upload one or more files (`file` parts: .bpmn, .dmn, form .json) as the next versions."""
    parts = request.files.getlist("file")
    if not parts:
        raise BadRequest(
            "Send the files as multipart form parts named 'file'.",
            details={"file": ["At least one file is required."]},
        )
    limit = current_app.extensions["weft"].settings.upload_max_bytes
    files = [UploadedFile(p.filename or "", p.stream.read(limit + 1)) for p in parts]
    current_before = current_versions(db())
    deployment = svc.deploy_files(db(), files, current_user(), limit)
    record_deployment(db(), current_user(), deployment, current_before)
    primary = (deployment.created or deployment.definitions or [None])[0]
    body = {
        "key": primary.key if primary else None,
        "version": primary.version if primary else None,
        "name": primary.name if primary else None,
        "hash": primary.content_hash if primary else None,
        "created": bool(deployment.created or deployment.forms or deployment.decisions),
        "deployed": deployment.definitions,
        "forms": [{"key": f.key, "version": f.version} for f in deployment.forms],
        "decisions": [
            {"file": d.filename, "version": d.version, "decision_ids": d.decision_ids}
            for d in deployment.decisions
        ],
    }
    return body, 201 if body["created"] else 200


@blp.route("", methods=["GET"])
@login_required()
@blp.response(200, DefinitionSummarySchema(many=True))
def list_definitions():
    """The current version of every process key."""
    rows = []
    for definition, latest in svc.list_current(db()):
        definition.latest_version = latest  # a transient attribute, for the schema
        rows.append(definition)
    return rows


@blp.route("/<string:key>", methods=["GET"])
@login_required()
@blp.response(200, DefinitionSchema(many=True))
def list_versions(key: str):
    """Every version of one key, newest first."""
    return svc.list_versions(db(), key)


@blp.route("/<string:key>/versions/<int:version>/bpmn", methods=["GET"])
@login_required()
def get_bpmn(key: str, version: int):
    """The BPMN XML a version was built from."""
    definition = svc.get_version(db(), key, version)
    xml = definition.source_files[definition.bpmn_filename]
    return Response(
        xml,
        mimetype="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{definition.bpmn_filename}"'},
    )


@blp.route("/<string:key>/current", methods=["PUT"])
@login_required(grant="deploy_processes")
@blp.arguments(SetCurrentRequest)
@blp.response(200, DefinitionSchema)
def set_current(body: dict, key: str):
    """Make a version (e.g. an older one) the one new instances start on."""
    try:
        before = {"current_version": svc.current_definition(db(), key).version}
    except NotFound:
        before = None
    definition = svc.set_current_version(db(), key, body["version"])
    after = {"current_version": definition.version}
    record_admin_change(db(), current_user(), "process_definition", key, before, after)
    return definition
