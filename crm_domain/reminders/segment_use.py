"""Which reminder rules target a saved customer segment (their `filters.segment`).

Kept apart from the rule services so the segment services can ask it before deleting a
segment without importing the reminder machinery (which itself evaluates segments).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_domain.reminders.models import ReminderRule

SEGMENT_FILTER = "segment"


def segment_of(filters: dict | None) -> int | None:
    """The segment id a rule's filters target, if any."""
    value = (filters or {}).get(SEGMENT_FILTER)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def rules_using_segment(session: Session, segment_id: int) -> list[ReminderRule]:
    """Every rule, active or not, that targets the segment (a switched-off rule may be
    switched on again, so it counts too). Rules are few: read them all rather than query
    inside JSON, which SQLite and PostgreSQL spell differently."""
    rules = session.scalars(select(ReminderRule).order_by(ReminderRule.id))
    return [rule for rule in rules if segment_of(rule.filters) == segment_id]
