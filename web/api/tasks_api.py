"""The task inbox over REST."""

from __future__ import annotations

from flask_smorest import Blueprint

from core.errors import Forbidden
from engine import tasks as svc
from engine.form_places import configured_places
from web.api.schemas import (
    CompleteTaskRequest,
    TaskDetailSchema,
    TaskListQuery,
    TaskPageSchema,
    TaskSchema,
)
from web.auth import current_user, login_required
from web.request_session import db

blp = Blueprint("tasks", __name__, url_prefix="/api/v1/tasks", description="User tasks")


@blp.route("", methods=["GET"])
@login_required()
@blp.arguments(TaskListQuery, location="query")
@blp.response(200, TaskPageSchema)
def list_tasks(query: dict):
    """My tasks, tasks open to my roles, or all I may see; overdue first."""
    page = svc.list_tasks(
        db(),
        current_user(),
        query["scope"],
        query["status"],
        query["page"],
        query["per_page"],
        query.get("process_key"),
    )
    return {"items": page.items, "total": page.total}


@blp.route("/<string:task_id>", methods=["GET"])
@login_required()
@blp.response(200, TaskDetailSchema)
def get_task(task_id: str):
    """A task with its form definition and the data it sees."""
    session, user = db(), current_user()
    task = svc.get_task(session, task_id)
    if not svc.may_see(user, task):
        raise Forbidden("This task is not yours to see.")
    # Transient attributes for the response schema; the row itself is not changed.
    task.form = svc.task_form(session, task)
    task.form_places = configured_places(session, task.form)
    task.data = svc.task_data(session, task) if task.status == "open" else {}
    return task


@blp.route("/<string:task_id>/claim", methods=["POST"])
@login_required()
@blp.response(200, TaskSchema)
def claim(task_id: str):
    return svc.claim_task(db(), current_user(), task_id)


@blp.route("/<string:task_id>/unclaim", methods=["POST"])
@login_required()
@blp.response(200, TaskSchema)
def unclaim(task_id: str):
    return svc.unclaim_task(db(), current_user(), task_id)


@blp.route("/<string:task_id>/complete", methods=["POST"])
@login_required()
@blp.arguments(CompleteTaskRequest)
@blp.response(200, TaskSchema)
def complete(body: dict, task_id: str):
    """Submit the task's form; the process moves on."""
    return svc.complete_task(db(), current_user(), task_id, body.get("data"))
