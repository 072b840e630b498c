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


def rules_by_segment(session: Session) -> dict[int, list[ReminderRule]]:
    """Segment id -> every rule, active or not, that targets it (a switched-off rule may be
    switched on again, so it counts too), in one read: rules are few, so read them all rather
    than query inside JSON, which SQLite and PostgreSQL spell differently. A page listing many
    segments asks this once instead of `rules_using_segment` per segment."""
    grouped: dict[int, list[ReminderRule]] = {}
    for rule in session.scalars(select(ReminderRule).order_by(ReminderRule.id)):
        segment_id = segment_of(rule.filters)
        if segment_id is not None:
            grouped.setdefault(segment_id, []).append(rule)
    return grouped


def rules_using_segment(session: Session, segment_id: int) -> list[ReminderRule]:
    """Every rule, active or not, that targets the segment."""
    return rules_by_segment(session).get(segment_id, [])
