"""Timers (with travelled time), messages with correlation, incidents and retry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import clock
from engine.models import Timer
from engine.timers import fire_due_timers
from tests.support.bpmn import (
    HEADER,
    linear_process,
    message_catch,
    script_task,
    timer_event,
    user_task,
)


def start(api, key, data=None):
    response = api.post("/api/v1/process-instances", json={"process_key": key, "data": data or {}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def status(api, instance_id):
    return api.get(f"/api/v1/process-instances/{instance_id}").get_json()


@pytest.mark.parametrize("text", ['"P3D"', "P3D"], ids=["spiff-expression", "bare-iso"])
def test_timer_waits_and_fires_when_due(designer, session_factory, session, text):
    """Spiff's quoted expression and a Camunda-style bare ISO value both work."""
    key = "wait_three_days"
    bpmn = linear_process(key, timer_event("wait", text), script_task("after", "woke = True"))
    assert designer.upload((f"{key}.bpmn", bpmn)).status_code == 201
    t0 = clock.now()
    with clock.frozen_at(t0):
        instance = start(designer, key)
    assert instance["status"] == "waiting"
    timer = session.query(Timer).filter_by(instance_id=instance["id"]).one()
    assert abs(timer.due_at - (t0 + timedelta(days=3))) < timedelta(seconds=1)

    early = fire_due_timers(session_factory, t0 + timedelta(days=1))
    assert early.fired == []
    assert status(designer, instance["id"])["status"] == "waiting"

    late = fire_due_timers(session_factory, t0 + timedelta(days=3, seconds=1))
    assert late.fired == [instance["id"]]
    final = status(designer, instance["id"])
    assert final["status"] == "completed" and final["data"]["woke"] is True
    assert [e["kind"] for e in final["events"]].count("timer_fired") == 1
    assert session.query(Timer).filter_by(instance_id=instance["id"]).count() == 0
    # Ticking again fires nothing twice.
    assert fire_due_timers(session_factory, t0 + timedelta(days=4)).fired == []


def test_boundary_timer_escalates_an_overdue_task(designer, api_as, session_factory):
    sales = api_as("salesperson")
    bpmn = (
        HEADER.format(pid="escalate")
        + """
<bpmn:process id="escalate" isExecutable="true">
  <bpmn:laneSet id="ls">
    <bpmn:lane id="l1" name="salesperson"><bpmn:flowNodeRef>call</bpmn:flowNodeRef></bpmn:lane>
    <bpmn:lane id="l2" name="sales_manager">
      <bpmn:flowNodeRef>escalated</bpmn:flowNodeRef></bpmn:lane>
  </bpmn:laneSet>
  <bpmn:startEvent id="start"/>
  <bpmn:userTask id="call" name="Call the customer"/>
  <bpmn:boundaryEvent id="late" attachedToRef="call" cancelActivity="true">
    <bpmn:timerEventDefinition><bpmn:timeDuration>PT4H</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:boundaryEvent>
  <bpmn:userTask id="escalated" name="Customer not called in time"/>
  <bpmn:endEvent id="end"/><bpmn:endEvent id="end2"/>
  <bpmn:sequenceFlow id="a" sourceRef="start" targetRef="call"/>
  <bpmn:sequenceFlow id="b" sourceRef="call" targetRef="end"/>
  <bpmn:sequenceFlow id="c" sourceRef="late" targetRef="escalated"/>
  <bpmn:sequenceFlow id="d" sourceRef="escalated" targetRef="end2"/>
</bpmn:process></bpmn:definitions>"""
    ).encode()
    assert designer.upload(("escalate.bpmn", bpmn)).status_code == 201
    t0 = clock.now()
    with clock.frozen_at(t0):
        instance = start(sales, "escalate")
    fire_due_timers(session_factory, t0 + timedelta(hours=5))
    detail = status(designer, instance["id"])
    by_name = {t["name"]: t for t in detail["tasks"]}
    assert by_name["Call the customer"]["status"] == "cancelled"
    assert by_name["Customer not called in time"]["status"] == "open"
    assert by_name["Customer not called in time"]["candidate_roles"] == ["sales_manager"]


MESSAGE_PRELUDE = (
    '<bpmn:message id="payment_msg" name="payment_received"/>'
    '<bpmn:correlationProperty id="order_no" name="Order number">'
    '<bpmn:correlationPropertyRetrievalExpression messageRef="payment_msg">'
    "<bpmn:formalExpression>order_no</bpmn:formalExpression>"
    "</bpmn:correlationPropertyRetrievalExpression></bpmn:correlationProperty>"
)


