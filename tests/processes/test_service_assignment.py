"""Who takes a service request: the least-loaded agent of the product's service team within
the request's branch, never an agent of another branch; and a start rule on a new service
request starts the service process about that request."""

from __future__ import annotations

from collections import Counter

from core import clock
from tests.processes.service_support import (
    CONFIRM,
    DIAGNOSE,
    REPAIR,
    SATISFACTION,
    at,
)

OPENED = "2026-12-01T02:00:00Z"


def test_requests_are_balanced_across_the_team_by_open_load(desk):
    with clock.frozen_at(at(OPENED)):
        bodies = [desk.start(desk.new_request(subject=f"问题 {n}")) for n in range(4)]
    agents = [body["data"]["assignment"]["agent_username"] for body in bodies]
    # The team's two agents alternate; the desk (an agent outside the product's team) and
    # branch B's agent get none.
    assert Counter(agents) == {"agent_a1": 2, "agent_a2": 2}
    assert agents[0] != agents[1]

    # agent_a1 finishes one: the next request goes to them (fewer open requests).
    first = next(b for b in bodies if b["data"]["assignment"]["agent_username"] == "agent_a1")
    api = desk.agent_a1
    desk.do(api, first["id"], DIAGNOSE, diagnosis="d", remedy="repair")
    desk.do(api, first["id"], REPAIR, work_done="w")
    desk.do(api, first["id"], CONFIRM, customer_confirmed="resolved")
    desk.do(api, first["id"], SATISFACTION, satisfaction=5)
    with clock.frozen_at(at(OPENED)):
        nxt = desk.start(desk.new_request(subject="问题 5"))
    assert nxt["data"]["assignment"]["agent_username"] == "agent_a1"
    assert nxt["data"]["assignment"]["open_requests"] == 1


def test_without_a_product_team_any_agent_of_the_branch_may_take_it(desk):
    plain = desk.created(
        desk.manager_a,
        "products",
        {"sku": "FAB-300", "name": "棉布", "brand": "锦华", "series": "棉", "unit": "metre"},
    )
    with clock.frozen_at(at(OPENED)):
        bodies = [
            desk.start(desk.new_request(product_id=plain["id"], subject=f"棉布 {n}"))
            for n in range(3)
        ]
    agents = {body["data"]["assignment"]["agent_username"] for body in bodies}
    assert agents == {"desk_a", "agent_a1", "agent_a2"}  # all of branch A, none of B


def test_an_agent_of_branch_b_never_gets_a_branch_a_request(desk, session):
    # Branch A's team is busy and the desk is the only other agent of branch A ...
    with clock.frozen_at(at(OPENED)):
        for n in range(6):
            body = desk.start(desk.new_request(subject=f"忙 {n}"))
            assert body["data"]["assignment"]["agent_username"] != "agent_b"
        # ... and a branch-B request goes to a branch-B agent, whatever the product's team.
        request_b = desk.new_request(api=desk.desk_b, customer_id=desk.customer_b["id"])
        body_b = desk.start(request_b, api=desk.desk_b)
    assert body_b["data"]["assignment"]["agent_username"] in ("agent_b", "desk_b")
    assert desk.open_tasks(desk.agent_a1, body_b["id"]) == []

    # With no service agent left in branch A, a new branch-A request is an incident that says
    # so — it is not handed to branch B.
    for api in (desk.desk, desk.agent_a1, desk.agent_a2):
        api.user.roles = ["user"]
    session.commit()
    with clock.frozen_at(at(OPENED)):
        # Created by a group-level admin, the request still belongs to its customer's branch.
        request = desk.new_request(api=desk.admin)
        assert request["org_unit_id"] == desk.units["a"].id
        response = desk.admin.post(
            "/api/v1/process-instances",
            json={"process_key": "service", "data": {"service_request_id": request["id"]}},
        )
    body = desk.instance(response.get_json()["id"])
    assert body["status"] == "error"
    (incident,) = body["incidents"]
    assert "crm.assign_agent" in incident["message"] and "service_agent" in incident["message"]
    assert desk.record("service-requests", request["id"])["assignee_id"] is None


def test_a_start_rule_on_a_new_service_request_starts_the_service_process(desk):
    rule = desk.created(
        desk.admin,
        "admin/start-rules",
        {
            "name": "新服务请求 New service request",
            "event": "created",
            "collection": "service-requests",
            "process_key": "service",
            "data_mapping": {"service_request_id": "id"},
        },
    )
    with clock.frozen_at(at(OPENED)):
        request = desk.new_request(priority="high", channel="web")
    assert desk.tick("2026-12-01T02:00:30Z") == []  # the start rule job runs in the tick
    listed = desk.desk.get(f"/api/v1/service-requests/{request['id']}/process-instances")
    (item,) = listed.get_json()["items"]
    assert item["process_key"] == "service"
    body = desk.instance(item["id"])
    assert body["status"] == "running", body["incidents"]
    assert body["data"]["trigger"]["rule_id"] == rule["id"]
    # The instance acts as the request's creator (the desk) and runs up to the diagnosis.
    stored = desk.record("service-requests", request["id"])
    assert stored["status"] == "assigned"
    assert stored["assignee_id"] == body["data"]["assignment"]["agent_id"]
    interaction = desk.record("interactions", body["data"]["acknowledgement"]["id"])
    assert interaction["channel"] == "web"
    assert desk.task(desk.agent_of(body), body["id"], DIAGNOSE)
    # Exactly once: a second tick starts nothing more.
    desk.tick("2026-12-01T03:00:00Z")
    listed = desk.desk.get(f"/api/v1/service-requests/{request['id']}/process-instances")
    assert len(listed.get_json()["items"]) == 1


def test_starting_without_a_request_is_a_readable_incident(desk):
    response = desk.desk.post("/api/v1/process-instances", json={"process_key": "service"})
    assert response.status_code == 201
    body = desk.instance(response.get_json()["id"])
    assert body["status"] == "error"
    assert "service_request_id" in body["incidents"][0]["message"]
