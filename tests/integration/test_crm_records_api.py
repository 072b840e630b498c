"""The shared customer record through the API: scopes, masking, validation, concurrency, audit."""

from __future__ import annotations

CUSTOMER = {
    "name": "苏州锦华纺织有限公司",
    "short_name": "锦华纺织",
    "region": "华东",
    "industry": "textile",
    "phone": "0512-65881234",
    "tax_id": "91320500MA1XYZ1234",
    "bank_name": "中国工商银行苏州分行",
    "bank_account": "1102020109000123456",
    "grade": "A",
    "credit_limit": 500000,
    "lifecycle_stage": "active",
    "tags": ["面料", "老客户"],
}


def make_customer(api, **changes):
    response = api.post("/api/v1/customers", json={**CUSTOMER, **changes})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def names(api, query=""):
    body = api.get(f"/api/v1/customers{query}").get_json()
    return {item["name"] for item in body["items"]}, body["total"]


def test_a_salesperson_creates_and_finds_a_customer_by_pinyin(company):
    created = make_customer(company.sales_a1)

    assert created["owner_id"] == company.sales_a1.user.id
    assert created["org_unit_id"] == company.units["a1"].id
    assert created["version"] == 1
    assert created["credit_limit"] == 500000.0
    for query in ("szjh", "suzhou", "锦华", "65881234"):
        found, total = names(company.sales_a1, f"?q={query}")
        assert found == {"苏州锦华纺织有限公司"} and total == 1, query


def test_data_scope_applies_to_list_detail_search_and_count(company):
    customer = make_customer(company.sales_a1)
    url = f"/api/v1/customers/{customer['id']}"

    # Another branch: cannot list, count, search, read or change it, not even by id.
    assert names(company.sales_b) == (set(), 0)
    assert names(company.sales_b, "?q=锦华") == (set(), 0)
    assert company.sales_b.get(url).status_code == 404
    assert company.sales_b.patch(url, json={"version": 1, "grade": "B"}).status_code == 404
    assert company.manager_b.get(url).status_code == 404
    # A colleague in the same office with "own" scope does not see it either.
    assert company.sales_a1_peer.get(url).status_code == 404
    # The branch manager sees the branch's subtree; the executive sees everything.
    assert company.manager_a.get(url).status_code == 200
    assert names(company.manager_a)[1] == 1
    assert company.executive.get(url).status_code == 200
    # A service agent of the office reads it (unit scope) but may not change it.
    assert company.service_a1.get(url).status_code == 200
    assert company.service_a1.patch(url, json={"version": 1, "grade": "B"}).status_code == 403


def test_sensitive_fields_are_masked_without_the_grant(company):
    customer = make_customer(company.sales_a1)
    url = f"/api/v1/customers/{customer['id']}"

    own_view = company.sales_a1.get(url).get_json()
    assert own_view["bank_account"] == "***************3456"
    assert own_view["tax_id"].endswith("1234") and "MA1XYZ" not in own_view["tax_id"]
    assert company.executive.get(url).get_json()["tax_id"] == "91320500MA1XYZ1234"
    # Nor can the masked value be probed through search.
    assert names(company.sales_a1, "?q=MA1XYZ")[1] == 0
    assert names(company.executive, "?q=ma1xyz")[1] == 1


def test_moving_an_org_unit_moves_its_records_scope(company):
    make_customer(company.sales_a1)
    assert names(company.manager_a)[1] == 1

    moved = company.admin.patch(
        f"/api/v1/org-units/{company.units['a1'].id}", json={"parent_id": company.units["b"].id}
    )

    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["path"].startswith(company.units["b"].path)
    assert names(company.manager_a)[1] == 0
    assert names(company.manager_b)[1] == 1
    # A unit cannot move under its own subtree.
    loop = company.admin.patch(
        f"/api/v1/org-units/{company.units['b'].id}", json={"parent_id": company.units["a1"].id}
    )
    assert loop.status_code == 422 and "parent_id" in loop.get_json()["error"]["details"]
    assert (
        company.manager_a.patch(
            f"/api/v1/org-units/{company.units['b'].id}", json={"name": "x"}
        ).status_code
        == 403
    )


