"""Working hours of the working calendar (settings calendar.*): SLA-style deadlines skip
nights, weekends and public holidays, count make-up days (调休), keep the caller's time zone,
and follow an administrator's change on the very next computation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from core import clock
from crm_domain.settings import add_working_hours

CHINA = timezone(timedelta(hours=8))
SETTINGS_URL = "/api/v1/admin/settings"


def china(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA)


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        # Friday 17:00 + 8 h: one hour on Friday, seven on Monday (not Saturday).
        (china(2026, 11, 27, 17), 8, china(2026, 11, 30, 16)),
        # Friday before National Day 2025, 17:00: Sunday 28 September is a make-up working day.
        (china(2025, 9, 26, 17), 8, china(2025, 9, 28, 16)),
        # The last working day before National Day 2026: the Golden Week (1–7 Oct) is skipped.
        (china(2026, 9, 30, 17), 8, china(2026, 10, 8, 16)),
        # ... and with 26 hours the deadline reaches the make-up Saturday, 10 October.
        (china(2026, 9, 30, 17), 26, china(2026, 10, 10, 16)),
        # One working day (9 h, the high-priority SLA) from Friday 17:00 is Monday 17:00; over
        # National Day 2025 it ends on the make-up Sunday, over the Golden Week 2026 on the 8th.
        (china(2026, 11, 27, 17), 9, china(2026, 11, 30, 17)),
        (china(2025, 9, 26, 17), 9, china(2025, 9, 28, 17)),
        (china(2026, 9, 30, 17), 9, china(2026, 10, 8, 17)),
        # Before work begins, counting starts at 09:00; a day used up exactly ends at 18:00.
        (china(2026, 12, 1, 7, 30), 9, china(2026, 12, 1, 18)),
        # After work, counting starts the next working morning.
        (china(2026, 12, 1, 20), 2, china(2026, 12, 2, 11)),
        (china(2026, 12, 1, 10), 0.5, china(2026, 12, 1, 10, 30)),
        (china(2026, 12, 5, 10), 0, china(2026, 12, 5, 10)),  # nothing to add: as given
    ],
)
def test_working_hours_skip_nights_weekends_and_holidays(session, start, hours, due):
    assert add_working_hours(session, start, hours) == due


def test_the_result_keeps_the_time_zone_it_was_given(session):
    friday_five_pm_utc = datetime(2026, 11, 27, 9, tzinfo=UTC)  # 17:00 in China
    due = add_working_hours(session, friday_five_pm_utc, 8)
    assert due == datetime(2026, 11, 30, 8, tzinfo=UTC) and due.tzinfo is UTC
    assert due.isoformat() == "2026-11-30T08:00:00+00:00"
    in_china = add_working_hours(session, china(2026, 11, 27, 17), 8)
    assert in_china.isoformat() == "2026-11-30T16:00:00+08:00"


def test_a_naive_start_or_negative_hours_are_refused(session):
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_hours(session, datetime(2026, 11, 27, 17), 8)
    with pytest.raises(ValueError, match="negative"):
        add_working_hours(session, china(2026, 11, 27, 17), -1)


def test_an_administrators_change_applies_to_the_next_computation(api_as, session):
    start = china(2026, 11, 27, 17)  # a Friday
    assert add_working_hours(session, start, 8) == china(2026, 11, 30, 16)  # warms the cache
    admin = api_as("admin")

    def change(values: dict) -> None:
        response = admin.patch(SETTINGS_URL, json=values)
        assert response.status_code == 200, response.get_json()

    change({"calendar.work_hours": {"start": "08:30", "end": "17:30"}})
    # 30 minutes on Friday, 7.5 hours from Monday 08:30.
    assert add_working_hours(session, start, 8) == china(2026, 11, 30, 16)
    assert add_working_hours(session, start, 9.5) == china(2026, 11, 30, 17, 30)  # Monday full
    assert add_working_hours(session, start, 10) == china(2026, 12, 1, 9)
    change({"calendar.work_hours": None, "calendar.extra_holidays": ["2026-11-30"]})
    assert add_working_hours(session, start, 8) == china(2026, 12, 1, 16)  # Monday off
    change({"calendar.extra_workdays": ["2026-11-28"]})
    assert add_working_hours(session, start, 8) == china(2026, 11, 28, 16)  # Saturday at work
    change({"calendar.work_days": [1, 2, 3, 4, 5, 6, 7], "calendar.extra_workdays": None})
    assert add_working_hours(session, start, 8) == china(2026, 11, 28, 16)  # a 7-day week
    change({"calendar.work_days": None, "calendar.extra_holidays": None})
    national_day_eve = china(2026, 9, 30, 17)
    assert add_working_hours(session, national_day_eve, 8) == china(2026, 10, 8, 16)
    change({"calendar.holiday_country": "none"})
    assert add_working_hours(session, national_day_eve, 8) == china(2026, 10, 1, 16)


@pytest.mark.parametrize(
    ("priority", "due"),
    [
        # Counting starts Monday 30 November 09:00 (China), not on Friday night or Saturday.
        ("urgent", "2026-11-30T05:00:00+00:00"),  # 4 working hours: Monday 13:00
        ("high", "2026-11-30T10:00:00+00:00"),  # 9, one working day: Monday 18:00
        ("normal", "2026-12-02T10:00:00+00:00"),  # 27, three working days: Wednesday 18:00
        ("low", "2026-12-04T10:00:00+00:00"),  # 45, five working days: Friday 18:00
    ],
)
def test_a_service_request_without_a_deadline_gets_working_hours_from_its_priority(
    company, priority, due
):
    customer = company.sales_a1.post("/api/v1/customers", json={"name": "杭州丝绸"}).get_json()
    friday_evening = datetime(2026, 11, 27, 12, tzinfo=UTC)  # 20:00 in China
    with clock.frozen_at(friday_evening):
        response = company.service_a1.post(
            "/api/v1/service-requests",
            json={"customer_id": customer["id"], "subject": "色差", "priority": priority},
        )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["sla_due_at"] == due
