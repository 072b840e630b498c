"""Rule evaluation: which reminders are due in a window of days, and what each one says.

Pure reads; the engine's job (engine/reminders.py) turns each planned reminder into a process
instance plus notifications, and the preview endpoint shows the same plans without writing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import business_today
from crm_domain.analytics.models import Segment
from crm_domain.analytics.segments import count_customers
from crm_domain.collections import get_collection, subject_type_of
from crm_domain.customers import Customer
from crm_domain.reminders import catalog
from crm_domain.reminders.models import FiredReminder, ReminderRule
from crm_domain.reminders.recipients import RecipientFinder
from crm_domain.reminders.segment_use import segment_of
from crm_domain.reminders.sources import Occurrence, segment_customer_ids
from crm_domain.reminders.templates import record_values, render
from crm_domain.reminders.working_days import working_day_occurrences
from crm_domain.users import User

# How many days back a run still creates reminders it missed (downtime, a stopped scheduler).
CATCH_UP_DAYS = 7


@dataclass
class PlannedReminder:
    rule: ReminderRule
    occurrence: Occurrence
    record: Any
    recipients: list[User]
    title: str
    messages: dict[str, str]
    due_at: datetime
    already_fired: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def body(self) -> str:
        return "\n".join(self.messages[lang] for lang in ("zh", "en") if lang in self.messages)

    def summary(self) -> dict[str, Any]:
        """The plan as the preview endpoint shows it."""
        return {
            "rule_id": self.rule.id,
            "collection": self.rule.collection,
            "record_id": self.occurrence.record_id,
            "occurrence": self.occurrence.occurrence.isoformat(),
            "fires_on": self.occurrence.fire_on.isoformat(),
            "recipients": [{"id": u.id, "username": u.username} for u in self.recipients],
            "title": self.title,
            "message": self.messages,
            "already_fired": self.already_fired,
        }


def catch_up_window(today: date | None = None) -> tuple[date, date]:
    today = today or business_today()
    return today - timedelta(days=CATCH_UP_DAYS), today


def fired_keys(session: Session, rule_id: int, first: date, last: date) -> set[tuple[int, date]]:
    """(record id, occurrence) pairs the rule already fired for occurrences near the window."""
    margin = timedelta(days=400)  # occurrences lie up to a year around the firing days
    rows = session.execute(
        select(FiredReminder.record_id, FiredReminder.occurrence).where(
            FiredReminder.rule_id == rule_id,
            FiredReminder.occurrence.between(first - margin, last + margin),
        )
    )
    return {(record_id, occurrence) for record_id, occurrence in rows}


def due_occurrences(
    session: Session, rule: ReminderRule, first: date, last: date, include_fired: bool = False
) -> list[Occurrence]:
    found = working_day_occurrences(session, rule, first, last)
    if include_fired:
        return found
    done = fired_keys(session, rule.id, first, last)
    return [o for o in found if (o.record_id, o.occurrence) not in done]


def plan(
    session: Session, finder: RecipientFinder, rule: ReminderRule, occurrence: Occurrence
) -> PlannedReminder | None:
    """What one reminder says and to whom; None if its record is gone."""
    collection = get_collection(rule.collection)
    record = session.get(collection.model, occurrence.record_id)
    if record is None:
        return None
    values = message_values(session, rule, occurrence, record)
    messages = {lang: render(text, values) for lang, text in (rule.message or {}).items()}
    return PlannedReminder(
        rule=rule,
        occurrence=occurrence,
        record=record,
        recipients=finder.recipients(rule, record),
        title=rule.name,
        messages=messages,
        due_at=occurrence.due_at,  # set by working_day_occurrences (due_occurrences)
    )


def message_values(
    session: Session, rule: ReminderRule, occurrence: Occurrence, record
) -> dict[str, Any]:
    collection = get_collection(rule.collection)
    values = record_values(
        subject_type_of(rule.collection), record, catalog.plain_columns(collection)
    )
    if catalog.has_customer(collection) and getattr(record, "customer_id", None):
        customer = session.get(Customer, record.customer_id)
        if customer is not None:
            values.update(
                record_values(
                    "customer", customer, catalog.plain_columns(get_collection("customers"))
                )
            )
    owner = session.get(User, record.owner_id) if getattr(record, "owner_id", None) else None
    values.update(
        {
            "due_date": occurrence.occurrence,
            "date": occurrence.fire_on,
            "today": business_today(),
            "days": rule.days,
            "holiday": occurrence.holiday or "",
            "rule.name": rule.name,
            "owner.name": owner.display_name if owner else "",
        }
    )
    return values


def preview(session: Session, rule: ReminderRule, days: int, limit: int = 200) -> dict[str, Any]:
    """What the rule would fire from today through the next `days` days, as it stands now."""
    today = business_today()
    last = today + timedelta(days=days)
    found = due_occurrences(session, rule, today, last, include_fired=True)
    done = fired_keys(session, rule.id, today, last)
    finder = RecipientFinder(session)
    items = []
    for occurrence in found[:limit]:
        planned = plan(session, finder, rule, occurrence)
        if planned is not None:
            planned.already_fired = (occurrence.record_id, occurrence.occurrence) in done
            items.append(planned.summary())
    return {
        "rule_id": rule.id,
        "from": today.isoformat(),
        "to": last.isoformat(),
        "total": len(found),
        "items": items,
        "segment": _segment_summary(session, rule),
    }


def _segment_summary(session: Session, rule: ReminderRule) -> dict[str, Any] | None:
    """The segment the rule targets, with how many customers it picks company-wide now."""
    segment_id = segment_of(rule.filters)
    segment = session.get(Segment, segment_id) if segment_id else None
    if segment is None:
        return None
    customers = count_customers(session, segment_customer_ids(session, segment.id))
    return {"id": segment.id, "name": segment.name, "customers": customers}