def test_invalid_input_gets_field_level_messages_and_saves_nothing(company):
    bad = company.sales_a1.post(
        "/api/v1/customers",
        json={
            "name": "",
            "email": "not-an-email",
            "grade": "Z",
            "credit_limit": -5,
            "colour": "red",
            "tax_id": "abc",
        },
    )

    assert bad.status_code == 422
    details = bad.get_json()["error"]["details"]
    assert {"name", "email", "grade", "credit_limit", "colour", "tax_id"} <= set(details)
    assert names(company.sales_a1)[1] == 0
    assert company.sales_a1.post("/api/v1/customers", data="[1,2]").status_code in (400, 422)
    assert company.sales_a1.get("/api/v1/customers?grade=A&sort=nonsense").status_code == 422
    assert company.sales_a1.get("/api/v1/customers?colour=red").status_code == 422
    assert company.sales_a1.get("/api/v1/customers?per_page=100000").status_code == 422


def test_two_editors_never_silently_overwrite_each_other(company):
    customer = make_customer(company.sales_a1)
    url = f"/api/v1/customers/{customer['id']}"

    first = company.sales_a1.patch(url, json={"grade": "B"}, headers={"If-Match": 'W/"1"'})
    second = company.manager_a.patch(url, json={"region": "华南", "version": 1})

    assert first.status_code == 200 and first.get_json()["version"] == 2
    assert first.headers["ETag"] == 'W/"2"'
    assert second.status_code == 409
    assert second.get_json()["error"]["details"]["current_version"] == 2
    assert company.sales_a1.patch(url, json={"grade": "C"}).status_code == 422  # no version
    final = company.sales_a1.get(url).get_json()
    assert (final["grade"], final["region"]) == ("B", "华东")


def test_every_change_is_in_the_record_history(company):
    customer = make_customer(company.sales_a1)
    url = f"/api/v1/customers/{customer['id']}"
    company.sales_a1.patch(url, json={"grade": "B", "version": 1})

    history = company.sales_a1.get(f"{url}/history").get_json()["items"]

    assert [entry["action"] for entry in history] == ["create", "update"]
    assert history[1]["changes"] == {"grade": ["A", "B"]}
    assert history[1]["user_id"] == company.sales_a1.user.id
    assert company.sales_b.get(f"{url}/history").status_code == 404


def test_contacts_and_interactions_follow_their_customer(company):
    customer = make_customer(company.sales_a1)
    contact = company.sales_a1.post(
        "/api/v1/contacts",
        json={"customer_id": customer["id"], "name": "王经理", "role": "purchaser"},
    )
    assert contact.status_code == 201, contact.get_json()
    logged = company.service_a1.post(
        "/api/v1/interactions",
        json={
            "customer_id": customer["id"],
            "contact_id": contact.get_json()["id"],
            "channel": "phone",
            "direction": "inbound",
            "summary": "询问交期",
        },
    )
    assert logged.status_code == 201, logged.get_json()

    # The salesperson owning the customer sees the agent's note; another branch does not.
    mine = company.sales_a1.get(f"/api/v1/interactions?customer_id={customer['id']}").get_json()
    assert mine["total"] == 1
    assert company.sales_b.get("/api/v1/interactions").get_json()["total"] == 0
    stranger = company.sales_b.post(
        "/api/v1/contacts", json={"customer_id": customer["id"], "name": "x"}
    )
    assert stranger.status_code == 422
    assert "customer_id" in stranger.get_json()["error"]["details"]


def test_only_deleters_delete_and_deleting_a_used_record_is_a_conflict(company):
    customer = make_customer(company.sales_a1)
    url = f"/api/v1/customers/{customer['id']}"
    company.sales_a1.post("/api/v1/contacts", json={"customer_id": customer["id"], "name": "李"})

    assert company.sales_a1.delete(url).status_code == 403
    assert company.manager_a.delete(url).status_code == 409
    assert company.manager_a.get(url).status_code == 200


