"""Every path of the generic approval process, through the REST API."""

from __future__ import annotations

import pytest

from tests.processes.approval_support import (
    complete,
    decisions_in_history,
    deploy_approval,
    instance,
    open_task,
    request_approval,
)

SALES_MANAGER_TASK = "销售经理审批 Sales manager approval"
EXECUTIVE_TASK = "总经理审批 Executive approval"
REVISE_TASK = "修改或撤回申请 Revise or withdraw"


@pytest.fixture
def people(designer, api_as):
    deploy_approval(designer)

    class People:
        sales = api_as("salesperson")
        manager = api_as("sales_manager")
        executive = api_as("executive")

    return People


def test_small_discount_is_approved_automatically(people):
    body = request_approval(people.sales, request_type="discount", percentage=4)
    assert body["status"] == "completed", body["incidents"]
    assert body["data"]["approved"] is True
    assert body["data"]["auto_approved"] is True
    assert body["data"]["approval_outcome"] == "approved"
    assert body["data"]["approval_levels"] == []


def test_medium_discount_needs_the_sales_manager_only(people):
    body = request_approval(people.sales, request_type="discount", percentage=12)
    assert body["status"] == "running"
    task = open_task(people.manager, body["id"])
    assert task["name"] == SALES_MANAGER_TASK
    assert task["candidate_roles"] == ["sales_manager"]
    assert task["form_key"] == "approval_decision"
    # An executive is not asked, and the requester cannot approve their own request.
    assert people.executive.get("/api/v1/tasks?scope=available").get_json()["total"] == 0
    refused = people.sales.post(
        f"/api/v1/tasks/{task['id']}/complete", json={"data": {"decision": "approve"}}
    )
    assert refused.status_code == 403

    complete(people.manager, task, decision="approve", comment="同意 OK")
    done = instance(people.sales, body["id"])
    assert done["status"] == "completed"
    assert done["data"]["approved"] is True
    assert done["data"]["approval_history"] == [
        {
            "round": 1,
            "level": 1,
            "role": "sales_manager",
            "decision": "approve",
            "comment": "同意 OK",
        }
    ]
    assert decisions_in_history(done) == [(SALES_MANAGER_TASK, people.manager.user.id, "approve")]


def test_large_discount_needs_manager_then_executive(people):
    body = request_approval(people.sales, request_type="discount", percentage=20)
    assert body["data"]["approval_levels"] == ["sales_manager", "executive"]
    complete(people.manager, open_task(people.manager, body["id"]), decision="approve")
    # Only after the manager: the executive's step.
    executive_task = open_task(people.executive, body["id"])
    assert executive_task["name"] == EXECUTIVE_TASK
    assert instance(people.sales, body["id"])["status"] == "running"
    complete(people.executive, executive_task, decision="approve", comment="可以")

    done = instance(people.sales, body["id"])
    assert done["status"] == "completed" and done["data"]["approved"] is True
    assert [(h["role"], h["decision"]) for h in done["data"]["approval_history"]] == [
        ("sales_manager", "approve"),
        ("executive", "approve"),
    ]
    history = decisions_in_history(done)
    assert history == [
        (SALES_MANAGER_TASK, people.manager.user.id, "approve"),
        (EXECUTIVE_TASK, people.executive.user.id, "approve"),
    ]
    completed = [e for e in done["events"] if e["kind"] == "task_completed"]
    assert all(e["at"] for e in completed)  # when each decision was taken
    assert completed[1]["detail"]["data"]["comment"] == "可以"


