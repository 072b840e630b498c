"""What a person looking at one process instance sees: who may look, and the path it took.

The instance page draws the BPMN diagram and highlights the elements the instance has passed
through and the ones it waits in. Those come from the workflow's own task tree (SpiffWorkflow),
not from the history log, so script tasks, gateways and events are marked as well as user tasks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import Forbidden
from crm_domain.users import User
from engine import runtime
from engine.instances import OPERATOR_ROLES, get_instance
from engine.models import HumanTask, ProcessInstance

# Spiff's own bookkeeping tasks (Start, End, Root) have no BPMN element to mark.
_WAITING = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


@dataclass
class InstancePath:
    completed: list[str] = field(default_factory=list)  # BPMN ids passed through
    current: list[str] = field(default_factory=list)  # BPMN ids the instance waits in
    failed: list[str] = field(default_factory=list)  # BPMN ids stopped by an error


def may_view_instance(session: Session, user: User, row: ProcessInstance) -> bool:
    """Operators and the starter see any instance; others one they have (had) a task in.

    `GET /api/v1/process-instances/{id}` and the instance page both use it."""
    if user.has_role(*OPERATOR_ROLES) or row.started_by_id == user.id:
        return True
    involved = session.scalar(
        select(func.count())
        .select_from(HumanTask)
        .where(
            HumanTask.instance_id == row.id,
            (HumanTask.assignee_id == user.id)
            | (HumanTask.completed_by_id == user.id)
            | HumanTask.lane.in_(user.roles),
        )
    )
    return bool(involved)


def viewable_instance(session: Session, user: User, instance_id: int) -> ProcessInstance:
    row = get_instance(session, instance_id)  # NotFound
    if not may_view_instance(session, user, row):
        raise Forbidden("You are not involved in this process instance.")
    return row


def may_operate(user: User, row: ProcessInstance) -> dict[str, bool]:
    """Which whole-instance buttons to offer; engine/instances.py enforces the same rules."""
    operator = user.has_role(*OPERATOR_ROLES)
    finished = row.status in ("completed", "cancelled")
    return {
        "cancel": not finished and (operator or row.started_by_id == user.id),
        "suspend": operator and not finished and row.status != "suspended",
        "resume": operator and row.status == "suspended",
    }


def instance_path(session: Session, row: ProcessInstance) -> InstancePath:
    """The BPMN element ids of the instance's top-level process, by how far it got."""
    workflow = runtime.load(session, row).workflow
    path = InstancePath()
    for task in workflow.get_tasks():
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if not bpmn_id:
            continue
        if task.state == TaskState.COMPLETED:
            path.completed.append(bpmn_id)
        elif task.state == TaskState.ERROR:
            path.failed.append(bpmn_id)
        elif task.state & _WAITING and row.status not in ("completed", "cancelled"):
            path.current.append(bpmn_id)
    # An element run twice (a loop back) is current if it waits now, whatever it did before.
    path.completed = [i for i in dict.fromkeys(path.completed) if i not in path.current]
    path.current = list(dict.fromkeys(path.current))
    path.failed = list(dict.fromkeys(path.failed))
    return path


def diagram_xml(row: ProcessInstance) -> str:
    """The BPMN XML of the version this instance runs on (not the latest)."""
    definition = row.definition
    return definition.source_files[definition.bpmn_filename]
