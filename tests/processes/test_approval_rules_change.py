"""A new approval DMN changes the rules for new requests; running ones keep their rules."""

from __future__ import annotations

from tests.processes.approval_support import (
    APPROVAL_DIR,
    complete,
    deploy_approval,
    instance,
    open_task,
    request_approval,
)

SHIPPED_DMN = (APPROVAL_DIR / "approval_levels.dmn").read_text(encoding="utf-8")
# The new rule: discounts up to 12 % (instead of 5 %) need nobody's approval.
LOOSER_DMN = SHIPPED_DMN.replace(
    '<inputEntry id="rule_discount_auto_percentage"><text>&lt;= 5</text></inputEntry>',
    '<inputEntry id="rule_discount_auto_percentage"><text>&lt;= 12</text></inputEntry>',
)


def test_uploading_a_new_dmn_changes_new_requests_only(designer, api_as):
    assert LOOSER_DMN != SHIPPED_DMN
    deploy_approval(designer)
    sales, manager = api_as("salesperson"), api_as("sales_manager")
    in_flight = request_approval(sales, request_type="discount", percentage=10)
    assert in_flight["version"] == 1
    assert in_flight["data"]["approval_levels"] == ["sales_manager"]

    response = designer.upload(("approval_levels.dmn", LOOSER_DMN.encode()))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["decisions"] == [
        {"file": "approval_levels.dmn", "version": 2, "decision_ids": ["approval_levels"]}
    ]
    assert (body["key"], body["version"]) == ("approval", 2)
    versions = designer.get("/api/v1/process-definitions/approval").get_json()
    assert [v["version"] for v in versions] == [2, 1]

    # A new request of 10 % is now approved without anyone.
    new = request_approval(sales, request_type="discount", percentage=10)
    assert new["version"] == 2
    assert new["status"] == "completed" and new["data"]["auto_approved"] is True

    # The request that started before still waits for the manager, and when the manager
    # rejects and the requester resubmits the same 10 %, its rules are still the old ones.
    complete(manager, open_task(manager, in_flight["id"]), decision="reject", comment="再议")
    revise = open_task(sales, in_flight["id"], scope="mine")
    complete(sales, revise, revise_action="revise", new_percentage=10)
    again = instance(sales, in_flight["id"])
    assert again["version"] == 1
    assert again["data"]["approval_levels"] == ["sales_manager"]
    complete(manager, open_task(manager, in_flight["id"]), decision="approve")
    done = instance(sales, in_flight["id"])
    assert done["status"] == "completed" and done["data"]["auto_approved"] is False


def test_a_dmn_that_breaks_a_process_using_it_is_refused_whole(designer):
    deploy_approval(designer)
    broken = SHIPPED_DMN.replace("<text>request_type</text>", "<text>request_type +</text>")
    response = designer.upload(("approval_levels.dmn", broken.encode()))
    assert response.status_code == 422, response.get_json()
    details = response.get_json()["error"]["details"]
    assert details[0]["file"] == "approval_levels.dmn"
    assert designer.get("/api/v1/process-definitions/approval").get_json()[0]["version"] == 1


def test_reuploading_the_same_dmn_changes_nothing(designer):
    deploy_approval(designer)
    response = designer.upload(("approval_levels.dmn", SHIPPED_DMN.encode()))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["created"] is False
    assert [
        v["version"] for v in designer.get("/api/v1/process-definitions/approval").get_json()
    ] == [1]
