"""Moving running instances to a newer version of their process, where SpiffWorkflow can.

SpiffWorkflow 3's `diff_workflow` aligns the instance's task specs with the new version's (by
BPMN id, then by structure) and `migrate_workflow` swaps the specs and re-predicts the ready
and waiting branches. An instance can move when:

- it still holds work (running, waiting or suspended; one in error is retried first);
- every task it has already passed through or stands in still exists in the new version
  (a removed step it has reached would leave history pointing at nothing);
- every subprocess it runs exists in the new version;
- the migrated state saves and loads back on the new version's specs (tried, never assumed).

The move itself is a compare-and-swap save like every instance change (`runtime.save`).
"""

from __future__ import annotations

from dataclasses import dataclass

from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import Conflict, Forbidden
from crm_domain.users import User
from engine import runtime
from engine.definitions import current_definition
from engine.instances import OPERATOR_ROLES, get_instance
from engine.models import ProcessDefinition, ProcessInstance
from engine.parsing.problems import describe_exception
from engine.serialization import definition_specs, dump_state, full_serializer, state_from_json

MOVABLE_STATUSES = ("running", "waiting", "suspended")
_PREDICTED = TaskState.PREDICTED_MASK


@dataclass(frozen=True)
class MigrationCheck:
    instance_id: int
    from_version: int
    status: str
    can_move: bool
    reason: str = ""  # why it cannot move (English, shown as is)


def preview_migration(
    session: Session, key: str, target: ProcessDefinition | None = None
) -> tuple[ProcessDefinition, list[MigrationCheck]]:
    """Each older-version instance of `key` that still holds work, and whether it can move."""
    target = target or current_definition(session, key)
    rows = session.scalars(
        select(ProcessInstance)
        .where(
            ProcessInstance.process_key == key,
            ProcessInstance.definition_version < target.version,
            ProcessInstance.status.in_((*MOVABLE_STATUSES, "error")),
        )
        .order_by(ProcessInstance.id)
    ).all()
    checks = []
    for row in rows:
        reason = _blocker(session, row, target)
        checks.append(
            MigrationCheck(row.id, row.definition_version, row.status, not reason, reason)
        )
    return target, checks


def migrate_instance(
    session: Session, user: User, instance_id: int, target: ProcessDefinition
) -> ProcessInstance:
    """Move one instance to `target`; Conflict when it cannot move or changed meanwhile."""
    if not user.has_role(*OPERATOR_ROLES, "process_designer"):
        raise Forbidden("Only an administrator or a process designer may migrate instances.")
    row = get_instance(session, instance_id)
    reason = _blocker(session, row, target)
    if reason:
        raise Conflict(f"Instance {instance_id} cannot move to version {target.version}: {reason}")
    loaded = runtime.load(session, row)
    from_version = row.definition_version
    _migrate(loaded.workflow, target)
    row.definition_id, row.definition_version = target.id, target.version
    loaded.definition = target
    loaded.record("migrated", user=user, from_version=from_version, to_version=target.version)
    incident = runtime.run_engine(loaded) if row.status != "suspended" else None
    runtime.save(session, loaded, incident)
    return row


def _blocker(session: Session, row: ProcessInstance, target: ProcessDefinition) -> str:
    if row.process_key != target.key:
        return "it runs another process."
    if row.definition_version >= target.version:
        return f"it already runs version {row.definition_version}."
    if row.status == "error":
        return "it has an open incident; retry it first."
    if row.status not in MOVABLE_STATUSES:
        return f"it is {row.status}."
    try:
        workflow = runtime.load(session, row).workflow
        spec, subprocess_specs = definition_specs(target)
        top, sub_diffs = diff_workflow(full_serializer().registry, workflow, spec, subprocess_specs)
        reached = [t for t in top.removed if not t.has_state(_PREDICTED)]
        if reached:
            names = ", ".join(sorted({runtime.task_label(t) for t in reached}))
            return f"steps it has reached are not in the new version ({names})."
        if any(diff is None for diff in sub_diffs.values()):
            return "a subprocess it runs is not in the new version."
        # Try the whole move on a throwaway copy: the new state must load on the new specs.
        _migrate(workflow, target, diffs=(top, sub_diffs))
        state_from_json(dump_state(workflow), spec, subprocess_specs)
    except Exception as exc:  # whatever Spiff cannot align is a reason, never a crash
        return f"SpiffWorkflow cannot align it ({describe_exception(exc)})."
    return ""


def _migrate(workflow, target: ProcessDefinition, diffs=None) -> None:
    spec, subprocess_specs = definition_specs(target)
    top, sub_diffs = diffs or diff_workflow(
        full_serializer().registry, workflow, spec, subprocess_specs
    )
    migrate_workflow(top, workflow, spec)
    for sub_id, diff in sub_diffs.items():
        sub = workflow.subprocesses[sub_id]
        migrate_workflow(diff, sub, subprocess_specs[sub.spec.name])
    workflow.subprocess_specs = subprocess_specs
