"""CRM read helpers in scripts and conditions, and who an instance acts as."""

from __future__ import annotations

from xml.sax.saxutils import escape

import pytest

from crm_domain.settings import update_settings
from crm_domain.users import create_user
from engine.instances import instance_incidents, start_instance
from tests.support.bpmn import HEADER, linear_process, script_task
from tests.support.http import created
from tests.support.service_tasks import service_task


def deploy(designer, pid, *elements):
    response = designer.upload((f"{pid}.bpmn", linear_process(pid, *elements)))
    assert response.status_code == 201, response.get_json()


def start(api, key, data=None):
    response = api.post("/api/v1/process-instances", json={"process_key": key, "data": data or {}})
    assert response.status_code == 201, response.get_json()
    return api.get(f"/api/v1/process-instances/{response.get_json()['id']}").get_json()


def test_customer_contract_and_order_helpers_read_as_the_starter(designer, company):
    sales = company.sales_a1
    buyer = created(sales.post("/api/v1/customers", json={"name": "杭州丝绸", "grade": "B"}))
    contract = created(
        sales.post(
            "/api/v1/contracts",
            json={
                "customer_id": buyer["id"],
                "contract_no": "HT-1",
                "title": "年度框架",
                "value": "120000",
            },
        )
    )
    order = created(
        sales.post(
            "/api/v1/orders",
            json={
                "customer_id": buyer["id"],
                "order_no": "SO-1",
                "lines": [{"description": "真丝", "quantity": "3", "unit_price": "100.5"}],
            },
        )
    )
    deploy(
        designer,
        "reads",
        script_task(
            "look",
            "grade = customer(customer_id)['grade']\n"
            "contract_value = contract(contract_id)['value']\n"
            "order_total = order(order_id)['total']\n"
            "me = acting_user()['username']",
        ),
    )
    data = {"customer_id": buyer["id"], "contract_id": contract["id"], "order_id": order["id"]}
    body = start(sales, "reads", data)
    assert body["status"] == "completed", body["incidents"]
    assert body["data"]["grade"] == "B"
    assert body["data"]["contract_value"] == 120000.0
    assert body["data"]["order_total"] == 301.5
    assert body["data"]["me"] == sales.user.username

    # Someone of another branch cannot read them through a process either.
    refused = start(company.sales_b, "reads", data)
    assert refused["status"] == "error"
    assert (
        f"no customers record {buyer['id']} that you can see" in refused["incidents"][0]["message"]
    )


def test_helpers_work_in_gateway_conditions(designer, company):
    condition = 'customer(customer_id)["grade"] == "A"'
    body = (
        '<bpmn:process id="grade_route" isExecutable="true"><bpmn:startEvent id="start"/>'
        '<bpmn:exclusiveGateway id="gw" default="f_other"/>'
        + script_task("key_account", 'route = "key"')
        + script_task("normal", 'route = "normal"')
        + '<bpmn:endEvent id="end_a"/><bpmn:endEvent id="end_other"/>'
        '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="gw"/>'
        '<bpmn:sequenceFlow id="f_a" sourceRef="gw" targetRef="key_account">'
        f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(condition)}'
        "</bpmn:conditionExpression></bpmn:sequenceFlow>"
        '<bpmn:sequenceFlow id="f_other" sourceRef="gw" targetRef="normal"/>'
        '<bpmn:sequenceFlow id="f_a_end" sourceRef="key_account" targetRef="end_a"/>'
        '<bpmn:sequenceFlow id="f_other_end" sourceRef="normal" targetRef="end_other"/>'
        "</bpmn:process>"
    )
    xml = (HEADER.format(pid="grade_route") + body + "</bpmn:definitions>").encode()
    assert designer.upload(("grade_route.bpmn", xml)).status_code == 201
    sales = company.sales_a1
    for grade, route in (("A", "key"), ("C", "normal")):
        buyer = created(
            sales.post("/api/v1/customers", json={"name": f"{grade}级客户", "grade": grade})
        )
        body = start(sales, "grade_route", {"customer_id": buyer["id"]})
        assert body["status"] == "completed", body["incidents"]
        assert body["data"]["route"] == route


@pytest.mark.parametrize(("places", "expected"), [(None, 12.35), (0, 12.0), (3, 12.346)])
def test_round_money_uses_the_configured_decimal_places(
    designer, api_as, session, make_user, places, expected
):
    if places is not None:
        admin = make_user("admin")
        from crm_domain.access import actor_for

        update_settings(session, actor_for(session, admin), {"money.decimal_places": places})
        session.commit()
    deploy(designer, "money", script_task("round", "total = round_money(12.3456)"))
    body = start(api_as("salesperson"), "money")
    assert body["status"] == "completed", body["incidents"]
    assert body["data"]["total"] == expected


def test_an_instance_nobody_started_acts_as_the_system_user(designer, session, monkeypatch):
    deploy(
        designer,
        "unattended",
        service_task("read", "crm.get_record", collection='"customers"', id="customer_id"),
        script_task("who", "me = acting_user()['username']"),
    )
    monkeypatch.setenv("WEFT_SYSTEM_USER", "weft-robot")
    without = start_instance(session, None, "unattended", {"customer_id": 1})
    assert without.status == "error"
    [incident] = instance_incidents(session, without.id)
    assert "no active system user 'weft-robot'" in incident.message

    robot = create_user(session, "weft-robot", "correct-horse-1", ["admin"])
    created_customer = _customer_as(session, robot)
    row = start_instance(session, None, "unattended", {"customer_id": created_customer})
    assert row.status == "completed"
    assert row.data["me"] == "weft-robot"
    assert row.data["record"]["id"] == created_customer


def _customer_as(session, user) -> int:
    from crm_domain.access import actor_for
    from crm_domain.record_service import create_record

    return create_record(
        session, actor_for(session, user), "customers", {"name": "无人值守客户"}
    ).id
