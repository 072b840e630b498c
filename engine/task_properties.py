"""Weft's user-task conventions, read from a task spec's `spiffworkflow:properties`.

- `formKey`: the task form (a form definition pinned on the process version)
- `assignee`: a sandboxed expression giving a username or user id
- `dueIn`: a sandboxed expression (or bare ISO value) giving an ISO-8601 duration
- `priority`: 0-9
- `spiffworkflow:instructionsForEndUser`: text shown above the form
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from crm_domain.users import User

_BARE_ISO_DURATION = re.compile(
    r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$"
)


@dataclass
class TaskProperties:
    form_key: str | None
    assignee_id: int | None
    due_at: datetime | None
    priority: int
    instructions: str | None


def extensions_of(task_spec) -> dict:
    return getattr(task_spec, "extensions", None) or {}


def raw_properties(task_spec) -> dict:
    return extensions_of(task_spec).get("properties", {}) or {}


def form_key_of(task_spec) -> str | None:
    return raw_properties(task_spec).get("formKey") or None


def task_properties(session: Session, task, script_engine) -> TaskProperties:
    """Evaluate a ready user task's properties; a broken expression raises (→ incident)."""
    props = raw_properties(task.task_spec)
    return TaskProperties(
        form_key=props.get("formKey") or None,
        assignee_id=_assignee(session, task, script_engine, props.get("assignee")),
        due_at=_due_at(task, script_engine, props.get("dueIn")),
        priority=_priority(props.get("priority")),
        instructions=extensions_of(task.task_spec).get("instructionsForEndUser"),
    )


def _assignee(session: Session, task, script_engine, expression: str | None) -> int | None:
    if not expression:
        return None
    value = script_engine.evaluate(task, expression)
    if value in (None, ""):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return session.scalar(select(User.id).where(User.id == value, User.is_active))
    return session.scalar(select(User.id).where(User.username == str(value), User.is_active))


def _due_at(task, script_engine, expression: str | None) -> datetime | None:
    if not expression:
        return None
    text = expression.strip()
    value = text if _BARE_ISO_DURATION.match(text) else script_engine.evaluate(task, text)
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=clock.now().tzinfo)
    from engine.runtime import due_in

    value = str(value)
    if value.upper().startswith("P"):
        return clock.now() + due_in(value)
    return clock.parse_instant(value)


def _priority(value: str | None) -> int:
    try:
        return max(0, min(9, int(value))) if value is not None else 0
    except ValueError:
        return 0
