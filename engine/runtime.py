"""Load, run and save one workflow, keeping the inbox, timers and subscriptions in step.

Every write to an instance is a compare-and-swap on its `revision`, in the same transaction
as its task, timer, subscription and history rows: two writers never both win, and nothing is
half-saved.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, delete, update
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.attributes import set_committed_value

from core import clock
from core.db import attach_inserted, database_unavailable
from core.errors import Conflict
from crm_domain.users import User
from engine.models import (
    HumanTask,
    Incident,
    InstanceEvent,
    MessageSubscription,
    ProcessDefinition,
    ProcessInstance,
    Timer,
)
from engine.operations.context import OperationContext, bound
from engine.operations.read_helpers import CRM_HELPERS
from engine.scripting import make_script_engine
from engine.serialization import definition_specs, dump_state, load_state

_script_engine = make_script_engine(CRM_HELPERS)
MAX_STEP_ROUNDS = 100


def script_engine():
    return _script_engine


@dataclass
class Incidental:
    """An engine error caught while running steps; becomes an Incident row."""

    message: str
    task_id: str | None = None
    task_name: str | None = None
    detail: dict = field(default_factory=dict)


@dataclass
class LoadedInstance:
    row: ProcessInstance
    definition: ProcessDefinition
    workflow: BpmnWorkflow
    is_new: bool = False
    # History rows queued by record(), inserted by save() in one statement.
    events: list[dict[str, Any]] = field(default_factory=list)
    # What the instance waited on when loaded; its rows are rewritten only when this changes.
    waits_before: dict[str, tuple] = field(default_factory=dict)
    # User tasks ready when loaded: exactly the instance's open inbox rows (save keeps it so).
    ready_before: set[str] = field(default_factory=set)
    # Inbox rows this change closed itself (completed), which must not be marked cancelled.
    closed_task_ids: set[str] = field(default_factory=set)

    def record(self, kind: str, *, user: User | None = None, task=None, **detail: Any) -> None:
        """Queue a history event; it is written with the instance by save()."""
        self.events.append(
            {
                "kind": kind,
                "at": clock.now(),
                "user_id": user.id if user else None,
                "task_id": str(task.id) if task is not None else None,
                "task_name": task_label(task) if task is not None else None,
                "detail": detail,
            }
        )


def task_label(task) -> str:
    spec = task.task_spec
    return getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or spec.name


def new_workflow(definition: ProcessDefinition) -> BpmnWorkflow:
    spec, subprocess_specs = definition_specs(definition)
    return BpmnWorkflow(spec, subprocess_specs, script_engine=_script_engine)


def load(session: Session, instance: ProcessInstance) -> LoadedInstance:
    definition = session.get(ProcessDefinition, instance.definition_id)
    workflow = load_state(instance.state, definition, _script_engine)
    return LoadedInstance(
        instance,
        definition,
        workflow,
        waits_before=waits_of(workflow),
        ready_before={str(t.id) for t in ready_user_tasks(workflow)},
    )


def operation_context(loaded: LoadedInstance, session: Session | None = None):
    """Bind the instance's session and acting user for service tasks and CRM read helpers."""
    session = session or object_session(loaded.row) or object_session(loaded.definition)
    if session is None:
        return bound(None)
    row = loaded.row
    return bound(
        OperationContext(
            session=session,
            started_by_id=row.started_by_id,
            instance_id=row.id,
            process_key=row.process_key,
        )
    )


def run_engine(loaded: LoadedInstance) -> Incidental | None:
    """Run engine steps until the workflow waits; an engine error becomes an incident."""
    with operation_context(loaded):
        return _run_steps(loaded)


def _run_steps(loaded: LoadedInstance) -> Incidental | None:
    workflow = loaded.workflow
    try:
        # Timers that fell due are made ready first, and steps run again while engine work is
        # ready: Spiff refreshes timers only at the end of do_engine_steps.
        workflow.refresh_timers()
        for _ in range(MAX_STEP_ROUNDS):
            workflow.do_engine_steps()
            if workflow.get_next_task(state=TaskState.READY, manual=False) is None:
                break
    except Exception as exc:
        return incident_from(exc)
    return None


def incident_from(exc: Exception) -> Incidental:
    if database_unavailable(exc):
        # Not the process's doing, and the session cannot write an incident any more: the
        # request fails as a whole (a 503 to try again) and nothing of it is saved.
        raise exc
    if not isinstance(exc, SpiffWorkflowException):
        return Incidental(message=f"{type(exc).__name__}: {exc}")
    task = getattr(exc, "task", None)
    message = getattr(exc, "error_msg", None) or str(exc)
    notes = [n for n in getattr(exc, "notes", []) or [] if n and n not in message]
    detail: dict[str, Any] = {"type": type(exc).__name__}
    if notes:
        detail["notes"] = notes
    line = getattr(exc, "line_number", None)
    if line:
        detail["line"] = line
    return Incidental(
        message=message,
        task_id=str(task.id) if task is not None else None,
        task_name=task_label(task) if task is not None else None,
        detail=detail,
    )


