"""The shipped service process, path by path, through the REST API with the injectable clock:
repair in warranty, replacement out of warranty with a defect, reopening when the customer is
not satisfied."""

from __future__ import annotations

from core import clock
from tests.processes.service_support import (
    CONFIRM,
    DIAGNOSE,
    REPAIR,
    REPLACE,
    SATISFACTION,
    at,
)

OPENED = "2026-12-01T02:00:00Z"  # 10:00 in China


def test_in_warranty_request_is_acknowledged_assigned_repaired_and_rated(desk):
    article = desk.created(
        desk.agent_a1,
        "articles",
        {
            "title": "涤纶面料起球处理",
            "problem": "洗涤后起球",
            "solution": "使用抗起球整理剂",
            "product_id": desk.product["id"],
        },
    )
    with clock.frozen_at(at(OPENED)):
        request = desk.new_request(warranty_until="2027-06-30", priority="high")
        body = desk.start(request)
    assert body["status"] == "running", body["incidents"]
    data = body["data"]
    assert data["warranty"]["in_warranty"] is True
    assert data["warranty"]["basis"] == "warranty_date"
    # High priority: 9 working hours (one working day) from assignment, from the service_sla
    # decision: from Tuesday 10:00 (China time) 8 hours that day and 1 on Wednesday —
    # Wednesday 2 December 10:00.
    assert data["sla_hours"] == 9
    assert data["sla_due_at"] == "2026-12-02T02:00:00+00:00"

    # Acknowledged on the customer's timeline.
    interaction = desk.record("interactions", data["acknowledgement"]["id"])
    assert interaction["customer_id"] == desk.customer["id"]
    assert interaction["subject_type"] == "service-requests"
    assert interaction["subject_id"] == str(request["id"])
    assert interaction["summary"].startswith("已受理服务请求")

    # Assigned to an agent of the product's service team, with the SLA deadline on the
    # request and on the agent's task; the agent is told.
    agent = desk.agent_of(body)
    assert agent in (desk.agent_a1, desk.agent_a2)
    stored = desk.record("service-requests", request["id"])
    assert stored["status"] == "assigned" and stored["assignee_id"] == agent.user.id
    assert stored["sla_due_at"] == "2026-12-02T02:00:00+00:00"
    diagnose = desk.task(agent, body["id"], DIAGNOSE)
    assert diagnose["assignee"] == agent.user.id
    assert diagnose["due_at"] == "2026-12-02T02:00:00+00:00"
    assert desk.notifications(agent) == ["新服务工单 New service request: 面料起球 Fabric pilling"]

    # The diagnosis form shows the knowledge-base suggestion as data.
    detail = agent.get(f"/api/v1/tasks/{diagnose['id']}").get_json()
    assert detail["data"]["articles"][0]["id"] == article["id"]
    assert "使用抗起球整理剂" in detail["data"]["suggested_articles"]
    assert "在保修期内" in detail["data"]["warranty_summary"]

    # A read-only field cannot be submitted; required fields are named.
    refused = agent.post(
        f"/api/v1/tasks/{diagnose['id']}/complete",
        json={"data": {"suggested_articles": "x", "remedy": "fix"}},
    )
    assert refused.status_code == 422
    details = refused.get_json()["error"]["details"]
    assert {"suggested_articles", "remedy", "diagnosis"} <= set(details)

    with clock.frozen_at(at("2026-12-01T05:00:00Z")):
        desk.do(
            agent,
            body["id"],
            DIAGNOSE,
            diagnosis="洗涤方式不当 Washed too hot",
            remedy="repair",
            article_id=article["id"],
        )
        assert desk.record("service-requests", request["id"])["status"] == "in_progress"
        body = desk.do(agent, body["id"], REPAIR, work_done="做抗起球整理 Anti-pilling finish")
    stored = desk.record("service-requests", request["id"])
    assert stored["status"] == "resolved"
    assert stored["resolution"] == "维修 Repaired：做抗起球整理 Anti-pilling finish"
    assert body["data"]["defect"] is None  # not the product's fault: no defect

    body = desk.do(agent, body["id"], CONFIRM, customer_confirmed="resolved")
    refused = agent.post(
        f"/api/v1/tasks/{desk.task(agent, body['id'], SATISFACTION)['id']}/complete",
        json={"data": {"satisfaction": 6}},
    )
    assert refused.status_code == 422 and "satisfaction" in refused.get_json()["error"]["details"]
    body = desk.do(agent, body["id"], SATISFACTION, satisfaction=5, feedback="很及时")
    assert body["status"] == "completed"
    stored = desk.record("service-requests", request["id"])
    assert stored["status"] == "closed" and stored["satisfaction"] == 5
    # Done before the deadline: nobody was escalated to.
    assert desk.tick("2026-12-10T00:00:00Z") == []
    assert desk.notifications(desk.manager_a) == []
    assert stored["priority"] == "high"


