"""An event-based gateway waits on a message and a timer at once; whichever comes first wins."""

from __future__ import annotations

from datetime import timedelta

from core import clock
from engine.models import MessageSubscription, Timer
from engine.timers import fire_due_timers
from tests.support.bpmn import HEADER, message_catch, script_task, timer_event

KEY = "await_payment_or_chase"

PRELUDE = (
    '<bpmn:message id="payment_msg" name="payment_received"/>'
    '<bpmn:correlationProperty id="order_no" name="Order number">'
    '<bpmn:correlationPropertyRetrievalExpression messageRef="payment_msg">'
    "<bpmn:formalExpression>order_no</bpmn:formalExpression>"
    "</bpmn:correlationPropertyRetrievalExpression></bpmn:correlationProperty>"
)


def _process() -> bytes:
    flows = [
        ("start", "gw"),
        ("gw", "paid"),
        ("gw", "late"),
        ("paid", "close"),
        ("late", "chase"),
        ("close", "end_paid"),
        ("chase", "end_late"),
    ]
    body = (
        f'{PRELUDE}<bpmn:process id="{KEY}" isExecutable="true">'
        '<bpmn:startEvent id="start"/>'
        '<bpmn:eventBasedGateway id="gw"/>'
        + message_catch("paid", "payment_msg", variable="payment")
        + timer_event("late", '"P7D"')
        + script_task("close", "outcome = 'paid'")
        + script_task("chase", "outcome = 'chased'")
        + '<bpmn:endEvent id="end_paid"/><bpmn:endEvent id="end_late"/>'
        + "".join(
            f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
            for i, (a, b) in enumerate(flows)
        )
        + "</bpmn:process>"
    )
    return (HEADER.format(pid=KEY) + body + "</bpmn:definitions>").encode()


def _start(api, order_no):
    response = api.post(
        "/api/v1/process-instances", json={"process_key": KEY, "data": {"order_no": order_no}}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _instance(api, instance_id):
    return api.get(f"/api/v1/process-instances/{instance_id}").get_json()


def test_the_message_wins_and_the_timer_is_gone(designer, session):
    assert designer.upload((f"{KEY}.bpmn", _process())).status_code == 201
    instance = _start(designer, "SO-1")
    assert instance["status"] == "waiting"
    assert session.query(Timer).filter_by(instance_id=instance["id"]).count() == 1
    assert session.query(MessageSubscription).filter_by(instance_id=instance["id"]).count() == 1

    paid = designer.post(
        "/api/v1/messages",
        json={"name": "payment_received", "correlation": {"order_no": "SO-1"}, "payload": {}},
    )
    assert paid.status_code == 202, paid.get_json()
    final = _instance(designer, instance["id"])
    assert final["status"] == "completed", final["incidents"]
    assert final["data"]["outcome"] == "paid"
    assert session.query(Timer).filter_by(instance_id=instance["id"]).count() == 0


def test_the_timer_wins_and_the_message_finds_nobody(designer, session_factory, session):
    assert designer.upload((f"{KEY}.bpmn", _process())).status_code == 201
    t0 = clock.now()
    with clock.frozen_at(t0):
        instance = _start(designer, "SO-2")
    assert fire_due_timers(session_factory, t0 + timedelta(days=6)).fired == []
    assert fire_due_timers(session_factory, t0 + timedelta(days=7, minutes=1)).fired == [
        instance["id"]
    ]
    final = _instance(designer, instance["id"])
    assert final["status"] == "completed", final["incidents"]
    assert final["data"]["outcome"] == "chased"
    late = designer.post(
        "/api/v1/messages",
        json={"name": "payment_received", "correlation": {"order_no": "SO-2"}, "payload": {}},
    )
    assert late.status_code == 404
    assert session.query(MessageSubscription).filter_by(instance_id=instance["id"]).count() == 0
