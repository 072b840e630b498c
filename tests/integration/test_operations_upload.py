"""A BPMN that calls an operation wrongly is refused at upload (422), with line and element."""

from __future__ import annotations

import pytest

from tests.support.bpmn import linear_process
from tests.support.service_tasks import service_task


def refused(designer, element: str) -> list[dict]:
    response = designer.upload(("calls.bpmn", linear_process("calls", element)))
    assert response.status_code == 422, response.get_json()
    details = response.get_json()["error"]["details"]
    for detail in details:
        assert set(detail) == {"message", "line", "element_id", "file"}
        assert detail["file"] == "calls.bpmn"
        assert isinstance(detail["line"], int)
        assert detail["element_id"] == "call_it"
    return [d["message"] for d in details]


@pytest.mark.parametrize(
    ("element", "expected"),
    [
        (
            service_task("call_it", "crm.launch_rocket", target='"moon"'),
            "calls operation 'crm.launch_rocket', which does not exist",
        ),
        (
            service_task("call_it", "crm.get_record", collection='"customers"'),
            "Operation 'crm.get_record' of 'call_it' needs parameter 'id'.",
        ),
        (
            service_task("call_it", "crm.get_record", collection='"customers"', id="1", colour="2"),
            "Operation 'crm.get_record' of 'call_it' has no parameter 'colour'; it takes: "
            "collection, id.",
        ),
        (
            service_task("call_it", "crm.get_record", collection='"customers', id="1"),
            "Parameter 'collection' of 'call_it': Syntax error",
        ),
        (
            service_task("call_it", "crm.get_record", collection="__import__('os')", id="1"),
            "Parameter 'collection' of 'call_it':",
        ),
        (
            service_task("call_it", "crm.get_record", collection="", id="1"),
            "Parameter 'collection' of 'call_it' has no value",
        ),
        (
            service_task("call_it", "crm.get_record", "__class__", collection='"x"', id="1"),
            "The resultVariable of 'call_it' must be a variable name",
        ),
    ],
    ids=["unknown", "missing", "unknown-parameter", "syntax", "forbidden", "empty", "result"],
)
def test_wrong_operation_calls_are_refused(designer, element, expected):
    messages = refused(designer, element)
    assert any(expected in message for message in messages), messages


def test_every_fault_of_a_call_is_reported_at_once(designer):
    messages = refused(
        designer, service_task("call_it", "crm.update_record", id="1 +", colour="'red'")
    )
    assert len(messages) == 4, messages  # bad id, unknown colour, no collection, no data


def test_a_correct_call_deploys_and_lists_nothing_wrong(designer):
    element = service_task("call_it", "crm.get_record", collection='"customers"', id="7")
    response = designer.upload(("calls.bpmn", linear_process("calls", element)))
    assert response.status_code == 201, response.get_json()


def test_parameter_types_may_be_left_out_as_other_modelers_write_them(designer, api_as):
    element = (
        '<bpmn:serviceTask id="call_it" name="call_it"><bpmn:extensionElements>'
        '<spiffworkflow:serviceTaskOperator id="notify.send"><spiffworkflow:parameters>'
        '<spiffworkflow:parameter id="roles" value=" [&quot;executive&quot;] "/>'
        '<spiffworkflow:parameter id="title" value="&quot;你好 Hello&quot;"/>'
        "</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator>"
        "</bpmn:extensionElements></bpmn:serviceTask>"
    )
    response = designer.upload(("calls.bpmn", linear_process("calls", element)))
    assert response.status_code == 201, response.get_json()
    executive = api_as("executive")
    sales = api_as("salesperson")
    started = sales.post("/api/v1/process-instances", json={"process_key": "calls"})
    body = sales.get(f"/api/v1/process-instances/{started.get_json()['id']}").get_json()
    assert body["status"] == "completed", body["incidents"]
    assert body["data"]["notified"] == {"user_ids": [executive.user.id]}
