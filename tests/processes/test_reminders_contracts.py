"""Reminder rules on dates of records: contract expiry, with the real reminder BPMN, the real
clock travelled by `run_due_reminders(now=...)`, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from crm_domain.notifications import Notification
from crm_domain.reminders.models import FiredReminder
from crm_domain.reminders.rules import change_reminder_rule, create_reminder_rule
from engine.reminders import run_due_reminders
from tests.support.rules import at, open_tasks_of, reminder_instances

ENDS = date(2027, 3, 31)


@pytest.fixture
def expiring(org):
    customer = org.customer(org.sales_a1, name="苏州锦华纺织有限公司")
    return org.contract(org.sales_a1, customer, "HT-2027-001", ENDS)


def expiry_rule(session, **changes):
    rule = create_reminder_rule(
        session,
        None,
        {
            "name": "合同到期提醒 Contract expiring",
            "kind": "date_field",
            "collection": "contracts",
            "date_field": "ends_on",
            "days": 7,
            "timing": "before",
            "recipients": ["owner"],
            "channels": ["in_app"],
            "message": {
                "zh": "{customer.name} 的合同 {contract.number} 将于 {due_date} 到期",
                "en": "Contract {contract.number} of {customer.name} ends on {due_date}",
            },
            **changes,
        },
    )
    session.commit()
    return rule


def test_a_contract_expiry_reminder_lands_in_the_owners_inbox_on_its_day(
    session, session_factory, org, expiring
):
    rule = expiry_rule(session)
    early = run_due_reminders(session_factory, at(date(2027, 3, 23)))
    assert early.created == 0 and reminder_instances(session) == []

    report = run_due_reminders(session_factory, at(date(2027, 3, 24)))
    assert report.created == 1 and report.errors == 0
    (instance,) = reminder_instances(session)
    assert (instance.subject_type, instance.subject_id) == ("contract", str(expiring.id))
    assert instance.data["due_date"] == "2027-03-31"
    assert instance.data["message"].splitlines() == [
        "苏州锦华纺织有限公司 的合同 HT-2027-001 将于 2027-03-31 到期",
        "Contract HT-2027-001 of 苏州锦华纺织有限公司 ends on 2027-03-31",
    ]
    (task,) = open_tasks_of(session, org.sales_a1)
    assert task.instance_id == instance.id and task.form_key == "reminder_follow_up"
    assert task.due_at.date() == ENDS
    (note,) = session.scalars(select(Notification).where(Notification.user_id == org.sales_a1.id))
    assert note.title == rule.name and "HT-2027-001" in note.body
    fired = session.scalar(select(FiredReminder))
    assert (fired.rule_id, fired.record_id, fired.occurrence) == (rule.id, expiring.id, ENDS)
    assert fired.instance_id == instance.id


def test_running_twice_the_same_day_creates_the_reminder_once(
    session, session_factory, org, expiring
):
    expiry_rule(session)
    first = run_due_reminders(session_factory, at(date(2027, 3, 24), 1))
    again = run_due_reminders(session_factory, at(date(2027, 3, 24), 9))
    next_day = run_due_reminders(session_factory, at(date(2027, 3, 25)))
    assert (first.created, again.created, next_day.created) == (1, 0, 0)
    assert len(reminder_instances(session)) == 1
    assert len(open_tasks_of(session, org.sales_a1)) == 1


def test_a_run_after_two_days_of_downtime_catches_up_exactly_once(
    session, session_factory, org, expiring
):
    expiry_rule(session)
    other_customer = org.customer(org.sales_a1, name="杭州华美服饰")
    org.contract(org.sales_a1, other_customer, "HT-2027-002", date(2027, 3, 30))
    # The scheduler was down on the 23rd and 24th (when both fell due); it is back on the 25th.
    report = run_due_reminders(session_factory, at(date(2027, 3, 25)))
    assert report.created == 2
    again = run_due_reminders(session_factory, at(date(2027, 3, 26)))
    assert again.created == 0
    occurrences = session.scalars(select(FiredReminder.occurrence).order_by(FiredReminder.id))
    assert sorted(occurrences) == [date(2027, 3, 30), ENDS]


def test_changing_days_before_changes_only_reminders_not_yet_created(
    session, session_factory, org, expiring
):
    rule = expiry_rule(session)
    assert run_due_reminders(session_factory, at(date(2027, 3, 24))).created == 1
    later = org.contract(org.sales_a1, org.customer(org.sales_a1, name="无锡"), "HT-9", ENDS)

    change_reminder_rule(session, rule.id, {"days": 3, "message": {"en": "Now {days} days"}})
    session.commit()
    # The 7-day reminder already made is kept as it was; the same occurrence is not repeated.
    assert run_due_reminders(session_factory, at(date(2027, 3, 25))).created == 0
    (first,) = reminder_instances(session)
    assert "ends on 2027-03-31" in first.data["message"]
    # The other contract follows the new rule: reminded 3 days before, with the new text. Three
    # days before is Sunday 28 March, not a working day: the reminder comes on Friday the 26th.
    assert run_due_reminders(session_factory, at(date(2027, 3, 26))).created == 1
    assert run_due_reminders(session_factory, at(date(2027, 3, 28))).created == 0
    second = reminder_instances(session)[-1]
    assert second.subject_id == str(later.id) and second.data["message"] == "Now 3 days"


def test_an_inactive_rule_and_filters_leave_records_alone(session, session_factory, org):
    customer = org.customer(org.sales_a1)
    org.contract(org.sales_a1, customer, "HT-DRAFT", ENDS, status="draft")
    org.contract(org.sales_a1, customer, "HT-ACTIVE", ENDS)
    rule = expiry_rule(session, filters={"status": ["active"]})
    report = run_due_reminders(session_factory, at(date(2027, 3, 24)))
    assert report.created == 1
    assert reminder_instances(session)[0].data["message"].count("HT-ACTIVE") == 2

    change_reminder_rule(session, rule.id, {"active": False, "filters": {}})
    session.commit()
    assert run_due_reminders(session_factory, at(date(2027, 3, 25))).created == 0


def test_due_items_are_handled_in_batches_of_separate_transactions(session, session_factory, org):
    customer = org.customer(org.sales_a1)
    for n in range(25):
        org.contract(org.sales_a1, customer, f"HT-B-{n:03}", ENDS)
    expiry_rule(session)
    report = run_due_reminders(session_factory, at(date(2027, 3, 24)), batch_size=10)
    assert (report.created, report.batches) == (25, 3)
    assert session.scalar(select(func.count()).select_from(FiredReminder)) == 25
