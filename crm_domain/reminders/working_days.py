"""Reminders on working days: the working calendar of the system settings moves each firing
day that is not a working day, and sets when the follow-up task is due.

- A reminder ahead of a date ("30 days before expiry", holiday greetings) that would fire on a
  day off fires on the working day before, so people still get their lead time: a Sunday
  becomes the Friday before, the first day of a Golden Week the last working day before it.
- A reminder of something that has happened ("3 days after the due date", "no contact for 30
  days") fires on the next working day instead: the day before, it is not yet true.
- The follow-up task is due at the end of work (`calendar.work_hours`) on the last working day
  on or before the date reminded about, and never before the reminder fires.

The key of a fired reminder is its occurrence (the date reminded about), not its firing day, so a
calendar change never repeats a reminder; one moved into the past fires on the next run (within
the catch-up window).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy.orm import Session

from crm_domain.reminders.models import ReminderRule
from crm_domain.reminders.sources import Occurrence, occurrences
from crm_domain.settings import WorkingCalendar, working_calendar

ONE_DAY = timedelta(days=1)


def fires_earlier(rule: ReminderRule) -> bool:
    """Whether a firing day off moves back (reminders ahead of a date) or forward."""
    return rule.kind == "holiday" or (rule.kind == "date_field" and rule.timing == "before")


def working_day_occurrences(
    session: Session, rule: ReminderRule, first: date, last: date
) -> list[Occurrence]:
    """Every occurrence of the rule whose firing day, moved onto a working day, is within
    [first, last], with that firing day and the follow-up's due time."""
    calendar = working_calendar(session)
    earlier = fires_earlier(rule)
    # Days off next to the window hold occurrences that move into it.
    if earlier:
        low, high = first, calendar.on_or_after(last + ONE_DAY) - ONE_DAY
    else:
        low, high = calendar.on_or_before(first - ONE_DAY) + ONE_DAY, last
    moved = [_on_working_days(calendar, o, earlier) for o in occurrences(session, rule, low, high)]
    found = [o for o in moved if first <= o.fire_on <= last]
    return sorted(found, key=lambda o: (o.fire_on, o.record_id))


def _on_working_days(calendar: WorkingCalendar, found: Occurrence, earlier: bool) -> Occurrence:
    fire_on = (calendar.on_or_before if earlier else calendar.on_or_after)(found.fire_on)
    due_on = max(calendar.on_or_before(max(found.occurrence, fire_on)), fire_on)
    return replace(found, fire_on=fire_on, due_at=calendar.closing_time(due_on))
