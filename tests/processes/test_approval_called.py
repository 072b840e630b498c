"""Other processes use the generic approval as a call activity, and its rules stay in the DMN."""

from __future__ import annotations

from xml.sax.saxutils import escape

from tests.processes.approval_support import (
    APPROVAL_DIR,
    complete,
    deploy_approval,
    instance,
    open_task,
    request_approval,
)
from tests.support.bpmn import HEADER, script_task

SHIPPED_DMN = (APPROVAL_DIR / "approval_levels.dmn").read_text(encoding="utf-8")


def credit_request_process() -> bytes:
    """Request a credit limit: call `approval`, then record what it decided."""
    elements = (
        '<bpmn:startEvent id="start"/>'
        + script_task("ask", 'request_type = "credit_limit"\namount = requested_limit')
        + '<bpmn:callActivity id="approve" name="审批 Approval" calledElement="approval"/>'
        + script_task(
            "record",
            escape("credit_limit = requested_limit if approved else 0"),
        )
        + '<bpmn:endEvent id="end"/>'
    )
    flows = "".join(
        f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
        for i, (a, b) in enumerate(
            [("start", "ask"), ("ask", "approve"), ("approve", "record"), ("record", "end")]
        )
    )
    body = (
        '<bpmn:process id="credit_request" name="授信申请 Credit request" isExecutable="true">'
        f"{elements}{flows}</bpmn:process>"
    )
    return (HEADER.format(pid="credit_request") + body + "</bpmn:definitions>").encode()


def test_a_calling_process_gets_the_approval_result(designer, api_as):
    deploy_approval(designer)
    response = designer.upload(("credit_request.bpmn", credit_request_process()))
    assert response.status_code == 201, response.get_json()
    sales, manager = api_as("salesperson"), api_as("sales_manager")
    started = sales.post(
        "/api/v1/process-instances",
        json={
            "process_key": "credit_request",
            "data": {"requested_limit": 150000, "customer_grade": "B"},
        },
    )
    assert started.status_code == 201, started.get_json()
    instance_id = started.get_json()["id"]
    task = open_task(manager, instance_id)
    assert task["name"] == "销售经理审批 Sales manager approval"
    complete(manager, task, decision="approve", comment="额度合理")
    done = instance(sales, instance_id)
    assert done["status"] == "completed", done["incidents"]
    assert done["data"]["approved"] is True
    assert done["data"]["credit_limit"] == 150000


def test_a_role_without_a_lane_in_the_decision_is_a_readable_incident(designer, api_as):
    deploy_approval(designer)
    finance_dmn = SHIPPED_DMN.replace(
        '<outputEntry id="rule_discount_auto_levels"><text>[]</text></outputEntry>',
        '<outputEntry id="rule_discount_auto_levels"><text>["finance"]</text></outputEntry>',
    )
    assert finance_dmn != SHIPPED_DMN
    assert designer.upload(("approval_levels.dmn", finance_dmn.encode())).status_code == 201
    body = request_approval(api_as("salesperson"), request_type="discount", percentage=2)
    assert body["status"] == "error"
    [incident] = body["incidents"]
    assert "Approval level 'finance'" in incident["message"]
    assert "has no lane in this process" in incident["message"]
