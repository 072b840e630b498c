"""SLA breach: the timer on the agent's work escalates to the branch's supervisor and raises
the request's priority, while the agent's work goes on; the SLA hours come from the
service_sla decision (a DMN an admin replaces), not from the BPMN."""

from __future__ import annotations

from core import clock
from core.config import PROJECT_ROOT
from tests.processes.service_support import (
    CONFIRM,
    DIAGNOSE,
    REPAIR,
    SATISFACTION,
    SUPERVISE,
    at,
)
from tests.support.bpmn import linear_process

OPENED = "2026-12-01T02:00:00Z"
SLA_DMN = PROJECT_ROOT / "processes" / "service" / "service_sla.dmn"


def test_missed_deadline_escalates_to_the_branch_manager_and_raises_the_priority(desk):
    with clock.frozen_at(at(OPENED)):
        request = desk.new_request(priority="normal")
        body = desk.start(request)
    # Normal: 27 working hours (three working days of 09:00–18:00 China time) from Tuesday
    # 1 December 10:00: 8 on Tuesday, 9 on Wednesday, 9 on Thursday, 1 on Friday — Friday
    # 4 December 10:00 (02:00 UTC).
    assert body["data"]["sla_due_at"] == "2026-12-04T02:00:00+00:00"
    agent = desk.agent_of(body)

    # 27 hours on the clock (Wednesday 13:00 in China) are not enough.
    assert desk.tick("2026-12-02T05:01:00Z") == []
    assert desk.tick("2026-12-04T01:59:00Z") == []  # not yet
    assert desk.tick("2026-12-04T02:01:00Z") == [body["id"]]
    assert desk.tick("2026-12-04T03:00:00Z") == []  # once only

    stored = desk.record("service-requests", request["id"])
    assert stored["priority"] == "high"  # raised one step
    assert stored["sla_due_at"] == "2026-12-04T02:00:00+00:00"  # the promise stays
    # The branch-A manager gets the task and a notification; branch B's manager nothing.
    supervise = desk.task(desk.manager_a, body["id"], SUPERVISE)
    assert supervise["assignee"] == desk.manager_a.user.id
    assert desk.notifications(desk.manager_a) == [
        "服务工单超时 Service request overdue: 面料起球 Fabric pilling"
    ]
    assert desk.open_tasks(desk.manager_b, body["id"]) == []
    assert desk.notifications(desk.manager_b) == []
    body = desk.instance(body["id"])
    assert body["data"]["escalation"]["previous_priority"] == "normal"
    assert body["data"]["escalation"]["supervisor_username"] == "manager_a"

    # The agent's work was not interrupted; both go on independently.
    with clock.frozen_at(at("2026-12-04T05:00:00Z")):
        desk.do(agent, body["id"], DIAGNOSE, diagnosis="洗涤不当", remedy="repair")
        desk.do(
            desk.manager_a, body["id"], SUPERVISE, action_taken="已督促专员今日上门 Visit today"
        )
        desk.do(agent, body["id"], REPAIR, work_done="上门处理")
        desk.do(agent, body["id"], CONFIRM, customer_confirmed="resolved")
        body = desk.do(agent, body["id"], SATISFACTION, satisfaction=2)
    assert body["status"] == "completed"
    assert desk.record("service-requests", request["id"])["satisfaction"] == 2


def test_an_urgent_request_stays_urgent_when_escalated(desk):
    with clock.frozen_at(at(OPENED)):
        request = desk.new_request(priority="urgent")
        body = desk.start(request)
    assert desk.tick("2026-12-01T06:01:00Z") == [body["id"]]
    assert desk.record("service-requests", request["id"])["priority"] == "urgent"
    assert desk.task(desk.manager_a, body["id"], SUPERVISE)


def test_no_supervisor_in_the_branch_is_a_readable_incident(desk, session):
    desk.manager_a.user.roles = ["user"]  # branch A loses its only sales manager
    session.commit()
    with clock.frozen_at(at(OPENED)):
        request = desk.new_request(priority="urgent")
        body = desk.start(request)
    desk.tick("2026-12-01T06:01:00Z")
    body = desk.instance(body["id"])
    assert body["status"] == "error"
    (incident,) = body["incidents"]
    assert "crm.escalate_request" in incident["message"]
    assert "sales_manager" in incident["message"]
    # Never a manager of another branch.
    assert desk.notifications(desk.manager_b) == []


def test_new_sla_hours_from_an_uploaded_decision_apply_to_new_requests_only(desk):
    with clock.frozen_at(at(OPENED)):
        before = desk.start(desk.new_request(priority="high"))
    shipped = SLA_DMN.read_text(encoding="utf-8")
    assert '<outputEntry id="rule_high_hours"><text>9</text>' in shipped
    faster = shipped.replace(
        '<outputEntry id="rule_high_hours"><text>9</text>',
        '<outputEntry id="rule_high_hours"><text>4</text>',
    )
    uploaded = desk.admin.upload(("service_sla.dmn", faster.encode("utf-8")))
    assert uploaded.status_code in (200, 201), uploaded.get_json()
    with clock.frozen_at(at(OPENED)):
        after = desk.start(desk.new_request(priority="high", subject="色差 Shade variation"))
    assert after["version"] == before["version"] + 1
    # 4 working hours now: Tuesday 10:00 to 14:00 in China.
    assert after["data"]["sla_due_at"] == "2026-12-01T06:00:00+00:00"
    # The running request keeps the deadline it was promised: 9 working hours, one working
    # day — 8 on Tuesday from 10:00, 1 on Wednesday: Wednesday 2 December 10:00 in China.
    assert desk.instance(before["id"])["data"]["sla_due_at"] == "2026-12-02T02:00:00+00:00"
    assert desk.tick("2026-12-01T06:01:00Z") == [after["id"]]


def test_a_priority_the_table_does_not_name_gets_the_normal_hours(desk):
    # A priority an admin adds later ("vip") falls to the catch-all row: as normal, 27 working
    # hours (three working days), not the 72 clock hours of old.
    lookup = linear_process(
        "sla_lookup",
        '<bpmn:businessRuleTask id="decide" name="decide"><bpmn:extensionElements>'
        "<spiffworkflow:calledDecisionId>service_sla</spiffworkflow:calledDecisionId>"
        "</bpmn:extensionElements></bpmn:businessRuleTask>",
    )
    assert desk.admin.upload(("sla_lookup.bpmn", lookup)).status_code == 201

    def hours_for(priority: str) -> int:
        started = desk.admin.post(
            "/api/v1/process-instances",
            json={"process_key": "sla_lookup", "data": {"priority": priority}},
        )
        assert started.status_code == 201, started.get_json()
        body = desk.instance(started.get_json()["id"])
        assert body["status"] == "completed", body["incidents"]
        return body["data"]["sla_hours"]

    assert hours_for("vip") == 27 == hours_for("normal")
