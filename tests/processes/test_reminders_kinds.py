"""Each reminder rule kind (record date, yearly custom date, public holiday, no contact) and
each recipient kind (owner, manager, role), always within the recipient's data scope."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from crm_domain import custom_fields
from crm_domain.reminders.models import FiredReminder
from crm_domain.reminders.sources import holiday_starts
from engine.reminders import run_due_reminders
from tests.support.rules import (
    at,
    open_tasks_of,
    reminder_instances,
    rule,
)


def fired_records(session) -> list[tuple[int, date]]:
    rows = session.execute(select(FiredReminder.record_id, FiredReminder.occurrence))
    return sorted(tuple(row) for row in rows)


def test_an_opportunity_past_its_expected_close_is_reminded_days_after(
    session, session_factory, org
):
    customer = org.customer(org.sales_a1)
    opportunity = org.create(
        "opportunities",
        {"customer_id": customer.id, "title": "春季面料", "expected_close": "2027-04-10"},
        org.sales_a1,
    )
    rule(
        session,
        kind="date_field",
        collection="opportunities",
        date_field="expected_close",
        days=2,
        timing="after",
        filters={"stage": ["prospecting", "qualification", "proposal", "negotiation"]},
        message={"en": "{opportunity.title} should have closed on {due_date}"},
    )
    assert run_due_reminders(session_factory, at(date(2027, 4, 11))).created == 0
    assert run_due_reminders(session_factory, at(date(2027, 4, 12))).created == 1
    (instance,) = reminder_instances(session)
    assert instance.data["message"] == "春季面料 should have closed on 2027-04-10"
    assert instance.subject_id == str(opportunity.id)


def test_a_yearly_custom_date_field_reminds_every_anniversary(session, session_factory, org):
    custom_fields.define_field(
        session,
        "customers",
        {"name": "founded_on", "type": "date", "label": {"zh": "成立日期", "en": "Founded"}},
    )
    session.commit()
    founded = org.customer(org.sales_a1, custom={"founded_on": "2015-05-20"})
    org.customer(org.sales_a1, name="别家", custom={"founded_on": "2015-06-20"})
    rule(
        session,
        kind="date_field",
        collection="customers",
        date_field="custom.founded_on",
        yearly=True,
        days=1,
        message={"zh": "明天是 {customer.name} 成立纪念日（{due_date}）"},
    )
    assert run_due_reminders(session_factory, at(date(2027, 5, 19))).created == 1
    assert run_due_reminders(session_factory, at(date(2028, 5, 19))).created == 1
    assert fired_records(session) == [
        (founded.id, date(2027, 5, 20)),
        (founded.id, date(2028, 5, 20)),
    ]
    assert reminder_instances(session)[0].data["message"] == (
        "明天是 苏州锦华纺织有限公司 成立纪念日（2027-05-20）"
    )


def test_holiday_greetings_go_out_before_spring_festival_for_the_chosen_grades(
    session, session_factory, org
):
    grade_a = org.customer(org.sales_a1, name="甲级客户", grade="A")
    org.customer(org.sales_a1, name="丙级客户", grade="C")
    rule(
        session,
        kind="holiday",
        days=3,
        filters={"grade": ["A"]},
        message={"zh": "{holiday}将至，请问候 {customer.name}"},
    )
    # In 2027 the Spring Festival holidays start with New Year's Eve on 5 February.
    assert run_due_reminders(session_factory, at(date(2027, 2, 1))).created == 0
    assert run_due_reminders(session_factory, at(date(2027, 2, 2))).created == 1
    assert fired_records(session) == [(grade_a.id, date(2027, 2, 5))]
    message = reminder_instances(session)[0].data["message"]
    assert message.startswith("农历除夕、春节") and message.endswith("请问候 甲级客户")


def test_no_contact_for_n_days_reminds_once_the_silence_reaches_n(session, session_factory, org):
    quiet = org.customer(org.sales_a1, name="久未联系", grade="A")
    busy = org.customer(org.sales_a1, name="常联系", grade="A")
    for customer, when in ((quiet, "2027-01-10T02:00:00Z"), (busy, "2027-02-01T02:00:00Z")):
        org.create(
            "interactions",
            {
                "customer_id": customer.id,
                "channel": "phone",
                "summary": "回访",
                "occurred_at": when,
            },
            org.sales_a1,
        )
    rule(
        session,
        kind="no_contact",
        days=30,
        filters={"grade": "A"},
        message={"zh": "{days} 天未联系 {customer.name}"},
    )
    # The silence reaches 30 days on 9 February 2027, in the Spring Festival holidays (5th to
    # 10th): nobody is at work, and the day before it is not yet true, so it comes on the 11th.
    assert run_due_reminders(session_factory, at(date(2027, 2, 8))).created == 0
    assert run_due_reminders(session_factory, at(date(2027, 2, 10))).created == 0
    assert run_due_reminders(session_factory, at(date(2027, 2, 11))).created == 1
    assert fired_records(session) == [(quiet.id, date(2027, 2, 9))]
    assert reminder_instances(session)[0].data["message"] == "30 天未联系 久未联系"


def test_the_owners_manager_is_the_nearest_sales_manager_above_the_owner(
    session, session_factory, org
):
    customer = org.customer(org.sales_a1)
    org.contract(org.sales_a1, customer, "HT-M", date(2027, 3, 31))
    rule(
        session,
        kind="date_field",
        collection="contracts",
        date_field="ends_on",
        days=0,
        recipients=["manager"],
    )
    assert run_due_reminders(session_factory, at(date(2027, 3, 31))).created == 1
    assert len(open_tasks_of(session, org.manager_a)) == 1
    assert open_tasks_of(session, org.sales_a1) == []
    assert open_tasks_of(session, org.manager_b) == []


def test_a_role_gets_reminders_of_records_in_its_part_of_the_org_tree(
    session, session_factory, org
):
    customer = org.customer(org.sales_a1)
    org.contract(org.sales_a1, customer, "HT-R", date(2027, 3, 31))
    rule(
        session,
        kind="date_field",
        collection="contracts",
        date_field="ends_on",
        recipients=["role:service_agent", "owner"],
    )
    assert run_due_reminders(session_factory, at(date(2027, 3, 31))).created == 1
    (instance,) = reminder_instances(session)
    # The first recipient does the follow-up task; every recipient is notified.
    assert instance.data["recipients"] == [org.service_a1.username, org.sales_a1.username]
    assert len(open_tasks_of(session, org.service_a1)) == 1


def test_a_branch_b_contract_is_never_reminded_to_a_branch_a_user(
    session, session_factory, org, make_user
):
    from crm_domain.notifications import Notification

    peer_b = make_user("salesperson", org_unit_id=org.branch_b.id)
    customer = org.customer(org.sales_b, name="广州客户")
    org.contract(org.sales_b, customer, "HT-B", date(2027, 3, 31))
    rule(
        session,
        kind="date_field",
        collection="contracts",
        date_field="ends_on",
        recipients=["owner", "manager", "role:sales_manager", "role:salesperson"],
    )
    assert run_due_reminders(session_factory, at(date(2027, 3, 31))).created == 1
    (fired,) = session.scalars(select(FiredReminder))
    # Branch B's owner and manager; not branch A's people, and not the peer salesperson in
    # branch B whose "own" scope does not reach a colleague's contract.
    assert fired.recipient_ids == [org.sales_b.id, org.manager_b.id]
    notified = set(session.scalars(select(Notification.user_id)))
    assert notified == {org.sales_b.id, org.manager_b.id}
    assert peer_b.id not in notified and org.manager_a.id not in notified


def test_a_reminder_nobody_may_see_is_recorded_but_starts_nothing(session, session_factory, org):
    customer = org.customer(org.sales_a1)
    org.contract(org.sales_a1, customer, "HT-N", date(2027, 3, 31))
    rule(
        session,
        kind="date_field",
        collection="contracts",
        date_field="ends_on",
        recipients=["role:process_designer"],
    )
    report = run_due_reminders(session_factory, at(date(2027, 3, 31)))
    assert (report.created, report.without_recipient) == (0, 1)
    assert reminder_instances(session) == []
    assert run_due_reminders(session_factory, at(date(2027, 4, 1))).without_recipient == 0


def test_an_unpaid_receivable_is_reminded_days_after_its_due_date_and_a_paid_one_is_not(
    session, session_factory, org
):
    customer = org.customer(org.sales_a1)
    order = org.order(org.sales_a1, customer, "SO-2027-001", "2027-01-05")
    unpaid = org.create(
        "receivables",
        {"order_id": order.id, "due_on": "2027-02-28", "amount": "800"},
        org.sales_a1,
    )
    paid = org.create(
        "receivables",
        {"order_id": order.id, "instalment": 2, "due_on": "2027-02-28", "amount": "450"},
        org.sales_a1,
    )
    org.create(
        "payments",
        {"order_id": order.id, "receivable_id": paid.id, "amount": "450", "paid_on": "2027-02-20"},
        org.sales_a1,
    )
    rule(
        session,
        kind="date_field",
        collection="receivables",
        date_field="due_on",
        days=3,
        timing="after",
        recipients=["owner", "manager"],
        filters={"status": ["open", "partially_paid", "overdue"]},
        message={"zh": "{customer.name} 的应收款 {receivable.amount} 元已于 {due_date} 到期未付"},
    )
    assert run_due_reminders(session_factory, at(date(2027, 3, 3))).created == 1
    assert fired_records(session) == [(unpaid.id, date(2027, 2, 28))]
    (instance,) = reminder_instances(session)
    assert (
        instance.data["message"]
        == "苏州锦华纺织有限公司 的应收款 800.00 元已于 2027-02-28 到期未付"
    )
    assert instance.data["recipients"] == [org.sales_a1.username, org.manager_a.username]


def test_a_holiday_period_greets_once_and_days_off_it_brings_greet_nobody():
    """2025: National Day and a Mid-Autumn Monday with a weekend between are one greeting; the
    Spring Festival's substitute days off (调休, 3-4 Feb), Labour Day's (5 May) and the Dragon Boat
    Festival's observed Monday (补假, 2 June) start no greeting of their own."""
    starts = {day: zh for day, zh, _ in holiday_starts(2025, "CN")}
    assert starts == {
        date(2025, 1, 1): "元旦",
        date(2025, 1, 28): "农历除夕、春节",
        date(2025, 4, 4): "清明节",
        date(2025, 5, 1): "劳动节",
        date(2025, 5, 31): "端午节",
        date(2025, 10, 1): "国庆节、中秋节",
    }
    assert [en for day, _, en in holiday_starts(2025, "CN") if day == date(2025, 10, 1)] == [
        "National Day / Mid-Autumn Festival"
    ]
    assert holiday_starts(2025, "none") == ()
