"""The shipped sales process after the contract: order, receivable, reminders, escalation,
payment by message and commission, with time travelled by `weft tick --now`."""

from __future__ import annotations

from core import clock
from tests.processes.sales_support import (
    CHASE,
    at,
    money,
)

DUE_ON = "2027-03-31"


def sold(team, discount: float = 5) -> dict:
    """A lead taken to a placed order (auto-approved discount), waiting for payment."""
    started = team.start_lead()
    team.qualify(started["id"])
    team.quote(started["id"], quantity=100, discount=discount)
    return team.sign_and_order(started["id"], DUE_ON)


def test_contract_order_and_receivable_are_recorded_for_the_salesperson(team):
    body = sold(team)
    assert body["status"] == "waiting"
    data = body["data"]
    contract = team.record("contracts", data["contract_record"]["id"], api=team.sales)
    assert contract["status"] == "active" and contract["signed_on"] == "2026-12-01"
    assert money(contract["value"]) == money(9_500)
    order = team.record("orders", data["order"]["id"], api=team.sales)
    assert order["order_no"] == data["order_no"]
    assert order["contract_id"] == contract["id"] and order["quote_id"] == data["quote"]["id"]
    # The quote's 5 % discount is kept on the order's lines.
    assert money(order["total"]) == money(9_500)
    assert order["owner_id"] == team.sales.user.id
    receivable = team.record("receivables", data["receivable"]["id"], api=team.sales)
    assert receivable["due_on"] == DUE_ON and money(receivable["amount"]) == money(9_500)
    opportunity = team.record("opportunities", data["opportunity"]["id"], api=team.sales)
    assert opportunity["stage"] == "won" and money(opportunity["amount"]) == money(9_500)


def test_payment_on_time_closes_the_sale_and_records_the_commission(team):
    body = sold(team)
    order_no = body["data"]["order_no"]

    # A payment for another order reaches nobody.
    stray = team.manager.post(
        "/api/v1/messages",
        json={"name": "payment_received", "correlation": {"order_no": "SO-0"}, "payload": {}},
    )
    assert stray.status_code == 404

    assert team.pay(order_no, "9500.00", "2027-03-20") == [body["id"]]
    done = team.instance(body["id"])
    assert done["status"] == "completed", done["incidents"]
    data = done["data"]
    receivable = team.record("receivables", data["receivable"]["id"])
    assert receivable["status"] == "paid"
    payment = team.record("payments", data["payment_record"]["id"])
    assert payment["paid_on"] == "2027-03-20" and payment["reference"] == "BANK-1"

    commission = team.record("commissions", data["commission"]["id"], api=team.sales)
    assert commission["user_id"] == team.sales.user.id  # the salesperson reads their own
    assert money(commission["rate"]) == money(3)
    assert money(commission["amount"]) == money(285)  # 3 % of 9,500
    assert commission["period"] == "2027-03"
    # Paid before any reminder was due: nobody was reminded.
    assert team.notifications(team.sales) == []
    assert team.tick("2027-05-01T00:00:00Z") == []


def test_late_payment_is_reminded_escalated_and_closed_when_paid(team):
    body = sold(team)
    instance_id, order_no = body["id"], body["data"]["order_no"]

    assert team.tick("2027-03-27T23:00:00Z") == []  # 07:00 Beijing time: not yet
    assert team.tick("2027-03-28T01:01:00Z") == [instance_id]  # 3 days before, 09:00
    assert team.notifications(team.sales) == [f"回款即将到期 Payment due soon: {order_no}"]

    assert team.tick("2027-03-31T12:00:00Z") == []  # due today: not overdue yet
    assert team.tick("2027-04-01T01:01:00Z") == [instance_id]
    assert team.notifications(team.sales)[0] == f"回款已逾期 Payment overdue: {order_no}"
    with clock.frozen_at(at("2027-04-02T01:00:00Z")):
        receivable = team.record("receivables", body["data"]["receivable"]["id"])
    assert receivable["status"] == "overdue"

    # Seven days overdue: the sales manager is asked to chase it; the salesperson is not.
    assert team.tick("2027-04-07T01:01:00Z") == [instance_id]
    chase = team.task(team.manager, instance_id, CHASE, scope="available")
    assert chase["candidate_roles"] == ["sales_manager"]
    assert team.sales.get("/api/v1/tasks?scope=available").get_json()["total"] == 0
    invalid = team.manager.post(
        f"/api/v1/tasks/{chase['id']}/complete", json={"data": {"next_check_days": 0}}
    )
    assert invalid.status_code == 422
    assert set(invalid.get_json()["error"]["details"]) == {"collection_note", "next_check_days"}
    with clock.frozen_at(at("2027-04-08T02:00:00Z")):
        team.do(
            team.manager,
            instance_id,
            CHASE,
            scope="available",
            collection_note="已电话联系财务，承诺分两次付款",
            next_check_days=3,
        )

    # A part payment is recorded, and the process keeps waiting for the rest.
    assert team.pay(order_no, "5000", "2027-04-09") == [instance_id]
    waiting = team.instance(instance_id)
    assert waiting["status"] == "waiting", waiting["incidents"]
    assert team.record("receivables", body["data"]["receivable"]["id"])["paid_amount"] == 5000

    # Still not paid three days after the manager's check: asked again.
    assert team.tick("2027-04-11T01:01:00Z") == [instance_id]
    second = team.task(team.manager, instance_id, CHASE, scope="available")
    assert second["id"] != chase["id"]

    # The rest arrives while the manager's task is open: the task is withdrawn, the sale closes.
    assert team.pay(order_no, "4500", "2027-04-17") == [instance_id]
    done = team.instance(instance_id)
    assert done["status"] == "completed", done["incidents"]
    assert done["data"]["escalations"] == 1
    tasks = {t["id"]: t["status"] for t in done["tasks"]}
    assert tasks[second["id"]] == "cancelled"
    assert team.manager.get("/api/v1/tasks?scope=available").get_json()["total"] == 0
    commission = team.record("commissions", done["data"]["commission"]["id"])
    assert commission["period"] == "2027-04" and money(commission["amount"]) == money(285)
    assert team.tick("2027-06-01T00:00:00Z") == []


def test_a_payment_larger_than_what_is_open_becomes_an_incident_with_the_reason(team):
    body = sold(team)
    team.pay(body["data"]["order_no"], "20000", "2027-03-20")
    failed = team.instance(body["id"])
    assert failed["status"] == "error"
    [incident] = failed["incidents"]
    assert "9500" in str(incident)
