"""Event → process start rules over REST: a record event starts its process once, after the
record's commit, with the record as the instance's subject; failures are visible and retried."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from core import clock
from engine.models import ProcessDefinition
from engine.start_rules import run_start_rules
from tests.support.bpmn import linear_process, user_task
from tests.support.http import created

RULES = "/api/v1/admin/start-rules"


def deploy(api, key: str) -> None:
    response = api.upload((f"{key}.bpmn", linear_process(key, user_task("triage", "分派 Triage"))))
    assert response.status_code == 201, response.get_json()


def customer_of(api) -> dict:
    return created(api.post("/api/v1/customers", json={"name": "苏州锦华纺织有限公司"}))


def instances_about(api, collection: str, record_id: int) -> list[dict]:
    response = api.get(f"/api/v1/{collection}/{record_id}/process-instances")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_a_new_service_request_starts_its_process_once_about_that_request(company, session_factory):
    deploy(company.designer, "service_intake")
    rule = created(
        company.admin.post(
            RULES,
            json={
                "name": "新服务请求 New service request",
                "event": "created",
                "collection": "service-requests",
                "process_key": "service_intake",
                "data_mapping": {"request_subject": "subject", "priority": "priority"},
            },
        )
    )
    customer = customer_of(company.sales_a1)
    request = created(
        company.service_a1.post(
            "/api/v1/service-requests",
            json={"customer_id": customer["id"], "subject": "面料起球", "priority": "high"},
        )
    )
    assert instances_about(company.service_a1, "service-requests", request["id"]) == []

    first = run_start_rules(session_factory)
    again = run_start_rules(session_factory, clock.now() + timedelta(hours=1))
    assert (first.started, again.started) == (1, 0)
    (item,) = instances_about(company.service_a1, "service-requests", request["id"])
    assert item["process_key"] == "service_intake"
    detail = company.admin.get(f"/api/v1/process-instances/{item['id']}").get_json()
    assert detail["data"]["request_subject"] == "面料起球"
    assert detail["data"]["priority"] == "high"
    assert detail["data"]["trigger"]["rule_id"] == rule["id"]
    firings = company.admin.get(f"{RULES}/{rule['id']}/firings").get_json()["items"]
    assert [(f["status"], f["instance_id"]) for f in firings] == [("started", item["id"])]
    listed = company.admin.get(f"{RULES}/{rule['id']}").get_json()
    assert listed["firings"] == {"started": 1}


def test_an_opportunity_reaching_negotiation_starts_the_process_other_changes_do_not(
    company, session_factory
):
    deploy(company.designer, "negotiation_review")
    created(
        company.admin.post(
            RULES,
            json={
                "name": "进入谈判 Negotiation",
                "event": "field_reached",
                "collection": "opportunities",
                "field": "stage",
                "value": "negotiation",
                "conditions": {"amount": [50000, 80000]},
                "process_key": "negotiation_review",
            },
        )
    )
    api = company.sales_a1
    customer = customer_of(api)
    big = created(
        api.post(
            "/api/v1/opportunities",
            json={"customer_id": customer["id"], "title": "大单", "amount": "50000"},
        )
    )
    small = created(
        api.post(
            "/api/v1/opportunities",
            json={"customer_id": customer["id"], "title": "小单", "amount": "100"},
        )
    )

    def patch(record: dict, **changes) -> dict:
        response = api.patch(
            f"/api/v1/opportunities/{record['id']}", json={"version": record["version"], **changes}
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    big = patch(big, title="大单（修改）")  # another change: no start
    big = patch(big, stage="negotiation")
    patch(small, stage="negotiation")  # the condition on the amount does not hold
    report = run_start_rules(session_factory)
    assert report.started == 1
    assert len(instances_about(api, "opportunities", big["id"])) == 1
    assert instances_about(api, "opportunities", small["id"]) == []
    big = patch(big, notes="still negotiating")  # stays at negotiation: not reached again
    assert run_start_rules(session_factory).started == 0


def test_events_from_before_the_rule_existed_start_nothing(company, session_factory):
    deploy(company.designer, "service_intake")
    customer = customer_of(company.sales_a1)
    company.service_a1.post(
        "/api/v1/service-requests", json={"customer_id": customer["id"], "subject": "旧请求"}
    )
    created(
        company.admin.post(
            RULES,
            json={
                "name": "n",
                "event": "created",
                "collection": "service-requests",
                "process_key": "service_intake",
            },
        )
    )
    assert run_start_rules(session_factory).started == 0


def test_a_process_withdrawn_later_fails_visibly_and_is_retried(company, session, session_factory):
    deploy(company.designer, "service_intake")
    rule = created(
        company.admin.post(
            RULES,
            json={
                "name": "n",
                "event": "created",
                "collection": "service-requests",
                "process_key": "service_intake",
            },
        )
    )
    withdraw = update(ProcessDefinition).where(ProcessDefinition.key == "service_intake")
    session.execute(withdraw.values(is_current=False))
    session.commit()
    customer = customer_of(company.sales_a1)
    request = created(
        company.service_a1.post(
            "/api/v1/service-requests", json={"customer_id": customer["id"], "subject": "漏水"}
        )
    )
    now = clock.now()
    assert run_start_rules(session_factory, now).failed == 1
    (firing,) = company.admin.get(f"{RULES}/{rule['id']}/firings").get_json()["items"]
    assert firing["status"] == "failed" and firing["attempts"] == 1
    assert "service_intake" in firing["last_error"] and firing["next_attempt_at"]
    assert company.admin.get(f"{RULES}/{rule['id']}").get_json()["firings"] == {"failed": 1}

    session.execute(withdraw.values(is_current=True))
    session.commit()
    assert run_start_rules(session_factory, now).started == 0  # not due for a retry yet
    assert run_start_rules(session_factory, now + timedelta(minutes=2)).started == 1
    (firing,) = company.admin.get(f"{RULES}/{rule['id']}/firings").get_json()["items"]
    assert (firing["status"], firing["attempts"], firing["last_error"]) == ("started", 2, None)
    assert len(instances_about(company.service_a1, "service-requests", request["id"])) == 1


def test_bad_start_rules_are_refused_field_by_field(company):
    response = company.admin.post(
        RULES,
        json={
            "name": "",
            "event": "deleted",
            "collection": "opportunities",
            "process_key": "no_such_process",
            "conditions": {"colour": "red"},
            "data_mapping": {"1bad": "title", "ok": "nope"},
            "surprise": 1,
        },
    )
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert set(details) == {
        "name",
        "event",
        "process_key",
        "conditions.colour",
        "data_mapping.1bad",
        "data_mapping.ok",
        "surprise",
    }
    assert "no_such_process" in details["process_key"][0]
    reached = company.admin.post(
        RULES,
        json={
            "name": "n",
            "event": "field_reached",
            "collection": "contracts",
            "field": "colour",
            "process_key": "x",
        },
    )
    assert set(reached.get_json()["error"]["details"]) == {"field", "value", "process_key"}
    assert company.admin.post(RULES, json=[1]).status_code == 422


def test_only_administrators_manage_start_rules(company):
    deploy(company.designer, "service_intake")
    body = {
        "name": "n",
        "event": "created",
        "collection": "service-requests",
        "process_key": "service_intake",
    }
    for api in (company.manager_a, company.executive):
        assert api.get(RULES).status_code == 403
        assert api.post(RULES, json=body).status_code == 403
    rule = created(company.admin.post(RULES, json=body))
    assert company.manager_a.patch(f"{RULES}/{rule['id']}", json={}).status_code == 403
    assert company.admin.patch(f"{RULES}/{rule['id']}", json={"active": False}).status_code == 200
    assert company.admin.get(f"{RULES}/{rule['id']}").get_json()["active"] is False
    assert company.admin.delete(f"{RULES}/{rule['id']}").status_code == 204
    assert company.admin.get(f"{RULES}/{rule['id']}").status_code == 404