def test_a_custom_field_works_on_the_next_request(company):
    sales = company.sales_a1
    created = company.admin.post(
        "/api/v1/admin/fields",
        json={
            "collection": "customers",
            "name": "fabric_grade",
            "type": "choice",
            "required": True,
            "label": {"zh": "面料等级", "en": "Fabric grade"},
            "choices": [
                {"value": "premium", "label": {"zh": "高档", "en": "Premium"}},
                {"value": "standard", "label": {"zh": "普通", "en": "Standard"}},
            ],
        },
    )
    assert created.status_code == 201, created.get_json()

    missing = sales.post("/api/v1/customers", json=CUSTOMER)
    assert missing.status_code == 422
    assert "custom.fabric_grade" in missing.get_json()["error"]["details"]
    customer = make_customer(sales, custom={"fabric_grade": "premium"})
    assert customer["custom"] == {"fabric_grade": "premium"}
    make_customer(sales, name="无锡", tax_id=None, custom={"fabric_grade": "standard"})
    found, total = names(sales, "?custom.fabric_grade=premium")
    assert total == 1 and found == {CUSTOMER["name"]}
    assert names(sales, "?sort=-custom.fabric_grade")[1] == 2

    # Archived: no longer required or shown, but the stored value survives a restore.
    field_id = created.get_json()["id"]
    assert company.admin.delete(f"/api/v1/admin/fields/{field_id}").status_code == 200
    assert sales.post("/api/v1/customers", json={"name": "常州"}).status_code == 201
    assert sales.get(f"/api/v1/customers/{customer['id']}").get_json()["custom"] == {}
    restored = company.admin.post(
        "/api/v1/admin/fields",
        json={"collection": "customers", "name": "fabric_grade", "type": "text", "label": "x"},
    )
    assert restored.status_code == 201
    view = sales.get(f"/api/v1/customers/{customer['id']}").get_json()
    assert view["custom"] == {"fabric_grade": "premium"}


def test_defining_fields_needs_the_grant_and_a_valid_spec(company):
    denied = company.manager_a.post(
        "/api/v1/admin/fields",
        json={"collection": "customers", "name": "x", "type": "text", "label": "x"},
    )
    assert denied.status_code == 403
    bad = company.admin.post(
        "/api/v1/admin/fields",
        json={"collection": "customers", "name": "_x", "type": "colour", "label": "x"},
    )
    assert bad.status_code == 422
    assert {"name", "type"} <= set(bad.get_json()["error"]["details"])
    nowhere = company.admin.post(
        "/api/v1/admin/fields", json={"collection": "planets", "name": "x", "type": "text"}
    )
    assert nowhere.status_code == 422


def test_a_field_added_in_one_worker_is_enforced_by_another(company, settings, session_factory):
    from tests.conftest import ApiClient
    from web.app import create_app

    other_worker = create_app(settings, session_factory=session_factory).test_client()
    sales_elsewhere = ApiClient(other_worker, company.sales_a1.token)
    assert sales_elsewhere.post("/api/v1/customers", json={"name": "甲"}).status_code == 201

    company.admin.post(
        "/api/v1/admin/fields",
        json={
            "collection": "customers",
            "name": "looms",
            "type": "integer",
            "required": True,
            "min": 0,
            "label": {"zh": "织机台数", "en": "Looms"},
        },
    )

    refused = sales_elsewhere.post(
        "/api/v1/customers", json={"name": "乙", "custom": {"looms": -1}}
    )
    assert refused.status_code == 422
    assert "custom.looms" in refused.get_json()["error"]["details"]
    accepted = sales_elsewhere.post(
        "/api/v1/customers", json={"name": "丙", "custom": {"looms": 40}}
    )
    assert accepted.get_json()["custom"] == {"looms": 40}
