"""SLA breach: the timer on the agent's work escalates to the branch's supervisor and raises
the request's priority, while the agent's work goes on; the SLA hours come from the
service_sla decision (a DMN an admin replaces), not from the BPMN."""

from __future__ import annotations

import pytest

from core import clock
from core.config import PROJECT_ROOT
from tests.processes.service_support import (
    CONFIRM,
    DIAGNOSE,
    REPAIR,
    SATISFACTION,
    SUPERVISE,
    at,
    service_desk,
)


@pytest.fixture
def desk(session, make_user, api_as, session_factory):
    return service_desk(session, make_user, api_as, session_factory)


OPENED = "2026-12-01T02:00:00Z"
SLA_DMN = PROJECT_ROOT / "processes" / "service" / "service_sla.dmn"


def test_missed_deadline_escalates_to_the_branch_manager_and_raises_the_priority(desk):
    with clock.frozen_at(at(OPENED)):
        request = desk.new_request(priority="normal")
        body = desk.start(request)
    # Normal: 72 working hours, 9 a working day (09:00–18:00 China time) from Tuesday 10:00:
    # over the weekend, to Friday 11 December 10:00.
    assert body["data"]["sla_due_at"] == "2026-12-11T02:00:00+00:00"
    agent = desk.agent_of(body)

    assert desk.tick("2026-12-04T02:01:00Z") == []  # 72 hours on the clock are not enough
    assert desk.tick("2026-12-11T01:59:00Z") == []  # not yet
    assert desk.tick("2026-12-11T02:01:00Z") == [body["id"]]
    assert desk.tick("2026-12-11T03:00:00Z") == []  # once only

    stored = desk.record("service-requests", request["id"])
    assert stored["priority"] == "high"  # raised one step
    assert stored["sla_due_at"] == "2026-12-11T02:00:00+00:00"  # the promise stays
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
    with clock.frozen_at(at("2026-12-11T05:00:00Z")):
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
    faster = SLA_DMN.read_text(encoding="utf-8").replace(
        '<outputEntry id="rule_high_hours"><text>24</text>',
        '<outputEntry id="rule_high_hours"><text>8</text>',
    )
    uploaded = desk.admin.upload(("service_sla.dmn", faster.encode("utf-8")))
    assert uploaded.status_code in (200, 201), uploaded.get_json()
    with clock.frozen_at(at(OPENED)):
        after = desk.start(desk.new_request(priority="high", subject="色差 Shade variation"))
    assert after["version"] == before["version"] + 1
    assert after["data"]["sla_due_at"] == "2026-12-01T10:00:00+00:00"  # 8 hours now
    # The running request keeps the deadline it was promised.
    assert desk.instance(before["id"])["data"]["sla_due_at"] == "2026-12-03T08:00:00+00:00"
    assert desk.tick("2026-12-01T10:01:00Z") == [after["id"]]
