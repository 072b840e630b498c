"""Validate or deploy uploaded files for the console, with the API's report as the outcome.

The same engine calls as `POST /api/v1/process-definitions` (and its audit records); a refusal
becomes a list of `{message, line, element_id, file}` rows for the page instead of a 4xx body.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, select

from core.errors import BadRequest, Invalid, PayloadTooLarge
from engine import definitions as svc
from engine.models import ProcessDefinition
from engine.parsing import UploadedFile
from web.deployment_audit import current_versions, record_deployment
from web.request_session import db


@dataclass
class UploadOutcome:
    ok: bool
    problems: list[dict] = field(default_factory=list)
    message: str = ""
    # (key, name, version) of each process: the next version on a check, the stored one on deploy
    processes: list[tuple[str, str, int]] = field(default_factory=list)
    forms: list[str] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    created: bool = False

    @property
    def status(self) -> int:
        return 200 if self.ok else 422


def upload_limit() -> int:
    return current_app.extensions["weft"].settings.upload_max_bytes


def check_files(files: list[UploadedFile]) -> UploadOutcome:
    """Every check a deploy makes; nothing is stored."""
    try:
        bundle = svc.validate_files(db(), files, upload_limit())
    except (BadRequest, Invalid, PayloadTooLarge) as exc:
        return _refused(exc)
    return UploadOutcome(
        ok=True,
        processes=[(p.key, p.name, _next_version(p.key)) for p in bundle.processes],
        forms=sorted(bundle.forms),
        decisions=sorted(bundle.dmn_files),
    )


def deploy(files: list[UploadedFile], user) -> UploadOutcome:
    session = db()
    before = current_versions(session)
    try:
        deployment = svc.deploy_files(session, files, user, upload_limit())
    except (BadRequest, Invalid, PayloadTooLarge) as exc:
        return _refused(exc)
    record_deployment(session, user, deployment, before)
    return UploadOutcome(
        ok=True,
        processes=[(d.key, d.name, d.version) for d in deployment.definitions],
        forms=[f"{f.key} v{f.version}" for f in deployment.forms],
        decisions=[f"{d.filename} v{d.version}" for d in deployment.decisions],
        created=bool(deployment.created or deployment.forms or deployment.decisions),
    )


def _next_version(key: str) -> int:
    latest = db().scalar(
        select(func.max(ProcessDefinition.version)).where(ProcessDefinition.key == key)
    )
    return (latest or 0) + 1


def _refused(exc: BadRequest | Invalid | PayloadTooLarge) -> UploadOutcome:
    if isinstance(exc, PayloadTooLarge) or not exc.details:
        file = exc.details.get("file") if isinstance(exc.details, dict) else ""
        rows = [_row({"message": exc.message, "file": file})]
    else:
        rows = problem_rows(exc.details)
    return UploadOutcome(ok=False, problems=rows, message=exc.message)


def problem_rows(details) -> list[dict]:
    """The error details in the API's `{message, line, element_id, file}` shape, whatever came."""
    if isinstance(details, list):
        return [_row(item) for item in details]
    if isinstance(details, dict) and "message" not in details:
        return [
            _row({"element_id": key, "message": message})
            for key, messages in details.items()
            for message in (messages if isinstance(messages, list) else [messages])
        ]
    return [_row(details)] if isinstance(details, dict) else []


def _row(item) -> dict:
    item = item if isinstance(item, dict) else {"message": str(item)}
    return {
        "message": str(item.get("message") or ""),
        "line": item.get("line"),
        "element_id": item.get("element_id"),
        "file": item.get("file") or "",
    }


def files_from_request(parts) -> list[UploadedFile]:
    limit = upload_limit()
    return [UploadedFile(p.filename or "", p.stream.read(limit + 1)) for p in parts]
