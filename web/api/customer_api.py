"""Views across layers about one record: a customer's timeline, the processes about a record."""

from __future__ import annotations

from flask import jsonify, request
from flask_smorest import Blueprint
from sqlalchemy import select

from crm_domain import record_service, timeline
from crm_domain.collections import subject_type_of
from engine.models import InstanceEvent, ProcessInstance
from web.api.records_api import COLLECTION, current_actor
from web.auth import login_required
from web.request_session import db

blp = Blueprint("customer_views", __name__, url_prefix="/api/v1", description="Record views")


def _instances_about(collection: str, record_id: int) -> list[ProcessInstance]:
    return list(
        db().scalars(
            select(ProcessInstance)
            .where(
                ProcessInstance.subject_type == subject_type_of(collection),
                ProcessInstance.subject_id == str(record_id),
            )
            .order_by(ProcessInstance.id.desc())
        )
    )


@blp.route(f"/{COLLECTION}/<int:record_id>/process-instances", methods=["GET"])
@login_required()
def processes_about(collection: str, record_id: int):
    """The process instances whose subject is this record."""
    record_service.get_record(db(), current_actor(), collection, record_id)
    return jsonify(
        {
            "items": [
                {
                    "id": i.id,
                    "process_key": i.process_key,
                    "version": i.definition_version,
                    "status": i.status,
                    "started_at": i.started_at.isoformat(),
                    "ended_at": i.ended_at.isoformat() if i.ended_at else None,
                }
                for i in _instances_about(collection, record_id)
            ]
        }
    )


@blp.route("/customers/<int:customer_id>/timeline", methods=["GET"])
@login_required()
def customer_timeline(customer_id: int):
    """Interactions on every channel, records about the customer, changes and process events."""
    limit = min(max(request.args.get("limit", 200, type=int), 1), 500)
    items = timeline.timeline_items(db(), current_actor(), customer_id, limit)
    instances = {i.id: i for i in _instances_about("customers", customer_id)}
    if instances:
        events = db().scalars(
            select(InstanceEvent)
            .where(InstanceEvent.instance_id.in_(instances))
            .order_by(InstanceEvent.id.desc())
            .limit(limit)
        )
        for event in events:
            instance = instances[event.instance_id]
            title = f"{instance.process_key}: {event.kind}"
            if event.task_name:
                title += f" · {event.task_name}"
            items.append(
                {
                    "kind": "process",
                    "at": event.at,
                    "title": title,
                    "id": event.instance_id,
                    "event": event.kind,
                }
            )
    return jsonify({"items": timeline.merged(items, limit)})
