"""The service operations as a designer meets them: listed with their parameters, checked at
upload, and failing with a readable incident instead of half-written data."""

from __future__ import annotations

from core import clock
from tests.processes.service_support import at
from tests.support.bpmn import linear_process
from tests.support.service_tasks import service_task

SERVICE_OPERATIONS = {
    "crm.check_warranty": {"service_request_id"},
    "crm.assign_agent": {"service_request_id", "sla_hours"},
    "crm.search_articles": {"service_request_id"},
    "crm.create_defect": {"service_request_id", "description"},
    "crm.escalate_request": {"service_request_id"},
}


def run(desk, key: str, *elements: str, api=None) -> dict:
    uploaded = desk.admin.upload((f"{key}.bpmn", linear_process(key, *elements)))
    assert uploaded.status_code == 201, uploaded.get_json()
    response = (api or desk.desk).post("/api/v1/process-instances", json={"process_key": key})
    assert response.status_code == 201, response.get_json()
    return desk.instance(response.get_json()["id"])


def test_designers_see_the_service_operations_with_their_required_parameters(designer):
    body = designer.get("/api/v1/operations").get_json()
    by_name = {op["name"]: op for op in body["items"]}
    for name, required in SERVICE_OPERATIONS.items():
        operation = by_name[name]
        assert operation["description"] and operation["result"], name
        listed = {p["name"] for p in operation["parameters"] if p["required"]}
        assert listed == required, name
    assert by_name["crm.check_warranty"]["result_variable"] == "warranty"
    assert by_name["crm.assign_agent"]["result_variable"] == "assignment"


def test_an_assignment_without_sla_hours_is_refused_at_upload(designer):
    response = designer.upload(
        (
            "no_sla.bpmn",
            linear_process(
                "no_sla", service_task("assign", "crm.assign_agent", None, service_request_id="1")
            ),
        )
    )
    assert response.status_code == 422
    (detail,) = response.get_json()["error"]["details"]
    assert detail["element_id"] == "assign" and "sla_hours" in detail["message"]


def test_a_defect_for_a_request_without_product_is_an_incident_and_nothing_is_kept(desk):
    request = desk.new_request(product_id=None)
    body = run(
        desk,
        "defect_check",
        service_task(
            "defect",
            "crm.create_defect",
            None,
            service_request_id=str(request["id"]),
            description='"断纱"',
        ),
    )
    assert body["status"] == "error"
    assert "product_id" in body["incidents"][0]["message"]
    listed = desk.admin.get(f"/api/v1/defects?service_request_id={request['id']}").get_json()
    assert listed["items"] == []


def test_sla_hours_out_of_range_are_an_incident_naming_the_parameter(desk):
    request = desk.new_request()
    body = run(
        desk,
        "sla_check",
        service_task(
            "assign",
            "crm.assign_agent",
            None,
            service_request_id=str(request["id"]),
            sla_hours="0",
        ),
    )
    assert body["status"] == "error"
    assert "sla_hours" in body["incidents"][0]["message"]
    assert desk.record("service-requests", request["id"])["assignee_id"] is None


def test_a_request_outside_the_starters_scope_is_not_checked(desk):
    request_b = desk.new_request(api=desk.desk_b, customer_id=desk.customer_b["id"])
    body = run(
        desk,
        "scope_check",
        service_task("check", "crm.check_warranty", None, service_request_id=str(request_b["id"])),
    )
    assert body["status"] == "error"  # the branch-A desk cannot read a branch-B request
    assert "crm.check_warranty" in body["incidents"][0]["message"]


def test_the_warranty_check_takes_a_purchase_date_and_the_date_to_check(desk):
    request = desk.new_request()
    with clock.frozen_at(at("2026-12-01T02:00:00Z")):
        body = run(
            desk,
            "warranty_check",
            service_task(
                "check",
                "crm.check_warranty",
                "w",
                service_request_id=str(request["id"]),
                purchase_date='"2025-12-20"',
                on_date='"2026-12-20"',
            ),
        )
    assert body["status"] == "completed", body["incidents"]
    assert body["data"]["w"]["in_warranty"] is True  # the last day counts
    assert body["data"]["w"]["ends_on"] == "2026-12-20"
