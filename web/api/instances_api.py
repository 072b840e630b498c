"""Process instances: start, read, cancel, suspend, resume, retry."""

from __future__ import annotations

from flask_smorest import Blueprint
from sqlalchemy import select

from engine import instances as svc
from engine.instance_view import viewable_instance
from engine.models import HumanTask, InstanceEvent, ProcessInstance
from web.api.schemas import (
    InstanceDetailSchema,
    InstanceListQuery,
    InstanceSchema,
    RetryRequest,
    StartInstanceRequest,
)
from web.auth import current_user, login_required
from web.request_session import db

blp = Blueprint(
    "instances", __name__, url_prefix="/api/v1/process-instances", description="Running processes"
)


@blp.route("", methods=["POST"])
@login_required()
@blp.arguments(StartInstanceRequest)
@blp.response(201, InstanceSchema)
def start(body: dict):
    """Start the current version of a process."""
    return svc.start_instance(
        db(), current_user(), body["process_key"], body.get("data"), body.get("subject")
    )


@blp.route("", methods=["GET"])
@login_required("process_designer")
@blp.arguments(InstanceListQuery, location="query")
@blp.response(200, InstanceSchema(many=True))
def list_instances(query: dict):
    """Instances by status and process (operators only)."""
    stmt = select(ProcessInstance)
    if query.get("status"):
        stmt = stmt.where(ProcessInstance.status == query["status"])
    if query.get("process_key"):
        stmt = stmt.where(ProcessInstance.process_key == query["process_key"])
    stmt = stmt.order_by(ProcessInstance.id.desc())
    page, per_page = query["page"], query["per_page"]
    return db().scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()


@blp.route("/<int:instance_id>", methods=["GET"])
@login_required()
@blp.response(200, InstanceDetailSchema)
def get_instance(instance_id: int):
    """An instance with its data, tasks, history and incidents."""
    row = viewable_instance(db(), current_user(), instance_id)
    session = db()
    tasks = session.scalars(
        select(HumanTask).where(HumanTask.instance_id == row.id).order_by(HumanTask.created_at)
    ).all()
    events = session.scalars(
        select(InstanceEvent).where(InstanceEvent.instance_id == row.id).order_by(InstanceEvent.id)
    ).all()
    # Transient attributes for the response schema.
    row.tasks, row.events = tasks, events
    row.incidents = svc.instance_incidents(session, row.id)
    return row


@blp.route("/<int:instance_id>/cancel", methods=["POST"])
@login_required()
@blp.response(200, InstanceSchema)
def cancel(instance_id: int):
    return svc.cancel_instance(db(), current_user(), instance_id)


@blp.route("/<int:instance_id>/suspend", methods=["POST"])
@login_required()
@blp.response(200, InstanceSchema)
def suspend(instance_id: int):
    return svc.suspend_instance(db(), current_user(), instance_id)


@blp.route("/<int:instance_id>/resume", methods=["POST"])
@login_required()
@blp.response(200, InstanceSchema)
def resume(instance_id: int):
    return svc.resume_instance(db(), current_user(), instance_id)


@blp.route("/<int:instance_id>/retry", methods=["POST"])
@login_required()
@blp.arguments(RetryRequest)
@blp.response(200, InstanceSchema)
def retry(body: dict, instance_id: int):
    """Run the failed step again, optionally with corrected data merged in."""
    return svc.retry_instance(db(), current_user(), instance_id, body.get("data"))