def test_out_of_warranty_product_is_replaced_and_its_defect_recorded(desk):
    # Bought 2025-03-10 with a 12-month warranty: out of warranty since 2026-03-10.
    desk.created(
        desk.manager_a,
        "orders",
        {
            "customer_id": desk.customer["id"],
            "order_no": "SO-2025-031",
            "ordered_on": "2025-03-10",
            "lines": [{"product_id": desk.product["id"], "quantity": "500", "unit_price": "25"}],
        },
    )
    with clock.frozen_at(at(OPENED)):
        request = desk.new_request(subject="面料褪色 Colour fading")
        body = desk.start(request)
    warranty = body["data"]["warranty"]
    assert warranty["in_warranty"] is False
    assert (warranty["basis"], warranty["purchase_date"], warranty["ends_on"]) == (
        "purchase",
        "2025-03-10",
        "2026-03-10",
    )
    # Normal priority: 27 working hours, three working days — from Tuesday 10:00 in China,
    # 8 + 9 + 9 to Thursday's close and 1 more: Friday 4 December 10:00.
    assert body["data"]["sla_hours"] == 27
    assert body["data"]["sla_due_at"] == "2026-12-04T02:00:00+00:00"
    agent = desk.agent_of(body)
    detail = agent.get(f"/api/v1/tasks/{desk.task(agent, body['id'], DIAGNOSE)['id']}").get_json()
    assert "已过保修期" in detail["data"]["warranty_summary"]

    desk.do(
        agent,
        body["id"],
        DIAGNOSE,
        diagnosis="染色牢度不足 Poor colour fastness",
        remedy="replace",
        product_at_fault=True,
        defect_severity="high",
        root_cause="染色工艺温度偏低",
    )
    assert [t["name"] for t in desk.open_tasks(agent, body["id"])] == [REPLACE]
    body = desk.do(
        agent, body["id"], REPLACE, work_done="更换整批面料", replacement_serial="FAB-200-7781"
    )
    defect = desk.record("defects", body["data"]["defect"]["id"])
    assert defect["service_request_id"] == request["id"]
    assert defect["product_id"] == desk.product["id"]
    assert (defect["severity"], defect["status"]) == ("high", "open")
    assert defect["description"] == "染色牢度不足 Poor colour fastness"
    assert defect["root_cause"] == "染色工艺温度偏低"
    listed = desk.admin.get(f"/api/v1/defects?service_request_id={request['id']}").get_json()
    assert [d["id"] for d in listed["items"]] == [defect["id"]]
    resolution = desk.record("service-requests", request["id"])["resolution"]
    assert "更换 Replaced：更换整批面料" in resolution and "FAB-200-7781" in resolution

    desk.do(agent, body["id"], CONFIRM, customer_confirmed="resolved")
    body = desk.do(agent, body["id"], SATISFACTION, satisfaction=3)
    assert body["status"] == "completed"
    assert desk.record("service-requests", request["id"])["satisfaction"] == 3


def test_customer_not_satisfied_reopens_the_request_with_a_new_deadline(desk):
    with clock.frozen_at(at(OPENED)):
        request = desk.new_request(priority="urgent", warranty_until="2027-01-31")
        body = desk.start(request)
    assert body["data"]["sla_due_at"] == "2026-12-01T06:00:00+00:00"  # urgent: 4 hours
    agent = desk.agent_of(body)
    with clock.frozen_at(at("2026-12-01T03:00:00Z")):
        desk.do(agent, body["id"], DIAGNOSE, diagnosis="线头松动", remedy="repair")
        desk.do(agent, body["id"], REPAIR, work_done="重新锁边")
        desk.do(
            agent, body["id"], CONFIRM, customer_confirmed="not_resolved", customer_comment="仍起球"
        )
    stored = desk.record("service-requests", request["id"])
    assert stored["status"] == "in_progress" and stored["resolved_at"] is None
    assert stored["sla_due_at"] == "2026-12-01T07:00:00+00:00"  # reopened at 03:00, + 4 h
    assert stored["assignee_id"] == agent.user.id  # the same agent carries on
    body = desk.instance(body["id"])
    assert body["data"]["reopen_count"] == 1
    diagnose = desk.task(agent, body["id"], DIAGNOSE)
    assert diagnose["due_at"] == "2026-12-01T07:00:00+00:00"
    detail = agent.get(f"/api/v1/tasks/{diagnose['id']}").get_json()
    assert "仍起球" in detail["data"]["request_summary"]

    with clock.frozen_at(at("2026-12-01T04:00:00Z")):
        desk.do(agent, body["id"], DIAGNOSE, diagnosis="面料批次问题", remedy="replace")
        desk.do(agent, body["id"], REPLACE, work_done="更换面料")
        desk.do(agent, body["id"], CONFIRM, customer_confirmed="resolved")
        body = desk.do(agent, body["id"], SATISFACTION, satisfaction=4)
    assert body["status"] == "completed"
    stored = desk.record("service-requests", request["id"])
    assert (stored["status"], stored["satisfaction"]) == ("closed", 4)
    assert stored["resolution"].startswith("更换 Replaced：更换面料")
    # Both rounds met their deadlines: no escalation.
    assert desk.tick("2026-12-05T00:00:00Z") == []
