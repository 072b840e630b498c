"""A designer changes the shipped sales flow: new instances take the new step, a running
version-1 instance finishes the old way."""

from __future__ import annotations

from lxml import etree

from tests.processes.sales_support import (
    PREPARE_QUOTE,
)

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF}
CREDIT_CHECK = "信用审查 Credit check"


def with_credit_check(xml: bytes) -> bytes:
    """The designer's edit: a sales-manager credit check between qualifying and the opportunity."""
    root = etree.fromstring(xml)
    process = root.find("bpmn:process", NS)
    flow = process.find("bpmn:sequenceFlow[@id='f_qualified']", NS)
    flow.set("targetRef", "credit_check")
    task = etree.SubElement(process, f"{{{BPMN}}}userTask", id="credit_check", name=CREDIT_CHECK)
    etree.SubElement(task, f"{{{BPMN}}}incoming").text = "f_qualified"
    etree.SubElement(task, f"{{{BPMN}}}outgoing").text = "f_credit_checked"
    etree.SubElement(
        process,
        f"{{{BPMN}}}sequenceFlow",
        id="f_credit_checked",
        sourceRef="credit_check",
        targetRef="create_opportunity",
    )
    opportunity = process.find("bpmn:serviceTask[@id='create_opportunity']", NS)
    opportunity.find("bpmn:incoming", NS).text = "f_credit_checked"
    lane = process.find(".//bpmn:lane[@name='sales_manager']", NS)
    etree.SubElement(lane, f"{{{BPMN}}}flowNodeRef").text = "credit_check"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_new_instances_follow_the_uploaded_flow_while_old_ones_finish_the_old_way(team, api_as):
    old = team.start_lead()
    assert old["version"] == 1

    designer = api_as("process_designer")
    shipped = designer.get("/api/v1/process-definitions/sales/versions/1/bpmn")
    assert shipped.status_code == 200
    upload = designer.upload(("sales.bpmn", with_credit_check(shipped.data)))
    assert upload.status_code == 201, upload.get_json()
    assert (upload.get_json()["key"], upload.get_json()["version"]) == ("sales", 2)

    new = team.start_lead()
    assert new["version"] == 2

    # The running version-1 instance goes straight from qualifying to the quote.
    team.qualify(old["id"])
    assert team.task(team.sales, old["id"], PREPARE_QUOTE)
    assert team.manager.get("/api/v1/tasks?scope=available").get_json()["total"] == 0

    # The new one stops at the sales manager's credit check first.
    team.qualify(new["id"])
    check = team.task(team.manager, new["id"], CREDIT_CHECK, scope="available")
    assert check["candidate_roles"] == ["sales_manager"]
    assert "opportunity" not in team.instance(new["id"])["data"]
    team.do(team.manager, new["id"], CREDIT_CHECK, scope="available")
    assert team.task(team.sales, new["id"], PREPARE_QUOTE)
    assert team.instance(new["id"])["data"]["opportunity"]["id"]

    # Both carry on to the end of their own version.
    for instance_id in (old["id"], new["id"]):
        done = team.close_the_sale(instance_id)
        assert done["status"] == "completed", done["incidents"]
    assert team.instance(old["id"])["version"] == 1
    events = [e["task_name"] for e in team.instance(new["id"])["events"] if e["task_name"]]
    assert CREDIT_CHECK in events
    assert CREDIT_CHECK not in [
        e["task_name"] for e in team.instance(old["id"])["events"] if e["task_name"]
    ]
