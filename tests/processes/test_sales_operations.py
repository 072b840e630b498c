"""The sales operations (engine/operations/sales_ops.py) as designers and the process meet them."""

from __future__ import annotations

from tests.processes.sales_support import (
    PLACE_ORDER,
    SIGN_CONTRACT,
    money,
)
from tests.support.bpmn import linear_process
from tests.support.service_tasks import service_task


def test_designers_see_the_sales_operations_with_their_parameters(designer):
    body = designer.get("/api/v1/operations").get_json()
    by_name = {op["name"]: op for op in body["items"]}
    assert {"sales.create_order", "sales.update_quote", "sales.record_commission"} <= set(by_name)
    commission = by_name["sales.record_commission"]
    assert commission["result_variable"] == "commission"
    params = {p["name"]: p for p in commission["parameters"]}
    assert params["order_id"]["required"] is True
    assert params["rate"]["required"] is True and params["rate"]["type"] == "number"
    assert params["period"]["required"] is False
    order = {p["name"]: p for p in by_name["sales.create_order"]["parameters"]}
    assert {name for name, p in order.items() if p["required"]} == {"quote_id", "order_no"}


def test_an_upload_missing_a_required_sales_parameter_is_refused(designer):
    bpmn = linear_process(
        "order_without_number", service_task("make", "sales.create_order", "order", quote_id="1")
    )
    response = designer.upload(("order_without_number.bpmn", bpmn))
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert any("order_no" in d["message"] and d["element_id"] == "make" for d in details), details


def test_the_order_keeps_the_quotes_line_and_overall_discounts(team):
    started = team.start_lead()
    team.qualify(started["id"])
    second = team.manager.post(
        "/api/v1/products",
        json={
            "sku": "MDF-9",
            "name": "中纤板 9mm",
            "brand": "锦华",
            "series": "MDF",
            "price": "80",
        },
    ).get_json()
    team.quote(
        started["id"],
        quantity=10,
        discount=5,
        product_2=second["id"],
        quantity_2=20,
        unit_price_2=75.5,
    )
    quote = team.record("quotes", team.instance(started["id"])["data"]["quote"]["id"])
    assert [(line["product_id"], money(line["amount"])) for line in quote["lines"]] == [
        (team.product["id"], money(1000)),
        (second["id"], money(1510)),
    ]
    assert money(quote["total"]) == money("2384.50")  # (1000 + 1510) × 95 %
    team.do(team.sales, started["id"], SIGN_CONTRACT, signed_on="2026-12-01")
    body = team.do(
        team.sales,
        started["id"],
        PLACE_ORDER,
        payment_due_on="2027-01-31",
        promised_on="2027-01-10",
    )
    order = team.record("orders", body["data"]["order"]["id"])
    assert money(order["total"]) == money(quote["total"])
    assert [money(line["discount_percent"]) for line in order["lines"]] == [money(5), money(5)]
    assert order["promised_on"] == "2027-01-10"


def test_a_salesperson_started_sale_stops_at_the_commission_with_the_reason(team):
    """Commissions are set by managers: an instance acting as a salesperson cannot record one,
    and says so on the instance instead of recording it behind the CRM's permissions."""
    response = team.sales.post(
        "/api/v1/process-instances",
        json={"process_key": "sales", "data": {"customer_id": team.customer["id"]}},
    )
    assert response.status_code == 201, response.get_json()
    instance_id = response.get_json()["id"]
    team.viewer = team.sales
    team.qualify(instance_id)
    team.quote(instance_id, quantity=1, discount=0)
    body = team.sign_and_order(instance_id, "2027-03-31")
    team.pay(body["data"]["order_no"], body["data"]["order"]["total"], "2027-03-30", api=team.sales)

    failed = team.instance(instance_id)
    assert failed["status"] == "error"
    [incident] = failed["incidents"]
    assert "may not record commissions" in incident["message"]
    # Everything before it stands: the payment is recorded, the receivable paid.
    receivable = team.record("receivables", body["data"]["receivable"]["id"], api=team.sales)
    assert receivable["status"] == "paid"
    assert team.sales.get("/api/v1/commissions").get_json()["total"] == 0
