"""The inbox: listing, claiming and completing user tasks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import Select, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session, contains_eager
from sqlalchemy.orm.attributes import set_committed_value

from core import clock
from core.errors import BadRequest, Conflict, Forbidden, Invalid, NotFound
from crm_domain.users import User
from engine import runtime
from engine.form_places import configured_places
from engine.models import HumanTask, InstanceEvent, ProcessDefinition, ProcessInstance
from engine.serialization import definition_forms
from forms.submission import load_submission

SCOPES = ("mine", "available", "all")
STATUSES = ("open", "completed", "cancelled")


@dataclass
class TaskPage:
    items: list[HumanTask]
    total: int


def list_tasks(
    session: Session,
    user: User,
    scope: str = "mine",
    status: str = "open",
    page: int = 1,
    per_page: int = 50,
    process_key: str | None = None,
) -> TaskPage:
    if scope not in SCOPES:
        raise BadRequest(
            "Unknown scope.", details={"scope": [f"Must be one of: {', '.join(SCOPES)}."]}
        )
    if status not in STATUSES:
        raise BadRequest(
            "Unknown status.", details={"status": [f"Must be one of: {', '.join(STATUSES)}."]}
        )
    query = select(HumanTask).where(HumanTask.status == status, _scope_filter(user, scope, status))
    if process_key:
        query = query.where(HumanTask.process_key == process_key)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    items = session.scalars(_ordered(query).limit(per_page).offset((page - 1) * per_page)).all()
    return TaskPage(list(items), total or 0)


def _scope_filter(user: User, scope: str, status: str):
    if scope == "mine":
        if status == "open":
            return HumanTask.assignee_id == user.id
        return or_(HumanTask.assignee_id == user.id, HumanTask.completed_by_id == user.id)
    available = and_(HumanTask.assignee_id.is_(None), HumanTask.lane.in_(user.roles))
    if scope == "available":
        return available
    if user.has_role("admin"):
        return True
    unlaned = and_(HumanTask.assignee_id.is_(None), HumanTask.lane.is_(None))
    return or_(HumanTask.assignee_id == user.id, available, unlaned)


def _ordered(query: Select) -> Select:
    # Overdue and soonest due first, then the highest priority, then the oldest.
    return query.order_by(
        HumanTask.due_at.is_(None),
        HumanTask.due_at,
        HumanTask.priority.desc(),
        HumanTask.created_at,
    )


# One query for the task, its instance and the instance's definition; the task holds the
# instance and the instance its definition, so neither is read again while the task is in use.
_TASK_WITH_INSTANCE = (
    select(HumanTask)
    .join(HumanTask.instance)
    .join(ProcessInstance.definition)
    .options(
        contains_eager(HumanTask.instance)
        .contains_eager(ProcessInstance.definition)
        .defer(ProcessDefinition.forms)
        .defer(ProcessDefinition.start_messages)
    )
    .where(HumanTask.id == bindparam("task_id"))
)


def get_task(session: Session, task_id: str) -> HumanTask:
    """The task, with its instance and definition loaded in the same query."""
    try:
        UUID(task_id)
    except ValueError:
        raise NotFound(f"Task {task_id} does not exist.") from None
    task = session.scalar(_TASK_WITH_INSTANCE, {"task_id": task_id})
    if task is None:
        raise NotFound(f"Task {task_id} does not exist.")
    return task


def may_work_on(user: User, task: HumanTask) -> bool:
    if user.has_role("admin") or task.assignee_id == user.id:
        return True
    return task.assignee_id is None and (task.lane is None or task.lane in user.roles)


def may_see(user: User, task: HumanTask) -> bool:
    return (
        may_work_on(user, task)
        or task.completed_by_id == user.id
        or (task.lane is not None and task.lane in user.roles)
    )


def claim_task(session: Session, user: User, task_id: str) -> HumanTask:
    task = get_task(session, task_id)
    _require_open(task)
    if task.assignee_id == user.id:
        return task
    if task.assignee_id is not None:
        raise Conflict(
            "Someone else has claimed this task.", details={"assignee_id": task.assignee_id}
        )
    if not may_work_on(user, task):
        raise Forbidden("This task is for another role.")
    # A conditional update: of two people clicking "claim" at once, exactly one gets it.
    result = session.execute(
        update(HumanTask)
        .where(HumanTask.id == task.id, HumanTask.status == "open", HumanTask.assignee_id.is_(None))
        .values(assignee_id=user.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict("Someone else claimed this task just now.")
    session.add(
        InstanceEvent(
            instance_id=task.instance_id,
            kind="task_claimed",
            task_id=task.id,
            task_name=task.name,
            user_id=user.id,
            detail={},
        )
    )
    session.flush()
    session.refresh(task)
    return task


def unclaim_task(session: Session, user: User, task_id: str) -> HumanTask:
    task = get_task(session, task_id)
    _require_open(task)
    if task.assignee_id is None:
        return task
    if task.assignee_id != user.id and not user.has_role("admin"):
        raise Forbidden("Only the person who holds this task (or an admin) can hand it back.")
    if task.lane is None:
        raise Conflict("This task was assigned by the process; it cannot be handed back.")
    result = session.execute(
        update(HumanTask)
        .where(
            HumanTask.id == task.id,
            HumanTask.status == "open",
            HumanTask.assignee_id == task.assignee_id,
        )
        .values(assignee_id=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict("The task changed just now; reload it.")
    session.add(
        InstanceEvent(
            instance_id=task.instance_id,
            kind="task_unclaimed",
            task_id=task.id,
            task_name=task.name,
            user_id=user.id,
            detail={},
        )
    )
    session.flush()
    session.refresh(task)
    return task


def _require_open(task: HumanTask) -> None:
    if task.status == "completed":
        raise Conflict("This task has already been completed.", details={"status": task.status})
    if task.status != "open":
        raise Conflict(
            f"This task is no longer open ({task.status}).", details={"status": task.status}
        )


def task_form(session: Session, task: HumanTask) -> dict | None:
    if not task.form_key:
        return None
    return definition_forms(task.instance.definition).get(task.form_key)


def task_data(session: Session, task: HumanTask) -> dict:
    """The data the task sees; reads the workflow (for one task page, never for lists)."""
    instance = task.instance
    loaded = runtime.load(session, instance)
    spiff_task = runtime.find_task(loaded.workflow, task.id)
    if spiff_task is None:
        return dict(instance.data or {})
    return runtime.workflow_data_of_task(spiff_task)


def complete_task(session: Session, user: User, task_id: str, data: Any) -> HumanTask:
    task = get_task(session, task_id)
    _require_open(task)
    if task.assignee_id is not None and task.assignee_id != user.id and not user.has_role("admin"):
        raise Conflict(
            "Someone else has claimed this task.", details={"assignee_id": task.assignee_id}
        )
    if not may_work_on(user, task):
        raise Forbidden("This task is not yours to do.")
    instance = task.instance
    if instance.status == "suspended":
        raise Conflict("The process is suspended; its tasks cannot be completed now.")
    if instance.status != "running":
        raise Conflict(f"The process is {instance.status}; this task cannot be completed.")
    form = task_form(session, task)
    if form:
        places = configured_places(session, form)  # reads settings only for forms naming them
        cleaned = load_submission(form, data if data is not None else {}, places=places)
    else:
        cleaned = _plain(data)
    loaded = runtime.load(session, instance)
    spiff_task = runtime.find_task(loaded.workflow, task.id)
    if spiff_task is None or not spiff_task.task_spec.manual:
        raise Conflict("The process has moved on; this task is no longer waiting.")
    spiff_task.data.update(cleaned)
    spiff_task.run()
    loaded.closed_task_ids.add(task.id)
    loaded.record("task_completed", user=user, task=spiff_task, data=cleaned)
    runtime.save(session, loaded, runtime.run_engine(loaded))
    # After the compare-and-swap: every writer locks the instance row first, then its tasks.
    _close_task(session, task, user)
    return task


_human_tasks = HumanTask.__table__
# The SET clause comes from the parameters' column names.
_CLOSE_TASK = _human_tasks.update().where(_human_tasks.c.id == bindparam("task_id"))


def _close_task(session: Session, task: HumanTask, user: User) -> None:
    """Mark the inbox row completed, in the transaction that saves the instance."""
    values = {"status": "completed", "completed_at": clock.now(), "completed_by_id": user.id}
    if task.assignee_id is None:
        values["assignee_id"] = user.id
    session.connection().execute(_CLOSE_TASK, {"task_id": task.id, **values})
    for name, value in values.items():
        set_committed_value(task, name, value)


def _plain(data: Any) -> dict:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BadRequest(
            "Task data must be a JSON object.", details={"data": ["Must be an object."]}
        )
    if data:
        raise Invalid(
            "This task has no form; it takes no data.",
            details={name: ["Unknown field."] for name in data},
        )
    return {}
