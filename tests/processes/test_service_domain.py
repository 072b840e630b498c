"""The domain rules behind the service operations: the warranty check's evidence, month
arithmetic, the service area, and the next priority."""

from __future__ import annotations

from datetime import date

import pytest

from crm_domain.service_desk import ESCALATED_PRIORITY, add_months, warranty_status


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2025, 11, 15), 14, date(2027, 1, 15)),
        (date(2026, 3, 10), 0, date(2026, 3, 10)),
    ],
)
def test_add_months_keeps_the_day_or_falls_back_to_the_months_end(day, months, expected):
    assert add_months(day, months) == expected


def test_priority_rises_one_step_and_stops_at_urgent():
    assert [ESCALATED_PRIORITY[p] for p in ("low", "normal", "high", "urgent")] == [
        "normal",
        "high",
        "urgent",
        "urgent",
    ]


def _request(desk, session, **data):
    from crm_domain.service import ServiceRequest

    return session.get(ServiceRequest, desk.new_request(**data)["id"])


def test_a_contract_gives_the_warranty_date_and_the_last_day_still_counts(desk, session):
    contract = desk.created(
        desk.manager_a,
        "contracts",
        {
            "customer_id": desk.customer["id"],
            "contract_no": "HT-2026-01",
            "title": "年度维保合同",
            "ends_on": "2026-12-31",
            "status": "active",
        },
    )
    request = _request(desk, session, contract_id=contract["id"])
    on_last_day = warranty_status(session, request, date(2026, 12, 31))
    assert (on_last_day["in_warranty"], on_last_day["basis"]) == (True, "contract")
    assert on_last_day["ends_on"] == date(2026, 12, 31)
    assert warranty_status(session, request, date(2027, 1, 1))["in_warranty"] is False


def test_a_given_purchase_date_counts_the_products_warranty_months(desk, session):
    request = _request(desk, session)
    status = warranty_status(session, request, date(2026, 12, 1), date(2026, 1, 5))
    assert (status["basis"], status["ends_on"], status["in_warranty"]) == (
        "purchase",
        date(2027, 1, 5),
        True,
    )
    assert status["warranty_months"] == 12


def test_no_evidence_means_not_in_warranty(desk, session):
    # No warranty date, no contract, no order of the product, no purchase date given.
    status = warranty_status(session, _request(desk, session), date(2026, 12, 1))
    assert (status["in_warranty"], status["basis"], status["ends_on"]) == (False, "none", None)


def test_cancelled_orders_prove_no_purchase(desk, session):
    desk.created(
        desk.manager_a,
        "orders",
        {
            "customer_id": desk.customer["id"],
            "order_no": "SO-X",
            "ordered_on": "2026-10-01",
            "status": "cancelled",
            "lines": [{"product_id": desk.product["id"], "quantity": "1", "unit_price": "25"}],
        },
    )
    status = warranty_status(session, _request(desk, session), date(2026, 12, 1))
    assert status["basis"] == "none"
