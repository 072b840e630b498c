"""Quote and order line quantities follow the setting quantity.decimal_places: more decimals
than allowed is a 422 on the line's field (never cut silently), and a change of the setting
applies to the next save without a restart."""

from __future__ import annotations

import pytest

from tests.support.http import created, errors_of

SETTINGS_URL = "/api/v1/admin/settings"


@pytest.fixture
def buyer(company) -> dict:
    return created(company.sales_a1.post("/api/v1/customers", json={"name": "苏州锦华纺织"}))


def line(quantity, price="12.50", description="涤纶塔夫绸") -> dict:
    return {"description": description, "quantity": quantity, "unit_price": price}


def quote(api, customer_id, number, *lines):
    return api.post(
        "/api/v1/quotes",
        json={"customer_id": customer_id, "quote_no": number, "lines": list(lines)},
    )


def set_places(company, places) -> None:
    response = company.admin.patch(SETTINGS_URL, json={"quantity.decimal_places": places})
    assert response.status_code == 200, response.get_json()


def test_quantities_with_more_decimals_than_allowed_are_refused_on_their_line(company, buyer):
    sales = company.sales_a1
    refused = quote(sales, buyer["id"], "BJ-1", line("100"), line("1.2345"), line("0.00001"))
    assert errors_of(refused) == {
        "lines.1.quantity": ["Enter a quantity with at most 3 decimal places."],
        "lines.2.quantity": ["Enter a quantity with at most 3 decimal places."],
    }
    assert sales.get("/api/v1/quotes").get_json()["total"] == 0  # nothing half-saved

    # Three places are fine (the default), and so are trailing zeros beyond them.
    saved = created(quote(sales, buyer["id"], "BJ-2", line("1.235"), line("2.50000")))
    assert [row["quantity"] for row in saved["lines"]] == [1.235, 2.5]
    assert saved["lines"][0]["amount"] == 15.44  # 1.235 × 12.50, half up


def test_a_changed_setting_applies_to_the_next_save(company, buyer):
    sales = company.sales_a1
    kept = created(quote(sales, buyer["id"], "BJ-3", line("1.5")))
    set_places(company, 0)

    refused = quote(sales, buyer["id"], "BJ-4", line("2.5"))
    assert errors_of(refused) == {"lines.0.quantity": ["Enter a whole number."]}
    order = sales.post(
        "/api/v1/orders",
        json={"customer_id": buyer["id"], "order_no": "SO-1", "lines": [line(2.5)]},
    )
    assert errors_of(order) == {"lines.0.quantity": ["Enter a whole number."]}
    whole = created(quote(sales, buyer["id"], "BJ-5", line("3"), line(4)))
    assert [row["quantity"] for row in whole["lines"]] == [3, 4]

    # A saved record keeps its lines: changing something else does not re-check them ...
    url = f"/api/v1/quotes/{kept['id']}"
    noted = sales.patch(url, json={"notes": "客户确认", "version": kept["version"]})
    assert noted.status_code == 200, noted.get_json()
    assert noted.get_json()["lines"][0]["quantity"] == 1.5
    # ... but lines sent again must follow the setting of the day.
    resent = sales.patch(url, json={"lines": [line("1.5")], "version": noted.get_json()["version"]})
    assert errors_of(resent) == {"lines.0.quantity": ["Enter a whole number."]}

    set_places(company, 2)
    assert errors_of(quote(sales, buyer["id"], "BJ-6", line("1.125"))) == {
        "lines.0.quantity": ["Enter a quantity with at most 2 decimal places."]
    }
    assert created(quote(sales, buyer["id"], "BJ-7", line("1.25")))["lines"][0]["quantity"] == 1.25
