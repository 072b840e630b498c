"""Admin audit of process deployments, for the REST upload and `weft deploy` alike.

Recorded in the web layer, after the engine call: engine/ stays free of admin concerns.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from crm_domain.admin_audit import record_admin_change
from engine import definitions as svc


def current_versions(session: Session) -> dict[str, int]:
    """Each process key's current version, to compare with after a deploy."""
    return {definition.key: definition.version for definition, _latest in svc.list_current(session)}


def record_deployment(
    session: Session, actor: Any, deployment: svc.Deployment, current_before: dict[str, int]
) -> None:
    for definition in deployment.definitions:
        before = current_before.get(definition.key)
        record_admin_change(
            session,
            actor,
            "process_definition",
            definition.key,
            None if before is None else {"current_version": before},
            {
                "current_version": definition.version,
                "name": definition.name,
                "hash": definition.content_hash,
            },
        )
    for form in deployment.forms:
        after = {"version": form.version}
        record_admin_change(session, actor, "form_definition", form.key, None, after)
    for decision in deployment.decisions:
        after = {"version": decision.version, "decision_ids": decision.decision_ids}
        record_admin_change(session, actor, "decision_file", decision.filename, None, after)