def test_rejection_returns_to_the_requester_who_revises_and_gets_approval(people):
    body = request_approval(
        people.sales, request_type="discount", percentage=20, request_title="Q-2026-001"
    )
    complete(
        people.manager,
        open_task(people.manager, body["id"]),
        decision="reject",
        comment="折扣太大 Too much",
    )
    # The requester's task is in the requester's own inbox, with the reason in its data.
    revise = open_task(people.sales, body["id"], scope="mine")
    assert revise["name"] == REVISE_TASK
    assert revise["assignee"] == people.sales.user.id
    detail = people.sales.get(f"/api/v1/tasks/{revise['id']}").get_json()
    assert detail["data"]["rejection_reason"] == "折扣太大 Too much"
    assert detail["data"]["rejected_by_role"] == "sales_manager"
    # Nobody else may do the requester's step.
    other = people.manager.post(
        f"/api/v1/tasks/{revise['id']}/complete", json={"data": {"revise_action": "revise"}}
    )
    assert other.status_code in (403, 409)

    complete(
        people.sales, revise, revise_action="revise", new_percentage=10, revision_note="改为10%"
    )
    # The levels are decided again for the revised request: the manager alone now.
    again = instance(people.sales, body["id"])
    assert again["data"]["percentage"] == 10
    assert again["data"]["approval_levels"] == ["sales_manager"]
    complete(people.manager, open_task(people.manager, body["id"]), decision="approve")

    done = instance(people.sales, body["id"])
    assert done["status"] == "completed"
    assert done["data"]["approval_outcome"] == "approved"
    assert [(h["round"], h["role"], h["decision"]) for h in done["data"]["approval_history"]] == [
        (1, "sales_manager", "reject"),
        (1, "requester", "revise"),
        (2, "sales_manager", "approve"),
    ]
    assert decisions_in_history(done) == [
        (SALES_MANAGER_TASK, people.manager.user.id, "reject"),
        (REVISE_TASK, people.sales.user.id, "revise"),
        (SALES_MANAGER_TASK, people.manager.user.id, "approve"),
    ]


def test_rejection_then_withdrawal_ends_without_approval(people):
    body = request_approval(people.sales, request_type="contract", amount=80_000)
    complete(people.manager, open_task(people.manager, body["id"]), decision="reject")
    revise = open_task(people.sales, body["id"], scope="mine")
    detail = people.sales.get(f"/api/v1/tasks/{revise['id']}").get_json()
    assert detail["data"]["rejection_reason"] == "未说明原因 No reason given"
    complete(people.sales, revise, revise_action="withdraw", revision_note="客户放弃")

    done = instance(people.sales, body["id"])
    assert done["status"] == "completed"
    assert done["data"]["approved"] is False
    assert done["data"]["approval_outcome"] == "withdrawn"
    assert done["data"]["approval_history"][-1] == {
        "round": 1,
        "role": "requester",
        "decision": "withdraw",
        "comment": "客户放弃",
    }


def test_executive_rejection_also_returns_to_the_requester(people):
    body = request_approval(people.sales, request_type="special_price", percentage=12)
    complete(people.manager, open_task(people.manager, body["id"]), decision="approve")
    complete(
        people.executive, open_task(people.executive, body["id"]), decision="reject", comment="不行"
    )
    revise = open_task(people.sales, body["id"], scope="mine")
    detail = people.sales.get(f"/api/v1/tasks/{revise['id']}").get_json()
    assert detail["data"]["rejected_by_role"] == "executive"
    assert detail["data"]["rejection_reason"] == "不行"


@pytest.mark.parametrize(
    ("grade", "amount", "levels"),
    [
        ("A", 300_000, ["sales_manager"]),
        ("A", 800_000, ["sales_manager", "executive"]),
        ("B", 150_000, ["sales_manager"]),
        ("C", 50_000, ["sales_manager", "executive"]),
    ],
)
def test_credit_limit_levels_follow_the_customers_grade(people, grade, amount, levels):
    customer = people.sales.post(
        "/api/v1/customers", json={"name": f"授信测试客户{grade}{amount}", "grade": grade}
    )
    assert customer.status_code == 201, customer.get_json()
    body = request_approval(
        people.sales,
        request_type="credit_limit",
        amount=amount,
        customer_id=customer.get_json()["id"],
    )
    assert body["data"]["customer_grade"] == grade
    assert body["data"]["approval_levels"] == levels


def test_unknown_request_type_becomes_a_readable_incident(people):
    body = request_approval(people.sales, request_type="holiday", percentage=1)
    assert body["status"] == "error"
    [incident] = body["incidents"]
    assert (
        "request_type must be discount, credit_limit, contract or special_price"
        in incident["message"]
    )
