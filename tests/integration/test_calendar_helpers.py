"""The settings-following helpers in scripts: the working calendar (`add_working_hours`,
`add_working_days`, `is_working_day`) and `round_quantity`, read as of the step that runs."""

from __future__ import annotations

from datetime import UTC, datetime

from core import clock
from tests.support.bpmn import linear_process, script_task

FRIDAY_5PM_CHINA = datetime(2026, 11, 27, 9, tzinfo=UTC)


def deploy(designer, pid, script):
    response = designer.upload((f"{pid}.bpmn", linear_process(pid, script_task("run", script))))
    assert response.status_code == 201, response.get_json()


def run(api, key) -> dict:
    with clock.frozen_at(FRIDAY_5PM_CHINA):
        response = api.post("/api/v1/process-instances", json={"process_key": key, "data": {}})
    assert response.status_code == 201, response.get_json()
    return api.get(f"/api/v1/process-instances/{response.get_json()['id']}").get_json()


def test_scripts_count_working_hours_and_days_of_the_configured_calendar(designer, api_as):
    deploy(
        designer,
        "calendar",
        "due = add_working_hours(now(), 8)\n"
        'due_china = add_working_hours("2026-11-27T17:00:00+08:00", 8)\n'
        'after_golden_week = add_working_days("2026-09-30", 1)\n'
        'make_up_saturday = is_working_day("2026-10-10")\n'
        "quantity = round_quantity(12.34567)\n"
        "quantity_2 = round_quantity(12.34567, 2)",
    )
    sales = api_as("salesperson")
    body = run(sales, "calendar")
    assert body["status"] == "completed", body["incidents"]
    data = body["data"]
    assert data["due"] == "2026-11-30T08:00:00+00:00"  # Monday 16:00 in China, kept in UTC
    assert data["due_china"] == "2026-11-30T16:00:00+08:00"
    assert data["after_golden_week"] == "2026-10-08"
    assert data["make_up_saturday"] is True
    assert (data["quantity"], data["quantity_2"]) == (12.346, 12.35)

    admin = api_as("admin")
    changed = admin.patch(
        "/api/v1/admin/settings",
        json={"calendar.extra_workdays": ["2026-11-28"], "quantity.decimal_places": 0},
    )
    assert changed.status_code == 200, changed.get_json()
    data = run(sales, "calendar")["data"]  # the next instance follows the change
    assert data["due"] == "2026-11-28T08:00:00+00:00"  # Saturday is a working day now
    assert data["quantity"] == 12.0


def test_an_instant_counts_on_the_china_calendar_day(designer, api_as):
    # Monday 07:00 in China is still Sunday in UTC: the working calendar's day is Monday.
    deploy(
        designer,
        "early_monday",
        "working_now = is_working_day(now())\n"
        "next_day = add_working_days(now(), 1)\n"
        'written_out = is_working_day("2026-11-29T23:00:00Z")\n'
        'naive = add_working_days("2026-11-29T23:00:00", 0)\n'
        'plain_sunday = is_working_day("2026-11-29")\n'
        "plain_date = add_working_days(today(), 0)",
    )
    sales = api_as("salesperson")
    with clock.frozen_at(datetime(2026, 11, 29, 23, tzinfo=UTC)):
        response = sales.post(
            "/api/v1/process-instances", json={"process_key": "early_monday", "data": {}}
        )
    assert response.status_code == 201, response.get_json()
    body = sales.get(f"/api/v1/process-instances/{response.get_json()['id']}").get_json()
    assert body["status"] == "completed", body["incidents"]
    data = body["data"]
    assert (data["working_now"], data["written_out"]) == (True, True)
    assert (data["next_day"], data["naive"]) == ("2026-12-01", "2026-11-30")
    # A plain date is the day it names; today() is China's date, already Monday here.
    assert (data["plain_sunday"], data["plain_date"]) == (False, "2026-11-30")


def test_a_count_of_working_days_beyond_ten_years_is_a_readable_incident(designer, api_as):
    deploy(designer, "far_days", "due = add_working_days(today(), 10**9)")
    body = run(api_as("salesperson"), "far_days")
    # Refused by its range check before counting (a count would end as a budget incident).
    assert body["status"] == "error"
    assert "days must be from -3660 to 3660" in body["incidents"][0]["message"]


def test_bad_arguments_become_a_readable_incident(designer, api_as):
    deploy(designer, "bad_calendar", 'due = add_working_hours("next week", 8)')
    body = run(api_as("salesperson"), "bad_calendar")
    assert body["status"] == "error"
    assert "Expected an ISO date-time" in body["incidents"][0]["message"]
    deploy(designer, "bad_hours", 'due = add_working_hours(now(), "many")')
    body = run(api_as("salesperson"), "bad_hours")
    assert body["status"] == "error"
    assert "hours must be a number" in body["incidents"][0]["message"]


def test_a_naive_datetime_is_the_same_day_to_every_date_helper():
    """A naive datetime is read as ISO text without an offset is (UTC), by the script helpers
    and the working-day helpers alike (core.clock.business_date): 20:00 UTC on a Friday is
    already Saturday in China."""
    from datetime import datetime

    from core.clock import business_date
    from engine.sandbox.helpers import add_days

    friday_evening_utc = datetime(2027, 3, 5, 20, 0)
    assert add_days(friday_evening_utc, 0) == add_days("2027-03-05T20:00:00", 0) == "2027-03-06"
    assert business_date(friday_evening_utc) == business_date(
        datetime.fromisoformat("2027-03-05T20:00:00+00:00")
    )
