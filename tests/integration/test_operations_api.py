"""GET /api/v1/operations: what a designer may call from a service task."""

from __future__ import annotations


def test_designers_see_every_operation_with_parameters_and_result(designer):
    response = designer.get("/api/v1/operations")
    assert response.status_code == 200
    body = response.get_json()
    by_name = {op["name"]: op for op in body["items"]}
    assert body["total"] == len(body["items"])
    assert {
        "crm.get_record",
        "crm.create_record",
        "crm.update_record",
        "crm.create_quote",
        "crm.log_interaction",
        "crm.assign_owner",
        "notify.send",
    } <= set(by_name)
    quote = by_name["crm.create_quote"]
    assert quote["description"].startswith("Create a quote")
    assert quote["result_variable"] == "quote"
    assert quote["result"]
    params = {p["name"]: p for p in quote["parameters"]}
    assert params["customer_id"] == {
        "name": "customer_id",
        "type": "integer",
        "required": True,
        "description": "The customer the quote is for.",
    }
    assert params["lines"]["type"] == "array" and params["lines"]["required"] is True
    assert params["discount_percent"]["type"] == "number"
    assert params["discount_percent"]["required"] is False
    assert [op["name"] for op in body["items"]] == sorted(by_name)


def test_admins_may_list_operations_but_salespeople_may_not(api_as, anonymous):
    assert api_as("admin").get("/api/v1/operations").status_code == 200
    assert api_as("salesperson").get("/api/v1/operations").status_code == 403
    assert anonymous.get("/api/v1/operations").status_code == 401


def test_operations_are_in_the_openapi_document(designer):
    spec = designer.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/operations" in spec["paths"]
