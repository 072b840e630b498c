"""Messages from outside: correlate to waiting instances, or start one that catches it."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import Invalid, NotFound
from crm_domain.users import User
from engine import runtime
from engine.instances import start_instance
from engine.models import MessageSubscription, ProcessDefinition, ProcessInstance


def correlate_message(
    session: Session,
    user: User | None,
    name: str,
    correlation: dict[str, Any] | None = None,
    payload: dict[str, Any] | None = None,
) -> list[int]:
    """Deliver a message; returns the ids of the instances that received it or were started."""
    correlation = correlation or {}
    payload = payload or {}
    _check(name, correlation, payload)
    key = runtime.correlation_key(correlation)
    subscriptions = session.scalars(
        select(MessageSubscription)
        .join(ProcessInstance, ProcessInstance.id == MessageSubscription.instance_id)
        .where(
            MessageSubscription.message_name == name,
            MessageSubscription.correlation_key.in_({key, runtime.correlation_key({})}),
            ProcessInstance.status.in_(("running", "waiting")),
        )
        .order_by(MessageSubscription.instance_id)
    ).all()
    delivered: list[int] = []
    for instance_id in dict.fromkeys(s.instance_id for s in subscriptions):
        _deliver(session, user, instance_id, name, correlation, payload)
        delivered.append(instance_id)
    if delivered:
        return delivered
    for definition in _definitions_started_by(session, name):
        row = start_instance(session, user, definition.key, data={}, definition=definition)
        _deliver(session, user, row.id, name, correlation, payload, started=True)
        delivered.append(row.id)
    if not delivered:
        raise NotFound(
            f"No process instance is waiting for message '{name}' with that correlation, "
            "and no process starts with it.",
            details={"name": name, "correlation": correlation},
        )
    return delivered


def _check(name: Any, correlation: Any, payload: Any) -> None:
    errors: dict[str, list[str]] = {}
    if not isinstance(name, str) or not name.strip():
        errors["name"] = ["A message name is required."]
    if not isinstance(correlation, dict):
        errors["correlation"] = ["Must be an object of correlation values."]
    if not isinstance(payload, dict):
        errors["payload"] = ["Must be an object."]
    if errors:
        raise Invalid("The message is not valid.", details=errors)


def _definitions_started_by(session: Session, name: str) -> list[ProcessDefinition]:
    current = session.scalars(select(ProcessDefinition).where(ProcessDefinition.is_current))
    return [d for d in current if name in (d.start_messages or [])]


def _deliver(
    session: Session,
    user: User | None,
    instance_id: int,
    name: str,
    correlation: dict,
    payload: dict,
    started: bool = False,
) -> None:
    instance = session.get(ProcessInstance, instance_id)
    loaded = runtime.load(session, instance)
    # Spiff matches catch events by name, class and the workflow's own correlations; Weft has
    # already matched the correlation through the subscription index, so echo the workflow's.
    event = BpmnEvent(
        MessageEventDefinition(name),
        payload={**correlation, **payload},
        correlations=dict(loaded.workflow.correlations),
    )
    loaded.record(
        "message_received",
        user=user,
        message=name,
        correlation=correlation,
        payload=payload,
        started_instance=started,
    )
    try:
        loaded.workflow.catch(event)
    except Exception as exc:
        runtime.save(session, loaded, runtime.incident_from(exc))
        return
    runtime.save(session, loaded, runtime.run_engine(loaded))
