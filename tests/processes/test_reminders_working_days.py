"""Reminders follow the working calendar of the system settings: a reminder ahead of a date
that falls on a day off comes on the working day before, one after a date on the next working
day, the follow-up task is due at the end of a working day, and holiday greetings use the
administrator's holiday calendar. Real reminder BPMN, the clock travelled by the job."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from crm_domain.reminders.models import FiredReminder
from crm_domain.settings import update_settings
from engine.reminders import run_due_reminders
from tests.support.rules import (
    at,
    open_tasks_of,
    reminder_instances,
    rule,
)


def expiry_rule(session, days: int):
    return rule(
        session,
        kind="date_field",
        collection="contracts",
        date_field="ends_on",
        days=days,
        message={"zh": "合同 {contract.number} 将于 {due_date} 到期，今天是 {date}"},
    )


def created_on(session_factory, *days: date) -> list[int]:
    return [run_due_reminders(session_factory, at(day)).created for day in days]


def test_thirty_days_before_expiry_on_a_sunday_reaches_people_on_friday(
    session, session_factory, org
):
    customer = org.customer(org.sales_a1)
    org.contract(org.sales_a1, customer, "HT-0427", date(2027, 4, 27))  # a Tuesday
    expiry_rule(session, days=30)  # 30 days before: Sunday 28 March
    thursday, friday, saturday, sunday, monday = (date(2027, 3, d) for d in range(25, 30))
    assert created_on(session_factory, thursday, friday) == [0, 1]
    assert created_on(session_factory, saturday, sunday, monday) == [0, 0, 0]  # once only
    (instance,) = reminder_instances(session)
    assert instance.data["due_date"] == "2027-04-27"
    assert instance.data["message"] == "合同 HT-0427 将于 2027-04-27 到期，今天是 2027-03-26"
    (task,) = open_tasks_of(session, org.sales_a1)
    # Due at the end of work (18:00 in China) on the expiry day, a working day.
    assert task.due_at == datetime(2027, 4, 27, 10, tzinfo=UTC)
    fired = session.scalar(select(FiredReminder))
    assert (fired.occurrence, fired.fired_on) == (date(2027, 4, 27), friday)


def test_a_follow_up_about_a_day_off_is_due_on_the_working_day_before(
    session, session_factory, org
):
    customer = org.customer(org.sales_a1)
    org.contract(org.sales_a1, customer, "HT-0328", date(2027, 3, 28))  # ends on a Sunday
    expiry_rule(session, days=7)  # 7 days before: Sunday 21 March
    assert created_on(session_factory, date(2027, 3, 18), date(2027, 3, 19)) == [0, 1]
    (task,) = open_tasks_of(session, org.sales_a1)
    assert task.due_at == datetime(2027, 3, 26, 10, tzinfo=UTC)  # Friday 18:00, not Sunday


def test_the_administrators_calendar_changes_the_next_run(session, session_factory, org):
    customer = org.customer(org.sales_a1)
    org.contract(org.sales_a1, customer, "HT-0427", date(2027, 4, 27))
    expiry_rule(session, days=30)
    update_settings(
        session,
        None,
        {
            "calendar.extra_holidays": ["2027-03-26"],  # the company's own day off
            "calendar.work_hours": {"start": "08:30", "end": "17:30"},
        },
    )
    session.commit()
    assert created_on(session_factory, date(2027, 3, 24), date(2027, 3, 25)) == [0, 1]
    (task,) = open_tasks_of(session, org.sales_a1)
    assert task.due_at == datetime(2027, 4, 27, 9, 30, tzinfo=UTC)  # 17:30 in China


def test_a_reminder_after_a_date_waits_for_the_next_working_day(session, session_factory, org):
    customer = org.customer(org.sales_a1)
    order = org.order(org.sales_a1, customer, "SO-2027-009", "2027-02-20")
    org.create(
        "receivables", {"order_id": order.id, "due_on": "2027-03-17", "amount": "800"}, org.sales_a1
    )
    rule(
        session,
        kind="date_field",
        collection="receivables",
        date_field="due_on",
        days=3,
        timing="after",
        filters={"status": ["open", "partially_paid", "overdue"]},
    )
    # 3 days after Wednesday the 17th is Saturday: the reminder comes on Monday the 22nd,
    # never on Friday, when the payment is not yet 3 days late.
    friday, saturday, monday = date(2027, 3, 19), date(2027, 3, 20), date(2027, 3, 22)
    assert created_on(session_factory, friday, saturday, monday) == [0, 0, 1]
    (task,) = open_tasks_of(session, org.sales_a1)
    assert task.due_at == datetime(2027, 3, 22, 10, tzinfo=UTC)


def test_holiday_greetings_use_the_administrators_holiday_calendar(session, session_factory, org):
    grade_a = org.customer(org.sales_a1, name="甲级客户", grade="A")
    rule(session, kind="holiday", days=0, filters={"grade": ["A"]}, message={"zh": "{holiday}"})
    # The Spring Festival holidays of 2027 begin on Friday 5 February, a day off: the greeting
    # "on the day" comes on Thursday the 4th.
    assert created_on(session_factory, date(2027, 2, 3), date(2027, 2, 4)) == [0, 1]
    assert session.scalars(select(FiredReminder.occurrence)).all() == [date(2027, 2, 5)]
    assert reminder_instances(session)[0].data["message"].startswith("农历除夕")

    # Without a country's holidays there is nothing to greet for (Labour Day 2027 is 1 May).
    update_settings(session, None, {"calendar.holiday_country": "none"})
    session.commit()
    assert created_on(session_factory, date(2027, 4, 30), date(2027, 5, 1)) == [0, 0]
    update_settings(session, None, {"calendar.holiday_country": "CN"})
    session.commit()
    assert created_on(session_factory, date(2027, 5, 1)) == [1]  # caught up within the window
    fired = session.execute(select(FiredReminder.record_id, FiredReminder.occurrence)).all()
    assert sorted(map(tuple, fired)) == [
        (grade_a.id, date(2027, 2, 5)),
        (grade_a.id, date(2027, 5, 1)),
    ]
