"""Operations in work the scheduler runs still act as the instance's starter."""

from __future__ import annotations

from datetime import timedelta

from core import clock
from engine.timers import fire_due_timers
from tests.support.bpmn import linear_process, timer_event
from tests.support.service_tasks import service_task


def test_a_service_task_after_a_timer_runs_as_the_starter(designer, company, session_factory):
    key = "follow_up_later"
    bpmn = linear_process(
        key,
        timer_event("wait", "P2D"),
        service_task(
            "log_follow_up",
            "crm.log_interaction",
            customer_id="customer_id",
            channel='"phone"',
            summary='"两天后回访 Follow-up call after two days"',
        ),
    )
    assert designer.upload((f"{key}.bpmn", bpmn)).status_code == 201
    sales = company.sales_a1
    buyer = sales.post("/api/v1/customers", json={"name": "宁波针织"}).get_json()
    t0 = clock.now()
    with clock.frozen_at(t0):
        started = sales.post(
            "/api/v1/process-instances",
            json={"process_key": key, "data": {"customer_id": buyer["id"]}},
        ).get_json()
    assert started["status"] == "waiting"

    report = fire_due_timers(session_factory, t0 + timedelta(days=2, seconds=1))
    assert report.fired == [started["id"]]
    body = sales.get(f"/api/v1/process-instances/{started['id']}").get_json()
    assert body["status"] == "completed", body["incidents"]
    interaction = body["data"]["interaction"]
    assert interaction["owner_id"] == sales.user.id
    assert interaction["created_by_id"] == sales.user.id
    # Logged at the scheduler's instant, not when the instance started.
    assert interaction["occurred_at"].startswith((t0 + timedelta(days=2)).date().isoformat())