def test_message_correlates_by_order_number(designer, api_as):
    bpmn = linear_process(
        "await_payment",
        message_catch("paid", "payment_msg", variable="payment"),
        script_task("close", "closed = payment['amount'] > 0"),
        prelude=MESSAGE_PRELUDE,
    )
    assert designer.upload(("await_payment.bpmn", bpmn)).status_code == 201, designer.upload(
        ("await_payment.bpmn", bpmn)
    ).get_json()
    a = start(designer, "await_payment", {"order_no": "SO-1001"})
    b = start(designer, "await_payment", {"order_no": "SO-1002"})
    assert a["status"] == b["status"] == "waiting"

    nobody = designer.post(
        "/api/v1/messages",
        json={
            "name": "payment_received",
            "correlation": {"order_no": "SO-9999"},
            "payload": {"amount": 1},
        },
    )
    assert nobody.status_code == 404

    delivered = designer.post(
        "/api/v1/messages",
        json={
            "name": "payment_received",
            "correlation": {"order_no": "SO-1002"},
            "payload": {"amount": 5000},
        },
    )
    assert delivered.status_code == 202, delivered.get_json()
    assert delivered.get_json()["delivered_to"] == [b["id"]]
    final_b = status(designer, b["id"])
    assert final_b["status"] == "completed", final_b["incidents"]
    assert final_b["data"]["closed"] is True
    assert final_b["data"]["payment"]["amount"] == 5000
    assert status(designer, a["id"])["status"] == "waiting"
    events = [e for e in final_b["events"] if e["kind"] == "message_received"]
    assert events[0]["detail"]["correlation"] == {"order_no": "SO-1002"}

    # Delivered once: the same message again finds nobody waiting.
    again = designer.post(
        "/api/v1/messages",
        json={
            "name": "payment_received",
            "correlation": {"order_no": "SO-1002"},
            "payload": {"amount": 1},
        },
    )
    assert again.status_code == 404
    bad = designer.post("/api/v1/messages", json={"name": "", "correlation": []})
    assert bad.status_code == 422


def test_message_start_event_starts_an_instance(designer):
    prelude = '<bpmn:message id="lead_msg" name="web_lead"/>'
    start_el = (
        '<bpmn:startEvent id="start"><bpmn:messageEventDefinition messageRef="lead_msg">'
        "<bpmn:extensionElements><spiffworkflow:messageVariable>lead"
        "</spiffworkflow:messageVariable></bpmn:extensionElements>"
        "</bpmn:messageEventDefinition></bpmn:startEvent>"
    )
    bpmn = linear_process(
        "web_lead_intake",
        user_task("qualify", "Qualify lead"),
        prelude=prelude,
        start=start_el,
        lanes={"salesperson": ["start", "qualify", "end"]},
    )
    assert designer.upload(("web_lead.bpmn", bpmn)).status_code == 201
    response = designer.post(
        "/api/v1/messages", json={"name": "web_lead", "payload": {"company": "杭州织造"}}
    )
    assert response.status_code == 202, response.get_json()
    (instance_id,) = response.get_json()["delivered_to"]
    detail = status(designer, instance_id)
    assert detail["status"] == "running"
    assert detail["tasks"][0]["name"] == "Qualify lead"
    assert detail["data"]["lead"] == {"company": "杭州织造"}


def test_script_error_becomes_incident_and_retry_after_fix(designer, api_as):
    bpmn = linear_process(
        "fragile", script_task("compute", "ratio = total / count", name="Compute ratio")
    )
    assert designer.upload(("fragile.bpmn", bpmn)).status_code == 201
    instance = start(designer, "fragile", {"total": 10, "count": 0})
    detail = status(designer, instance["id"])
    assert detail["status"] == "error"
    incident = detail["incidents"][0]
    assert incident["task_name"] == "Compute ratio"
    assert (
        "division by zero" in incident["message"].lower() or "ZeroDivision" in incident["message"]
    )
    assert incident["resolved_at"] is None

    sales = api_as("salesperson")
    assert (
        sales.post(f"/api/v1/process-instances/{instance['id']}/retry", json={}).status_code == 403
    )
    retried = designer.post(
        f"/api/v1/process-instances/{instance['id']}/retry", json={"data": {"count": 4}}
    )
    assert retried.status_code == 200, retried.get_json()
    detail = status(designer, instance["id"])
    assert detail["status"] == "completed"
    assert detail["data"]["ratio"] == 2.5
    assert detail["incidents"][0]["resolved_at"] is not None
    assert (
        designer.post(f"/api/v1/process-instances/{instance['id']}/retry", json={}).status_code
        == 409
    )


def test_cancel_suspend_resume(designer, api_as, session_factory):
    sales = api_as("salesperson")
    bpmn = linear_process(
        "pausable",
        timer_event("wait", "PT1H"),
        user_task("act", "Act"),
        lanes={"salesperson": ["start", "wait", "act", "end"]},
    )
    assert designer.upload(("pausable.bpmn", bpmn)).status_code == 201
    t0 = clock.now()
    with clock.frozen_at(t0):
        instance = start(sales, "pausable")
    iid = instance["id"]
    assert sales.post(f"/api/v1/process-instances/{iid}/suspend").status_code == 403
    assert (
        designer.post(f"/api/v1/process-instances/{iid}/suspend").get_json()["status"]
        == "suspended"
    )
    assert designer.post(f"/api/v1/process-instances/{iid}/suspend").status_code == 409
    # Timers of a suspended instance do not fire.
    assert fire_due_timers(session_factory, t0 + timedelta(hours=2)).fired == []
    with clock.frozen_at(t0 + timedelta(hours=2)):
        resumed = designer.post(f"/api/v1/process-instances/{iid}/resume")
    assert resumed.status_code == 200
    detail = status(designer, iid)
    assert detail["status"] == "running"  # the overdue timer fired on resume; the task is open
    assert [t["name"] for t in detail["tasks"] if t["status"] == "open"] == ["Act"]
    # The starter may cancel; open tasks go away from the inbox.
    assert sales.post(f"/api/v1/process-instances/{iid}/cancel").get_json()["status"] == "cancelled"
    detail = status(designer, iid)
    assert [t["status"] for t in detail["tasks"]] == ["cancelled"]
    assert sales.get("/api/v1/tasks?scope=available").get_json()["total"] == 0
    assert sales.post(f"/api/v1/process-instances/{iid}/cancel").status_code == 409
    kinds = [e["kind"] for e in detail["events"]]
    assert {"suspended", "resumed", "cancelled"} <= set(kinds)
