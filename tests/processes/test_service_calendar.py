"""The shipped service process counts its SLA in working hours of the working calendar
(settings calendar.*): at assignment (crm.assign_agent) and at reopening (the
`add_working_hours` helper in the BPMN), walked through the REST API with the injectable clock."""

from __future__ import annotations

from core import clock
from tests.processes.service_support import (
    CONFIRM,
    DIAGNOSE,
    REPAIR,
    SUPERVISE,
    at,
)
from tests.support.bpmn import linear_process
from tests.support.service_tasks import service_task

FRIDAY_5PM = "2026-11-27T09:00:00Z"  # 17:00 in China


def test_an_urgent_request_on_friday_evening_is_due_on_monday_not_saturday(desk):
    with clock.frozen_at(at(FRIDAY_5PM)):
        request = desk.new_request(priority="urgent")
        body = desk.start(request)
    assert body["status"] == "running", body["incidents"]
    # Urgent: 4 working hours — one on Friday, three from Monday 09:00 (China time).
    due = "2026-11-30T04:00:00+00:00"
    assert body["data"]["sla_due_at"] == due
    assert desk.record("service-requests", request["id"])["sla_due_at"] == due
    agent = desk.agent_of(body)
    assert desk.task(agent, body["id"], DIAGNOSE)["due_at"] == due

    assert desk.tick("2026-11-27T13:01:00Z") == []  # 4 clock hours later: Friday night
    assert desk.tick("2026-11-28T04:01:00Z") == []  # Saturday
    assert desk.tick("2026-11-30T03:59:00Z") == []
    assert desk.tick("2026-11-30T04:01:00Z") == [body["id"]]  # Monday, 12:00 in China
    assert desk.task(desk.manager_a, body["id"], SUPERVISE)


def test_each_priority_is_due_whole_working_days_after_friday_evening(desk):
    # Assigned Friday 27 November 17:00 in China: one working hour is left that day, so a
    # promise of N working days (9 working hours each) ends at 17:00 N working days later.
    expected = {
        "urgent": "2026-11-30T04:00:00+00:00",  # 4 h: 1 on Friday, 3 on Monday → 12:00
        "high": "2026-11-30T09:00:00+00:00",  # 9 h, one day: 1 + 8 → Monday 17:00
        "normal": "2026-12-02T09:00:00+00:00",  # 27 h, three days: 1 + 9 + 9 + 8 → Wed 17:00
        "low": "2026-12-04T09:00:00+00:00",  # 45 h, five days: 1 + 4 × 9 + 8 → Fri 4 Dec 17:00
    }
    due = {}
    for priority in expected:
        with clock.frozen_at(at(FRIDAY_5PM)):
            body = desk.start(desk.new_request(priority=priority))
        assert body["status"] == "running", body["incidents"]
        due[priority] = body["data"]["sla_due_at"]
    assert due == expected


def test_national_day_and_its_make_up_saturday_at_assignment_and_at_reopening(desk):
    # Wednesday 30 September 2026, 17:00 in China: the Golden Week (1–7 Oct) follows.
    with clock.frozen_at(at("2026-09-30T09:00:00Z")):
        request = desk.new_request(priority="urgent")
        body = desk.start(request)
    assert body["data"]["sla_due_at"] == "2026-10-08T04:00:00+00:00"  # Thursday 8th, 12:00
    assert desk.tick("2026-10-01T09:01:00Z") == []  # National Day itself: nobody is late
    agent = desk.agent_of(body)
    # Not solved for the customer on Friday the 9th at 17:00: the request is reopened with a
    # new urgent SLA, which runs into Saturday the 10th — a make-up working day (调休).
    with clock.frozen_at(at("2026-10-09T09:00:00Z")):
        desk.do(agent, body["id"], DIAGNOSE, diagnosis="线头松动", remedy="repair")
        desk.do(agent, body["id"], REPAIR, work_done="重新锁边")
        desk.do(agent, body["id"], CONFIRM, customer_confirmed="not_resolved")
    stored = desk.record("service-requests", request["id"])
    assert stored["status"] == "in_progress"
    assert stored["sla_due_at"] == "2026-10-10T04:00:00+00:00"  # Saturday 10th, 12:00
    assert desk.task(agent, body["id"], DIAGNOSE)["due_at"] == "2026-10-10T04:00:00+00:00"


def test_a_calendar_change_applies_to_the_next_request(desk):
    with clock.frozen_at(at(FRIDAY_5PM)):
        before = desk.start(desk.new_request(priority="urgent"))
    # The company works on Saturday 28 November: the next request counts it, the running one
    # keeps the deadline it was promised.
    changed = desk.admin.patch(
        "/api/v1/admin/settings", json={"calendar.extra_workdays": ["2026-11-28"]}
    )
    assert changed.status_code == 200, changed.get_json()
    with clock.frozen_at(at(FRIDAY_5PM)):
        after = desk.start(desk.new_request(priority="urgent", subject="色差 Shade variation"))
    assert after["data"]["sla_due_at"] == "2026-11-28T04:00:00+00:00"  # Saturday, 12:00
    assert desk.instance(before["id"])["data"]["sla_due_at"] == "2026-11-30T04:00:00+00:00"
    assert desk.tick("2026-11-28T04:01:00Z") == [after["id"]]


def test_a_shorter_working_day_keeps_the_hours_not_the_days(desk):
    changed = desk.admin.patch(
        "/api/v1/admin/settings", json={"calendar.work_hours": {"start": "08:30", "end": "17:00"}}
    )
    assert changed.status_code == 200, changed.get_json()
    # High: 9 working hours from Tuesday 1 December 10:00 in China — 7 to Tuesday's 17:00
    # close, 2 from Wednesday 08:30: Wednesday 10:30, a day and half an hour of 8.5 hours.
    with clock.frozen_at(at("2026-12-01T02:00:00Z")):
        body = desk.start(desk.new_request(priority="high"))
    assert body["data"]["sla_hours"] == 9
    assert body["data"]["sla_due_at"] == "2026-12-02T02:30:00+00:00"


def test_without_working_hours_the_operation_counts_round_the_clock(desk):
    """A process that does not ask for working hours (a 24/7 promise, or a version written
    before the working calendar) keeps clock hours; the shipped process asks for them."""
    request = desk.new_request(priority="urgent")
    process = linear_process(
        "support_24_7",
        service_task(
            "assign",
            "crm.assign_agent",
            "assignment",
            service_request_id=str(request["id"]),
            sla_hours="4",
        ),
    )
    assert desk.admin.upload(("support_24_7.bpmn", process)).status_code == 201
    with clock.frozen_at(at(FRIDAY_5PM)):
        started = desk.desk.post("/api/v1/process-instances", json={"process_key": "support_24_7"})
    assert started.status_code == 201, started.get_json()
    body = desk.instance(started.get_json()["id"])
    assert body["status"] == "completed", body["incidents"]
    # Friday 21:00 in China: 4 hours on the clock, not 4 working hours.
    assert desk.record("service-requests", request["id"])["sla_due_at"] == (
        "2026-11-27T13:00:00+00:00"
    )
