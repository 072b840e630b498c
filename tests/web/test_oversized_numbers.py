"""Numbers too large for any id or page are "not found" or a field error, never a database error
(PostgreSQL refuses them in a comparison with an INTEGER column, which was a 500)."""

from __future__ import annotations

from engine.instances import customer_subject

HUGE = "9" * 30


def test_the_admin_audit_log_searched_by_an_id_no_one_has(api_as):
    admin = api_as("admin")
    found = admin.get(f"/api/v1/admin/audit-log?actor={HUGE}")
    assert found.status_code == 200 and found.get_json()["items"] == []
    paged = admin.get(f"/api/v1/admin/audit-log?page={HUGE}")
    assert paged.status_code == 422 and "page" in paged.get_json()["error"]["details"]


def test_list_pages_and_inbox_search_with_numbers_beyond_any_id(signed_in):
    web = signed_in("salesperson")
    assert web.get(f"/customers?page={HUGE}").status_code == 200
    assert web.get(f"/inbox?q={HUGE}").status_code == 200


def test_start_data_with_an_id_no_customer_can_have_is_not_the_subject():
    assert customer_subject({"customer_id": 10**30}) is None
    assert customer_subject({"customer_id": 2**31}) is None
    assert customer_subject({"customer_id": 42}) == {"type": "customer", "id": 42}


def test_a_started_process_with_such_a_customer_id_is_created(api_as, designer):
    from tests.support.bpmn import linear_process, user_task

    assert (
        designer.upload(("plain.bpmn", linear_process("plain", user_task("t", "T")))).status_code
        == 201
    )
    started = api_as("salesperson").post(
        "/api/v1/process-instances", json={"process_key": "plain", "data": {"customer_id": 10**30}}
    )
    assert started.status_code == 201, started.get_json()
    assert started.get_json()["subject"] is None