def workflow_data(workflow: BpmnWorkflow) -> dict:
    """The instance's data as a user sees it: the latest task's data over the workflow's."""
    data = dict(workflow.data)
    if workflow.last_task is not None:
        data.update(workflow.last_task.data)
    return json.loads(json.dumps(data, default=str))


def find_task(workflow: BpmnWorkflow, task_id: str):
    """The Spiff task with this id anywhere in the workflow, or None."""
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except (TaskNotFoundException, ValueError):
        return None


def workflow_data_of_task(task) -> dict:
    return json.loads(json.dumps(task.data, default=str))


def save(session: Session, loaded: LoadedInstance, incident: Incidental | None = None) -> None:
    """Persist the workflow (insert, or compare-and-swap), then bring the side tables in step.

    The compare-and-swap and the new inbox and history rows are Core statements built once:
    they are plain rows, and the ORM's unit of work would cost more here than the database.
    """
    row, workflow = loaded.row, loaded.workflow
    ready = {} if row.status == "cancelled" else {str(t.id): t for t in ready_user_tasks(workflow)}
    open_ids = loaded.ready_before - loaded.closed_task_ids
    new_tasks: list[dict[str, Any]] = []
    if incident is None and row.status != "cancelled":
        try:
            with operation_context(loaded, session):
                new_tasks = _new_human_tasks(session, loaded, ready, open_ids)
        except Exception as exc:
            incident = incident_from(exc)
    status = _status(row, workflow, incident, bool(ready))
    if incident is not None:
        loaded.record("incident", message=incident.message, task_name=incident.task_name)
    elif status == "completed":
        loaded.record("completed")
    _write_instance(session, loaded, status)

    if incident is not None:
        session.add(
            Incident(
                instance_id=row.id,
                task_id=incident.task_id,
                task_name=incident.task_name,
                message=incident.message,
                detail=incident.detail,
            )
        )
    keep = set(ready) if status not in ("cancelled", "completed") else set()
    _cancel_tasks(session, open_ids - keep)
    loaded.ready_before, loaded.closed_task_ids = keep, set()
    if new_tasks:
        for task_row in new_tasks:
            task_row["instance_id"] = row.id
        session.connection().execute(_INSERT_HUMAN_TASKS, new_tasks)
    _sync_waits(session, loaded, status)
    if loaded.events:
        for event in loaded.events:
            event["instance_id"] = row.id
        session.connection().execute(_INSERT_EVENTS, loaded.events)
        loaded.events = []
    session.flush()


_instance_table = ProcessInstance.__table__
_INSERT_INSTANCE = _instance_table.insert().returning(_instance_table.c.id)
_INSERT_HUMAN_TASKS = HumanTask.__table__.insert()
_INSERT_EVENTS = InstanceEvent.__table__.insert()
# The SET clause comes from the parameters' column names; the WHERE is the compare-and-swap.
_COMPARE_AND_SWAP = _instance_table.update().where(
    _instance_table.c.id == bindparam("row_id"),
    _instance_table.c.revision == bindparam("expected_revision"),
)


def _status(
    row: ProcessInstance, workflow: BpmnWorkflow, incident: Incidental | None, has_ready: bool
) -> str:
    if incident is not None:
        return "error"
    if row.status in ("suspended", "cancelled"):
        return row.status
    if workflow.is_completed():
        return "completed"
    return "running" if has_ready else "waiting"


def _write_instance(session: Session, loaded: LoadedInstance, status: str) -> None:
    now = clock.now()
    values = {
        "state": dump_state(loaded.workflow),
        "status": status,
        "data": workflow_data(loaded.workflow),
        "updated_at": now,
        "ended_at": now if status in ("completed", "cancelled") else None,
    }
    if loaded.is_new:
        _insert_instance(session, loaded, values)
    else:
        _compare_and_swap(session, loaded, values)


def _compare_and_swap(session: Session, loaded: LoadedInstance, values: dict[str, Any]) -> None:
    row = loaded.row
    expected = row.revision
    result = session.connection().execute(
        _COMPARE_AND_SWAP,
        {"row_id": row.id, "expected_revision": expected, "revision": expected + 1, **values},
    )
    if result.rowcount != 1:
        raise Conflict(
            "This process instance was changed by someone else just now. Reload and try again.",
            details={"instance_id": row.id},
        )
    # Keep the in-memory row equal to what was written, without reloading it.
    for name, value in {"revision": expected + 1, **values}.items():
        set_committed_value(row, name, value)


def _insert_instance(session: Session, loaded: LoadedInstance, values: dict[str, Any]) -> None:
    """A new instance's row, written by a Core INSERT: nobody else can know it yet, so there is
    nothing to compare and swap, and the unit of work's flush would cost more than the insert.

    The row then joins the session as a flushed one would, leaving it again if its savepoint
    rolls back (reminders, start rules and message starts run each start in one)."""
    row = loaded.row
    for name, value in values.items():
        setattr(row, name, value)
    row.revision = 1
    # Every column as the object holds it (start_instance sets each one), so the object and
    # the row agree without reading it back.
    columns = {c.key: getattr(row, c.key) for c in _instance_table.columns if c.key != "id"}
    row.id = session.connection().execute(_INSERT_INSTANCE, columns).scalar_one()
    attach_inserted(session, row)
    loaded.is_new = False


