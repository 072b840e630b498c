"""Starting instances and the operations on a whole instance: cancel, suspend, resume, retry."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import clock
from core.digits import as_id
from core.errors import Conflict, Forbidden, Invalid, NotFound
from crm_domain.users import User
from engine import runtime
from engine.definitions import current_definition
from engine.models import Incident, ProcessDefinition, ProcessInstance

OPERATOR_ROLES = ("admin", "process_designer")


def start_instance(
    session: Session,
    user: User | None,
    process_key: str,
    data: dict[str, Any] | None = None,
    subject: dict[str, Any] | None = None,
    definition: ProcessDefinition | None = None,
) -> ProcessInstance:
    definition = definition or current_definition(session, process_key)
    if data is not None and not isinstance(data, dict):
        raise Invalid("The instance data is not valid.", details={"data": ["Must be an object."]})
    subject = subject or customer_subject(data)
    workflow = runtime.new_workflow(definition)
    if data:
        workflow.data.update(data)
        # Start data is visible to the first tasks through the start task's data.
        workflow.task_tree.data.update(data)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(data)
    row = ProcessInstance(
        definition_id=definition.id,
        process_key=definition.key,
        definition_version=definition.version,
        status="running",
        subject_type=(subject or {}).get("type"),
        subject_id=str((subject or {}).get("id")) if subject else None,
        started_by_id=user.id if user else None,
        started_at=clock.now(),
    )
    loaded = runtime.LoadedInstance(row, definition, workflow, is_new=True)
    loaded.record("started", user=user, version=definition.version, data=data or {})
    incident = runtime.run_engine(loaded)
    runtime.save(session, loaded, incident)
    return row


def customer_subject(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """An instance started for a customer (`customer_id` in its start data, as the sales process
    is) is about that customer unless a subject is given: its tasks show the customer in the
    inbox and it appears in the customer's history."""
    customer_id = (data or {}).get("customer_id")
    if type(customer_id) is int and as_id(customer_id):
        return {"type": "customer", "id": customer_id}
    return None


def get_instance(session: Session, instance_id: int) -> ProcessInstance:
    row = session.get(ProcessInstance, instance_id)
    if row is None:
        raise NotFound(f"Process instance {instance_id} does not exist.")
    return row


def _require_operator(user: User, row: ProcessInstance, allow_starter: bool) -> None:
    if user.has_role(*OPERATOR_ROLES):
        return
    if allow_starter and row.started_by_id == user.id:
        return
    raise Forbidden("Only an administrator, a process designer or its starter may do this.")


def cancel_instance(session: Session, user: User, instance_id: int) -> ProcessInstance:
    row = get_instance(session, instance_id)
    _require_operator(user, row, allow_starter=True)
    if row.status in ("completed", "cancelled"):
        raise Conflict(f"The instance is already {row.status}.")
    loaded = runtime.load(session, row)
    loaded.workflow.cancel()
    row.status = "cancelled"
    loaded.record("cancelled", user=user)
    runtime.save(session, loaded)
    return row


def suspend_instance(session: Session, user: User, instance_id: int) -> ProcessInstance:
    row = get_instance(session, instance_id)
    _require_operator(user, row, allow_starter=False)
    if row.status in ("completed", "cancelled", "suspended"):
        raise Conflict(f"The instance is {row.status}; it cannot be suspended.")
    _set_status(session, row, "suspended", user, "suspended", previous=row.status)
    return row


def resume_instance(session: Session, user: User, instance_id: int) -> ProcessInstance:
    row = get_instance(session, instance_id)
    _require_operator(user, row, allow_starter=False)
    if row.status != "suspended":
        raise Conflict(f"The instance is {row.status}, not suspended.")
    loaded = runtime.load(session, row)
    row.status = "running"  # recomputed from the workflow by save()
    loaded.record("resumed", user=user)
    # Timers that fell due while suspended fire now.
    runtime.save(session, loaded, runtime.run_engine(loaded))
    return row


def _set_status(
    session: Session, row: ProcessInstance, status: str, user: User, kind: str, **detail: Any
) -> None:
    """A status-only change, still a compare-and-swap so it cannot cross a running step."""
    result = session.execute(
        update(ProcessInstance)
        .where(ProcessInstance.id == row.id, ProcessInstance.revision == row.revision)
        .values(status=status, revision=row.revision + 1, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict("This process instance was changed by someone else just now.")
    session.expire(row)
    from engine.models import InstanceEvent

    session.add(InstanceEvent(instance_id=row.id, kind=kind, user_id=user.id, detail=detail))
    session.flush()


def retry_instance(
    session: Session, user: User, instance_id: int, data: dict[str, Any] | None = None
) -> ProcessInstance:
    """Run the failed tasks again, optionally after merging corrected data into them."""
    row = get_instance(session, instance_id)
    if not user.has_role(*OPERATOR_ROLES):
        raise Forbidden("Only an administrator or a process designer may retry an instance.")
    if row.status != "error":
        raise Conflict(f"The instance is {row.status}; only instances in error can be retried.")
    if data is not None and not isinstance(data, dict):
        raise Invalid("The data is not valid.", details={"data": ["Must be an object."]})
    loaded = runtime.load(session, row)
    failed = loaded.workflow.get_tasks(state=TaskState.ERROR)
    for task in failed:
        task.data.update(data or {})
        task._ready()
    if not failed and data:
        # The error came from a waiting task's expression (timer, assignee): fix the data there.
        for task in loaded.workflow.get_tasks(state=TaskState.WAITING | TaskState.READY):
            task.data.update(data)
    session.execute(
        update(Incident)
        .where(Incident.instance_id == row.id, Incident.resolved_at.is_(None))
        .values(resolved_at=clock.now(), resolved_by_id=user.id)
        .execution_options(synchronize_session=False)
    )
    row.status = "running"
    loaded.record("retried", user=user, data=data or {})
    runtime.save(session, loaded, runtime.run_engine(loaded))
    return row


def instance_incidents(session: Session, instance_id: int) -> list[Incident]:
    return list(
        session.scalars(
            select(Incident).where(Incident.instance_id == instance_id).order_by(Incident.id)
        )
    )
