"""The shipped sales process up to the order, through the REST API: every path of qualification,
quoting and discount approval."""

from __future__ import annotations

from tests.processes.approval_support import complete
from tests.processes.sales_support import (
    MANAGER_APPROVAL,
    PREPARE_QUOTE,
    QUALIFY,
    REVISE_APPROVAL,
    SIGN_CONTRACT,
    money,
)


def test_the_shipped_sales_process_is_deployed_with_its_forms(team):
    listed = team.manager.get("/api/v1/process-definitions").get_json()
    [sales] = [d for d in listed if d["key"] == "sales"]
    assert sales["version"] == 1 and sales["is_current"]
    assert {
        "sales_qualify_lead",
        "sales_quote",
        "sales_contract",
        "sales_order",
        "sales_overdue_followup",
        "approval_decision",  # the called approval's forms come along
    } <= set(sales["form_keys"])
    bpmn = team.manager.get("/api/v1/process-definitions/sales/versions/1/bpmn")
    assert bpmn.status_code == 200
    assert b'calledElement="approval"' in bpmn.data


def test_a_sale_started_for_a_customer_is_about_that_customer(team):
    """Started as the docs say (only `data.customer_id`): the customer's processes and timeline
    list the sale (and the inbox shows the customer on its tasks, from the same subject)."""
    started = team.start_lead()
    assert started["subject"] == {"type": "customer", "id": str(team.customer["id"])}
    customer_id = team.customer["id"]
    about = team.sales.get(f"/api/v1/customers/{customer_id}/process-instances").get_json()
    assert started["id"] in [i["id"] for i in about["items"]]
    timeline = team.sales.get(f"/api/v1/customers/{customer_id}/timeline").get_json()
    assert any(
        item["kind"] == "process" and item["id"] == started["id"] for item in timeline["items"]
    )


def test_a_disqualified_lead_ends_with_its_reason(team):
    started = team.start_lead(lead_title="锦华家具 2027 年板材采购")
    assert started["status"] == "running", started["incidents"]
    task = team.task(team.sales, started["id"], QUALIFY)
    # The lead goes to the customer's owner, not to every salesperson.
    assert task["assignee"] == team.sales.user.id
    assert task["form_key"] == "sales_qualify_lead"

    done = team.do(
        team.sales,
        started["id"],
        QUALIFY,
        qualification="disqualified",
        disqualify_reason="客户只是询价，无采购计划 Only asking prices",
    )
    assert done["status"] == "completed"
    assert done["data"]["outcome"] == "disqualified"
    assert done["data"]["disqualify_reason"] == "客户只是询价，无采购计划 Only asking prices"
    # Nothing was put in the pipeline for it.
    opportunities = team.sales.get(f"/api/v1/opportunities?customer_id={team.customer['id']}")
    assert opportunities.get_json()["total"] == 0


def test_a_disqualification_without_reason_says_so(team):
    started = team.start_lead()
    done = team.do(team.sales, started["id"], QUALIFY, qualification="disqualified")
    assert done["status"] == "completed"
    assert done["data"]["disqualify_reason"] == "未说明原因 No reason given"


def test_the_qualify_form_refuses_bad_input_per_field(team):
    started = team.start_lead()
    task = team.task(team.sales, started["id"], QUALIFY)
    response = team.sales.post(
        f"/api/v1/tasks/{task['id']}/complete",
        json={"data": {"qualification": "maybe", "expected_value": "lots"}},
    )
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert set(details) == {"qualification", "expected_value"}
    assert team.instance(started["id"])["status"] == "running"


def test_a_small_discount_is_approved_automatically_and_goes_to_the_contract(team):
    started = team.start_lead()
    team.qualify(started["id"], expected_close="2027-01-31")
    opportunity_id = team.instance(started["id"])["data"]["opportunity"]["id"]
    opportunity = team.record("opportunities", opportunity_id, api=team.sales)
    assert opportunity["stage"] == "qualification"
    assert opportunity["owner_id"] == team.sales.user.id  # the customer's owner works it

    body = team.quote(started["id"], quantity=100, discount=5, quote_notes="含运费")
    quote = body["data"]["quote"]
    assert body["data"]["approval_levels"] == []  # 5 %: no approver
    assert quote["quote_no"] == f"QT-{opportunity_id}-1"
    stored = team.record("quotes", quote["id"], api=team.sales)
    assert stored["status"] == "approved"
    assert money(stored["subtotal"]) == money(10_000)
    assert money(stored["total"]) == money(9_500)
    assert stored["lines"][0]["product_id"] == team.product["id"]
    # Next: the salesperson's contract.
    assert team.task(team.sales, started["id"], SIGN_CONTRACT)["form_key"] == "sales_contract"


def test_a_large_discount_rejected_goes_back_to_the_quote_and_the_revision_is_approved(team):
    started = team.start_lead()
    team.qualify(started["id"])
    team.quote(started["id"], quantity=100, discount=12)
    first_quote = team.instance(started["id"])["data"]["quote"]

    # 12 %: the sales manager decides, inside the called approval process.
    approval = team.task(team.manager, started["id"], MANAGER_APPROVAL, scope="available")
    assert approval["candidate_roles"] == ["sales_manager"]
    complete(team.manager, approval, decision="reject", comment="折扣太大，最多 5% Too much")

    # The rejection reaches the salesperson, who withdraws the request to rework the quote.
    revise = team.task(team.sales, started["id"], REVISE_APPROVAL)
    detail = team.sales.get(f"/api/v1/tasks/{revise['id']}").get_json()
    assert detail["data"]["rejection_reason"] == "折扣太大，最多 5% Too much"
    complete(team.sales, revise, revise_action="withdraw", revision_note="重新报价")

    again = team.task(team.sales, started["id"], PREPARE_QUOTE)
    detail = team.sales.get(f"/api/v1/tasks/{again['id']}").get_json()
    assert detail["data"]["rejection_reason"] == "折扣太大，最多 5% Too much"
    assert team.record("quotes", first_quote["id"])["status"] == "rejected"

    body = team.quote(started["id"], quantity=120, discount=4)
    second = body["data"]["quote"]
    assert second["id"] != first_quote["id"]
    assert second["quote_no"].endswith("-2")
    stored = team.record("quotes", second["id"])
    assert stored["status"] == "approved"
    assert money(stored["total"]) == money(11_520)
    assert team.task(team.sales, started["id"], SIGN_CONTRACT)


def test_a_discount_revised_inside_the_approval_is_applied_to_the_quote(team):
    started = team.start_lead()
    team.qualify(started["id"])
    team.quote(started["id"], quantity=10, discount=20)
    quote_id = team.instance(started["id"])["data"]["quote"]["id"]
    complete(
        team.manager,
        team.task(team.manager, started["id"], MANAGER_APPROVAL, scope="available"),
        decision="reject",
        comment="最多 10%",
    )
    complete(
        team.sales,
        team.task(team.sales, started["id"], REVISE_APPROVAL),
        revise_action="revise",
        new_percentage=10,
    )
    complete(
        team.manager,
        team.task(team.manager, started["id"], MANAGER_APPROVAL, scope="available"),
        decision="approve",
    )
    stored = team.record("quotes", quote_id)
    assert stored["status"] == "approved"
    assert money(stored["discount_percent"]) == money(10)
    assert money(stored["total"]) == money(900)
    assert team.task(team.sales, started["id"], SIGN_CONTRACT)