def ready_user_tasks(workflow: BpmnWorkflow) -> list:
    return workflow.get_tasks(state=TaskState.READY, manual=True)


def _new_human_tasks(
    session: Session, loaded: LoadedInstance, ready: dict, open_ids: set[str]
) -> list[dict[str, Any]]:
    """Rows for user tasks that became ready; evaluating their properties may raise."""
    rows = []
    for task_id, task in ready.items():
        if task_id in open_ids:
            continue
        rows.append(_human_task_row(session, loaded, task))
        loaded.record("task_created", task=task)
    return rows


def _cancel_tasks(session: Session, task_ids: set[str]) -> None:
    """Open rows whose user task is no longer ready (boundary event, cancel) become cancelled."""
    if task_ids:
        session.execute(
            update(HumanTask)
            .where(HumanTask.id.in_(task_ids))
            .values(status="cancelled", completed_at=clock.now())
            .execution_options(synchronize_session=False)
        )


def _human_task_row(session: Session, loaded: LoadedInstance, task) -> dict[str, Any]:
    from engine.task_properties import task_properties

    props = task_properties(session, task, _script_engine)
    return {
        "id": str(task.id),
        "process_key": loaded.row.process_key,
        "bpmn_id": task.task_spec.bpmn_id,
        "name": task_label(task),
        "lane": task.task_spec.lane,
        "assignee_id": props.assignee_id,
        "form_key": props.form_key,
        "instructions": props.instructions,
        "priority": props.priority,
        "due_at": props.due_at,
        "status": "open",
        "created_at": clock.now(),
        "completed_at": None,
        "completed_by_id": None,
    }


def waits_of(workflow: BpmnWorkflow) -> dict[str, tuple]:
    """Waiting timer/message tasks: wait key -> (kind, name, due instant or correlation).

    The key is the task id; an event-based gateway (or a multiple event) waits on several
    events at once, so each of its events gets the key `<task id>:<n>`."""
    waits: dict[str, tuple] = {}
    for task in list(workflow.event_manager.tasks.values()):
        if not task.has_state(TaskState.WAITING):
            continue
        definition = task.task_spec.event_definition
        if isinstance(definition, MultipleEventDefinition):
            for n, each in enumerate(definition.event_definitions):
                _add_wait(waits, f"{task.id}:{n}", task, each)
        else:
            _add_wait(waits, str(task.id), task, definition)
    return waits


def _add_wait(waits: dict[str, tuple], key: str, task, definition) -> None:
    if isinstance(definition, TimerEventDefinition):
        due = timer_due_at(task, definition)
        if due is not None:
            waits[key] = ("timer", definition.name or task_label(task), due)
    elif isinstance(definition, MessageEventDefinition):
        correlation = expected_correlation(task, definition)
        waits[key] = ("message", definition.name, correlation_key(correlation))


def wait_task_id(key: str) -> str:
    return key.split(":", 1)[0]


def _sync_waits(session: Session, loaded: LoadedInstance, status: str) -> None:
    """Rewrite the instance's timer and subscription rows, only when what it waits on changed."""
    waits = {} if status in ("completed", "cancelled") else waits_of(loaded.workflow)
    if waits == loaded.waits_before:
        return
    row_id = loaded.row.id
    if loaded.waits_before:
        session.execute(delete(Timer).where(Timer.instance_id == row_id))
        session.execute(
            delete(MessageSubscription).where(MessageSubscription.instance_id == row_id)
        )
    for key, (kind, name, value) in waits.items():
        task_id = wait_task_id(key)
        if kind == "timer":
            session.add(Timer(instance_id=row_id, task_id=task_id, name=name, due_at=value))
        else:
            session.add(
                MessageSubscription(
                    instance_id=row_id,
                    task_id=task_id,
                    message_name=name,
                    correlation=json.loads(value),
                    correlation_key=value,
                )
            )
    loaded.waits_before = waits


def timer_due_at(task, definition: TimerEventDefinition) -> datetime | None:
    value = definition.details(task).value
    if value is None:
        return None
    if isinstance(definition, CycleTimerEventDefinition) and isinstance(value, dict):
        value = value.get("next")
    try:
        return clock.parse_instant(str(value))
    except ValueError:
        return None


def expected_correlation(task, definition: MessageEventDefinition) -> dict:
    """The correlation values this waiting task expects, from its own data."""
    values: dict[str, Any] = {}
    for prop in definition.correlation_properties:
        try:
            values[prop.name] = _script_engine.environment.evaluate(
                prop.retrieval_expression, task.data
            )
        except Exception:
            continue
    return json.loads(json.dumps(values, default=str))


def correlation_key(correlation: dict) -> str:
    return json.dumps(correlation, sort_keys=True, separators=(",", ":"), default=str)


def due_in(duration_iso: str) -> timedelta:
    parsed = TimerEventDefinition.parse_iso_duration(duration_iso)
    return TimerEventDefinition.get_timedelta_from_start(parsed, clock.now())
